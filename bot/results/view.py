"""How a results question looks in chat: its text and its quick-answer buttons."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.results.service import QUICK_VALUES, ResultsQuestion
from bot.texts.catalog import Texts


def question_text(texts: Texts, lang: str, question: ResultsQuestion) -> str:
    """The first question about a post: its reactions."""
    return texts.render(
        lang,
        "results.ask_reactions",
        platform=texts.raw(lang, f"platforms.{question.platform}"),
        date=question.posted_at.strftime(texts.raw(lang, "results.date_format")),
    )


def results_keyboard(texts: Texts, lang: str, post_id: int, metric: str) -> InlineKeyboardMarkup:
    """Quick answers for one results question."""
    prefix = f"results.set:{post_id}:{metric}:"
    if metric == "opportunity":
        row = [
            InlineKeyboardButton(
                texts.raw(lang, "results.button_yes"), callback_data=prefix + "yes"
            ),
            InlineKeyboardButton(
                texts.raw(lang, "results.button_no"), callback_data=prefix + "no"
            ),
        ]
        rows = [row]
    else:
        numbers = [
            InlineKeyboardButton(str(value), callback_data=f"{prefix}{value}")
            for value in QUICK_VALUES
        ]
        rows = [numbers[:3], numbers[3:]]
    rows.append(
        [
            InlineKeyboardButton(
                texts.raw(lang, "results.button_skip"), callback_data=prefix + "skip"
            )
        ]
    )
    return InlineKeyboardMarkup(rows)
