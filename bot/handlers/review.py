"""Draft review in chat: plain drafts, /review, photo captions, and the review's buttons."""

from __future__ import annotations

import asyncio

from telegram import CallbackQuery, Message, MessageEntity, Update
from telegram.constants import ChatType

from bot.context import CoachContext
from bot.handlers import groups
from bot.reviews.service import REVISE_DIALOGUE, DraftRejectedError, StoredReview
from bot.reviews.view import render_review, reply_rejection, review_keyboard
from bot.transport import metrics
from bot.transport.replies import (
    edit_in_place,
    reply_in_parts,
    require_callback,
    require_message,
    require_user,
)

_ID = r"(\d{1,12})"
PLATFORM_PATTERN = rf"^review\.platform:{_ID}:(linkedin|x|instagram|facebook|threads)$"
DETAILS_PATTERN = rf"^review\.details:{_ID}:([01])$"
REVISE_PATTERN = rf"^review\.revise:{_ID}$"


def command_argument(message: Message) -> str:
    """What follows the command, line breaks kept (context.args would lose them)."""
    text = message.text or ""
    for entity in message.entities:
        # The command is ASCII at offset 0, so UTF-16 and str offsets agree.
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            return text[entity.length :].strip()
    return ""


async def _review_and_reply(update: Update, context: CoachContext, text: str) -> None:
    message = require_message(update)
    try:
        account = context.account
        stored = await context.services.reviews.review_draft(
            require_user(update).id,
            message.chat_id,
            text,
            reply_language=context.lang,
            revision_pending=account is None or account.dialogue == REVISE_DIALOGUE,
            defaults=account.draft_defaults if account else None,
        )
    except DraftRejectedError as rejected:
        await reply_rejection(message, context.texts, context.lang, rejected)
        return
    metrics.count_review()
    await reply_in_parts(
        message,
        render_review(context.texts, context.lang, stored),
        reply_markup=review_keyboard(
            context.texts, context.lang, stored, rewrite=context.services.rewrites is not None
        ),
    )


async def review_text(update: Update, context: CoachContext) -> None:
    """A plain text in a private chat is a draft: review it."""
    await _review_and_reply(update, context, require_message(update).text or "")


async def review_pasted_text(update: Update, context: CoachContext) -> None:
    """A plain draft, joined first with the rest of a long paste Telegram split in parts."""
    message = require_message(update)
    pastes = context.services.pastes
    text, token = pastes.add(message.chat_id, message.text or "")
    if token is None:
        await _review_and_reply(update, context, text)
        return
    # A full-length part: the rest may be right behind it, as the next update of this chat.
    context.application.create_task(_review_if_alone(update, context, token), update=update)


async def _review_if_alone(update: Update, context: CoachContext, token: object) -> None:
    pastes = context.services.pastes
    await asyncio.sleep(pastes.window)
    text = pastes.release(require_message(update).chat_id, token)
    if text is not None:
        await _review_and_reply(update, context, text)


async def review_caption(update: Update, context: CoachContext) -> None:
    """A photo with a caption: review the caption."""
    await _review_and_reply(update, context, require_message(update).caption or "")


async def review_command(update: Update, context: CoachContext) -> None:
    """/review TEXT, or /review in reply to the message that holds the draft."""
    message = require_message(update)
    text = command_argument(message)
    credit = None
    if not text and message.reply_to_message is not None:
        replied = message.reply_to_message
        text = replied.text or replied.caption or ""
        # Someone else's message: the draft is its author's, not the asker's.
        credit = groups.credit_of(replied)
    if not text.strip():
        await message.reply_text(context.render("review.ask_text"))
        return
    if groups.is_group(message.chat):
        await groups.review_in_group(update, context, text, credit)
        return
    await _review_and_reply(update, context, text)


async def _reopen(
    query: CallbackQuery, context: CoachContext, platform: str | None = None
) -> StoredReview | None:
    review_id = int(context.match.group(1)) if context.match else 0
    stored = await context.services.reviews.reopen(
        review_id, query.from_user.id, reply_language=context.lang, platform=platform
    )
    if stored is None:
        await refuse(query, context, review_id)
    return stored


async def refuse(query: CallbackQuery, context: CoachContext, review_id: int) -> None:
    """Answer a button whose review is gone, or someone else's, saying which."""
    reason = await context.services.reviews.why_refused(review_id, query.from_user.id)
    await query.answer(context.render(f"review.{reason}"), show_alert=True)


async def _show(
    query: CallbackQuery, context: CoachContext, stored: StoredReview, details: bool
) -> None:
    await query.answer()
    await edit_in_place(
        query,
        render_review(context.texts, context.lang, stored, details=details),
        review_keyboard(
            context.texts,
            context.lang,
            stored,
            details=details,
            rewrite=context.services.rewrites is not None,
            private=query.message is None or query.message.chat.type == ChatType.PRIVATE,
        ),
    )


async def recheck_platform(update: Update, context: CoachContext) -> None:
    """Re-check the same draft for another platform, in place."""
    query = require_callback(update)
    platform = context.match.group(2) if context.match else None
    stored = await _reopen(query, context, platform)
    if stored is not None:
        await _show(query, context, stored, details=False)


async def toggle_details(update: Update, context: CoachContext) -> None:
    """Show or hide every item's reason and suggestion."""
    query = require_callback(update)
    stored = await _reopen(query, context)
    if stored is not None:
        await _show(
            query, context, stored, details=bool(context.match and context.match[2] == "1")
        )


async def start_revision(update: Update, context: CoachContext) -> None:
    """The next draft the user sends is a new version of this one."""
    query = require_callback(update)
    review_id = int(context.match.group(1)) if context.match else 0
    if not await context.services.reviews.start_revision(review_id, query.from_user.id):
        await refuse(query, context, review_id)
        return
    await query.answer()
    if query.message is not None:
        await context.bot.send_message(
            query.message.chat.id, context.render("review.revise_prompt")
        )
