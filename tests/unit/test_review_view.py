"""The review as the user sees it in chat: always within one Telegram message."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.coach import PLATFORMS, Checklist, load_checklist
from bot.reviews.service import Comparison, ItemChange, StoredReview
from bot.reviews.view import render_review, review_keyboard
from bot.texts.catalog import Texts, load_texts
from bot.transport.replies import MESSAGE_LIMIT, split_message
from tests.fakebot import parse_html

CHECKLIST: Checklist = load_checklist()
TEXTS: Texts = load_texts("it")


def _stored(text: str, platform: str = "linkedin", lang: str = "it") -> StoredReview:
    review = CHECKLIST.review(text, platform=platform, reply_language=lang)
    return StoredReview(review_id=123456789012, draft_id=1, user_id=1, version=1, review=review)


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(max_size=10_000),
    platform=st.sampled_from(PLATFORMS),
    lang=st.sampled_from(("it", "en")),
    details=st.booleans(),
)
def test_any_draft_renders_within_one_message_of_valid_html(
    text: str, platform: str, lang: str, details: bool
) -> None:
    rendered = render_review(TEXTS, lang, _stored(text, platform, lang), details=details)
    parsed = parse_html(rendered)  # raises on HTML Telegram would refuse
    assert len(parsed.text) <= MESSAGE_LIMIT
    assert all(len(part) <= MESSAGE_LIMIT for part in split_message(rendered))


def test_worst_case_quotes_are_shortened_to_fit() -> None:
    draft = " ".join(["<&>ACRONIMO"] * 900)[:10_000]
    rendered = render_review(TEXTS, "it", _stored(draft), details=True)
    assert len(parse_html(rendered).text) <= MESSAGE_LIMIT


def test_callback_data_fits_telegram_limit() -> None:
    keyboard = review_keyboard(TEXTS, "en", _stored("Hello"), details=True)
    for row in keyboard.inline_keyboard:
        for button in row:
            assert len(str(button.callback_data).encode()) <= 64


def test_version_line_shows_delta_and_changes() -> None:
    stored = _stored("Secondo me conviene. Voi che ne pensate?")
    revised = StoredReview(
        review_id=2,
        draft_id=2,
        user_id=1,
        version=2,
        review=stored.review,
        comparison=Comparison(40, 12, (ItemChange("hook", "fail", "pass"),)),
    )
    rendered = parse_html(render_review(TEXTS, "it", revised)).text
    assert "Versione 2: +12 punti rispetto alla precedente (40/100)." in rendered
    assert "Prima riga ❌→✅" in rendered


@pytest.mark.parametrize(
    ("lang", "words"),
    [("it", "dall'articolo sugli ingegneri e i social"), ("en", "from the article on")],
)
def test_details_say_where_advice_comes_from_in_words(lang: str, words: str) -> None:
    draft = "Ecco il nostro nuovo servizio. Contattateci." if lang == "it" else "Our new service."
    stored = _stored(draft, lang=lang)
    short = render_review(TEXTS, lang, stored, details=False)
    detailed = render_review(TEXTS, lang, stored, details=True)
    assert not re.search(r"\b(ING|VAL)\b", detailed)
    assert words in html.unescape(detailed)
    # The short review carries no sources at all.
    assert "articol" not in short


def test_top_fixes_heading_follows_their_count() -> None:
    stored = _stored("Ecco il nostro nuovo servizio. Contattateci.")
    count = len(stored.review.top_fixes)
    rendered = render_review(TEXTS, "it", stored, details=False)
    expected = {1: "La correzione che conta", 2: "Le due correzioni", 3: "Le tre correzioni"}
    assert expected[count] in rendered
