"""Splitting long replies within Telegram's 4,096-character limit."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.transport.replies import MESSAGE_LIMIT, split_message


def test_short_text_is_one_part() -> None:
    assert split_message("ciao") == ["ciao"]


def test_long_text_splits_at_line_breaks() -> None:
    lines = [f"<b>riga {n}</b> " + "x" * 90 for n in range(200)]
    parts = split_message("\n".join(lines))
    assert len(parts) > 1
    assert all(len(part) <= MESSAGE_LIMIT for part in parts)
    assert "\n".join(parts) == "\n".join(lines)
    assert all(part.count("<b>") == part.count("</b>") for part in parts)


def test_single_long_line_is_cut_at_a_space() -> None:
    text = " ".join(["parola"] * 2000)
    parts = split_message(text, limit=500)
    assert all(len(part) <= 500 for part in parts)
    assert all(not part.startswith(" ") for part in parts)
    assert " ".join(parts).split() == text.split()


def test_entity_is_never_cut() -> None:
    text = ("a" * 95 + "&amp;") * 10
    parts = split_message(text, limit=98)
    assert all(part.count("&") == part.count("&amp;") for part in parts)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=10_000))
def test_any_text_splits_within_the_limit(text: str) -> None:
    parts = split_message(text)
    assert all(len(part) <= MESSAGE_LIMIT for part in parts)
