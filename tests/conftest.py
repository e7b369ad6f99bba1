"""Shared fixtures: a migrated database per test and the loaded texts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.texts import Texts, load_texts
from storage.database import create_engine
from storage.migrate import upgrade_engine


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A fresh SQLite database file for one test."""
    return f"sqlite+aiosqlite:///{tmp_path / 'postcoach.sqlite3'}"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fully migrated database."""
    engine = create_engine(database_url)
    await upgrade_engine(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def texts() -> Texts:
    """The shipped texts."""
    return load_texts("it")
