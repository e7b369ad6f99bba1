"""Properties of the checklist over arbitrary text (hypothesis): it never breaks."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.coach import ITEM_IDS, PLATFORMS, Checklist, load_checklist, weighted_length

# Pieces that reach the interesting paths: links, tags, emoji sequences, RTL and
# control characters, shouting, repeated punctuation, Italian and English words.
PIECES = [
    "#tag",
    "#1",
    "@user",
    "https://example.com/a?b=1",
    "www.example.it",
    "example.com",
    "🔥",
    "👨‍👩‍👧",
    "👍🏽",
    "1️⃣",
    "🇮🇹",
    "\u202e",
    "\u200d",
    "\x00",
    "\r\n",
    "\n\n",
    "CIAO",
    "!!!",
    "?",
    "…",
    "l'acqua",
    "don't",
    "secondo me",
    "metti like se",
    "Buongiorno",
    "日本語",
    "مرحبا",
]

social_text = st.lists(st.sampled_from(PIECES) | st.text(max_size=40), max_size=60).map(" ".join)
any_text = st.text(max_size=10_000) | social_text

_CHECKLIST: list[Checklist] = []


def _checklist() -> Checklist:
    # Loaded once per process; hypothesis calls the test many times.
    if not _CHECKLIST:
        _CHECKLIST.append(load_checklist())
    return _CHECKLIST[0]


@pytest.fixture(scope="module", autouse=True)
def _loaded() -> None:
    _checklist()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=any_text,
    platform=st.sampled_from(PLATFORMS),
    reply_language=st.sampled_from(["it", "en"]),
    topics=st.lists(st.text(max_size=20), max_size=3),
)
def test_any_text_gives_a_complete_json_review(
    text: str, platform: str, reply_language: str, topics: list[str]
) -> None:
    review = _checklist().review(
        text, platform=platform, reply_language=reply_language, topics=topics
    )
    data = review.to_dict()
    assert [item["id"] for item in data["items"]] == list(ITEM_IDS)
    assert json.loads(json.dumps(data)) == data
    assert 0 <= review.score <= 100
    assert review.language in ("it", "en")
    assert len(review.top_fixes) <= 3
    assert all(review.item(item_id).status in ("warn", "fail") for item_id in review.top_fixes)
    assert all("\n" not in item.reason and item.reason for item in review.items)


@settings(max_examples=200, deadline=None)
@given(text=any_text)
def test_x_weighted_length_is_never_negative_and_plain_ascii_counts_one_each(text: str) -> None:
    assert weighted_length(text, "x") >= 0
    plain = "".join(char for char in text if char.isascii() and char.isalpha()) or "a"
    assert weighted_length(plain, "x") == len(plain)


def test_ten_thousand_characters_from_every_plane_never_raise() -> None:
    # Hypothesis rarely builds texts this long; a seeded one covers the size limit.
    rng = random.Random(20240611)
    planes = [(0x20, 0x7E), (0xA0, 0x24F), (0x590, 0x6FF), (0x2000, 0x2BFF), (0x1F300, 0x1FAFF)]
    chars: list[str] = []
    while len(chars) < 10_000:
        low, high = rng.choice(planes)
        chars.append(chr(rng.randint(low, high)))
        if rng.random() < 0.1:
            chars.append(rng.choice(PIECES))
    text = "".join(chars)[:10_000]
    for platform in PLATFORMS:
        review = _checklist().review(text, platform=platform, topics=["BIM"])
        assert json.dumps(review.to_dict())
        assert 0 <= review.score <= 100
