"""A rewrite as the user sees it: escaped, with its verdict, always within one message."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.coach import Checklist, load_checklist
from bot.reviews.service import StoredReview
from bot.reviews.view import review_keyboard
from bot.rewrite.facts import Fact, new_facts
from bot.rewrite.service import SuggestedRewrite
from bot.rewrite.view import MAX_FACTS_SHOWN, render_rewrite
from bot.texts.catalog import Texts, load_texts
from bot.transport.replies import MESSAGE_LIMIT
from tests.fakebot import parse_html

CHECKLIST: Checklist = load_checklist()
TEXTS: Texts = load_texts("it")
DRAFT = "Abbiamo ridotto del 30% i consumi di una scuola a Modena. Voi che ne pensate?"


def _suggested(text: str, draft_score: int = 50, lang: str = "it") -> SuggestedRewrite:
    return SuggestedRewrite(
        text=text,
        review=CHECKLIST.review(text, reply_language=lang),
        draft_score=draft_score,
        new_facts=new_facts(DRAFT, text),
        remaining=3,
    )


@settings(max_examples=100, deadline=None)
@given(text=st.text(min_size=1, max_size=10_000), lang=st.sampled_from(("it", "en")))
def test_any_rewrite_renders_within_one_message_of_valid_html(text: str, lang: str) -> None:
    rendered = render_rewrite(TEXTS, lang, _suggested(text, lang=lang))
    parsed = parse_html(rendered)  # raises on HTML Telegram would refuse
    assert len(parsed.text) <= MESSAGE_LIMIT
    assert len(rendered) <= MESSAGE_LIMIT


def test_a_rewrite_too_long_for_one_message_is_cut_and_says_so() -> None:
    text = " ".join(["<&>parola"] * 1500)
    rendered = render_rewrite(TEXTS, "it", _suggested(text))
    assert len(rendered) <= MESSAGE_LIMIT
    assert "la riscrittura si interrompe qui" in rendered
    assert "…</blockquote>" in rendered
    assert "Riscritture rimaste oggi: 3" in rendered


def test_a_short_rewrite_is_whole_and_escaped() -> None:
    rendered = render_rewrite(TEXTS, "en", _suggested("We <b>cut</b> 30% & more at Modena."))
    assert "<blockquote>We &lt;b&gt;cut&lt;/b&gt; 30% &amp; more at Modena.</blockquote>" in (
        rendered
    )
    assert "cut here" not in rendered
    assert "No figures, names or links" in rendered


def test_lower_score_and_new_facts_are_said() -> None:
    suggested = _suggested("Metti like se sei d'accordo!!! Lo dice Mario Rossi.", draft_score=90)
    rendered = render_rewrite(TEXTS, "it", suggested)
    assert suggested.lower
    assert "più basso della tua bozza" in rendered
    assert "potrebbe averli inventati: Mario Rossi." in rendered
    assert "Ancora da correggere:" in rendered


def test_a_flood_of_new_facts_is_capped() -> None:
    facts = tuple(Fact("number", str(n)) for n in range(100, 140))
    suggested = SuggestedRewrite(
        text="Numeri.",
        review=CHECKLIST.review("Numeri."),
        draft_score=10,
        new_facts=facts,
        remaining=0,
    )
    rendered = render_rewrite(TEXTS, "it", suggested)
    assert f"{100 + MAX_FACTS_SHOWN - 1}, …" in rendered
    assert str(100 + MAX_FACTS_SHOWN) not in rendered


def _stored() -> StoredReview:
    review = CHECKLIST.review("Hello", reply_language="en")
    return StoredReview(review_id=123456789012, draft_id=1, user_id=1, version=1, review=review)


def test_review_keyboard_offers_a_rewrite_only_when_asked() -> None:
    def data(rewrite: bool) -> list[str]:
        keyboard = review_keyboard(TEXTS, "en", _stored(), rewrite=rewrite)
        return [str(b.callback_data) for row in keyboard.inline_keyboard for b in row]

    assert "review.rewrite:123456789012" in data(True)
    assert not any(d.startswith("review.rewrite:") for d in data(False))
    assert all(len(d.encode()) <= 64 for d in data(True))
