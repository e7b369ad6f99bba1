"""How a rewrite looks in chat: the scores, the fact guard's warnings, then the text itself.

The rewrite came from a model, so it is treated like user text: HTML-escaped. The message
always fits one Telegram message; a rewrite too long for it is cut, and the user told so.
"""

from __future__ import annotations

from bot.rewrite.service import SuggestedRewrite
from bot.texts.catalog import Texts
from bot.transport.replies import MESSAGE_LIMIT

# Shown facts are capped too: a model that invents forty figures needs no full list.
MAX_FACTS_SHOWN = 12
MAX_FACT_CHARS = 80


def _cut(text: str, length: int) -> str:
    if length <= 0:
        return ""
    cut = text[:length]
    space = cut.rfind(" ")
    return (cut[:space] if space > length // 2 else cut).rstrip() + "…"


def render_rewrite(texts: Texts, lang: str, suggested: SuggestedRewrite) -> str:
    """The rewrite with its verdict, as one HTML message of at most 4,096 characters."""
    review = suggested.review
    head = [
        texts.render(
            lang, "rewrite.title", platform=texts.raw(lang, f"platforms.{review.platform}")
        ),
        texts.render(
            lang,
            "rewrite.scores",
            score=review.score,
            draft_score=suggested.draft_score,
            delta=f"{suggested.delta:+d}",
        ),
    ]
    if suggested.lower:
        head.append(texts.render(lang, "rewrite.lower"))
    if suggested.new_facts:
        shown = [
            _cut(fact.text, MAX_FACT_CHARS) if len(fact.text) > MAX_FACT_CHARS else fact.text
            for fact in suggested.new_facts[:MAX_FACTS_SHOWN]
        ]
        if len(suggested.new_facts) > MAX_FACTS_SHOWN:
            shown.append("…")
        head.append(texts.render(lang, "rewrite.facts", facts=", ".join(shown)))
    else:
        head.append(texts.render(lang, "rewrite.facts_none"))
    failing = [
        texts.raw(lang, f"items.{item.id}") for item in review.items if item.status == "fail"
    ]
    if failing:
        head.append(texts.render(lang, "rewrite.still_failing", items=", ".join(failing)))
    footer = texts.render(lang, "rewrite.footer", remaining=suggested.remaining)

    def message(body: str, note: str | None = None) -> str:
        parts = ["\n".join(head), texts.render(lang, "rewrite.body", text=body)]
        if note:
            parts.append(note)
        return "\n\n".join([*parts, footer])

    full = message(suggested.text)
    if len(full) <= MESSAGE_LIMIT:
        return full
    note = texts.render(lang, "rewrite.truncated")
    # Escaping lengthens the text unevenly: find the longest cut that fits by bisection.
    low, high = 0, len(suggested.text)
    while low < high:
        middle = (low + high + 1) // 2
        if len(message(_cut(suggested.text, middle), note)) <= MESSAGE_LIMIT:
            low = middle
        else:
            high = middle - 1
    return message(_cut(suggested.text, low), note)
