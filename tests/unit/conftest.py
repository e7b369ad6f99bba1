"""Fixtures the unit tests of the checklist share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.coach import Checklist, Review, load_checklist


@pytest.fixture(scope="session")
def packaged_checklist() -> Checklist:
    """The packaged checklist, loaded once per test process."""
    return load_checklist()


@pytest.fixture
def review(packaged_checklist: Checklist) -> Callable[..., Review]:
    """Review a draft with English replies unless told otherwise."""

    def run(text: str, **options: Any) -> Review:
        options.setdefault("reply_language", "en")
        return packaged_checklist.review(text, **options)

    return run
