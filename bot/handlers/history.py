"""/history: recent drafts with their scores, paged; a draft can be opened and revised."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import CoachContext
from bot.history.service import HistoryPage
from bot.reviews.view import render_review, review_keyboard
from bot.texts.catalog import Texts
from bot.transport.replies import (
    edit_in_place,
    require_callback,
    require_message,
    require_user,
    split_message,
)

PAGE_PATTERN = r"^history\.page:(\d{1,6})$"
OPEN_PATTERN = r"^history\.open:(\d{1,12})$"


def render_history(texts: Texts, lang: str, page: HistoryPage) -> str:
    """One page of the list."""
    if not page.total:
        return texts.render(lang, "history.empty")
    lines = [texts.render(lang, "history.title", page=page.page + 1, pages=page.pages)]
    date_format = texts.raw(lang, "history.date_format")
    for number, entry in enumerate(page.entries, start=1):
        lines.append(
            texts.render(
                lang,
                "history.entry_posted" if entry.posted else "history.entry",
                number=number,
                score=f"{entry.score}/100"
                if entry.score is not None
                else texts.raw(lang, "history.no_score"),
                platform=texts.raw(lang, f"platforms.{entry.platform}")
                if entry.platform
                else texts.raw(lang, "history.no_score"),
                date=entry.created_at.strftime(date_format),
                version=entry.version,
                headline=entry.headline,
            )
        )
    return "\n".join(lines)


def history_keyboard(texts: Texts, lang: str, page: HistoryPage) -> InlineKeyboardMarkup | None:
    """A button per draft to open it, and paging."""
    if not page.total:
        return None
    opens = [
        InlineKeyboardButton(
            texts.plain(lang, "history.button_open", number=number),
            callback_data=f"history.open:{entry.draft_id}",
        )
        for number, entry in enumerate(page.entries, start=1)
    ]
    paging = []
    if page.has_previous:
        paging.append(
            InlineKeyboardButton(
                texts.raw(lang, "history.button_newer"),
                callback_data=f"history.page:{page.page - 1}",
            )
        )
    if page.has_next:
        paging.append(
            InlineKeyboardButton(
                texts.raw(lang, "history.button_older"),
                callback_data=f"history.page:{page.page + 1}",
            )
        )
    return InlineKeyboardMarkup([row for row in (opens, paging) if row])


async def show_history(update: Update, context: CoachContext) -> None:
    """/history: the first page."""
    page = await context.services.history.page(require_user(update).id, 0)
    await require_message(update).reply_text(
        render_history(context.texts, context.lang, page),
        reply_markup=history_keyboard(context.texts, context.lang, page),
    )


async def turn_page(update: Update, context: CoachContext) -> None:
    """Older or newer drafts, in place."""
    query = require_callback(update)
    number = int(context.match.group(1)) if context.match else 0
    page = await context.services.history.page(query.from_user.id, number)
    await query.answer()
    await edit_in_place(
        query,
        render_history(context.texts, context.lang, page),
        history_keyboard(context.texts, context.lang, page),
    )


async def open_draft(update: Update, context: CoachContext) -> None:
    """Show a past draft's latest review again, with its buttons (revise included)."""
    query = require_callback(update)
    draft_id = int(context.match.group(1)) if context.match else 0
    services = context.services
    review_id = await services.history.open_draft(query.from_user.id, draft_id)
    stored = (
        await services.reviews.reopen(review_id, query.from_user.id, reply_language=context.lang)
        if review_id is not None
        else None
    )
    if stored is None:
        await query.answer(context.render("history.not_found"), show_alert=True)
        return
    await query.answer()
    chat_id = query.message.chat.id if query.message else query.from_user.id
    # The draft's text first, as it was sent and without markup, so it can be copied and
    # revised; then its review.
    for part in split_message(stored.text):
        await context.bot.send_message(chat_id, part, parse_mode=None)
    await context.bot.send_message(
        chat_id,
        render_review(context.texts, context.lang, stored),
        reply_markup=review_keyboard(
            context.texts, context.lang, stored, rewrite=services.rewrites is not None
        ),
    )
