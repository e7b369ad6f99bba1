"""The "suggest a rewrite" button under a review (only when a language model is configured)."""

from __future__ import annotations

import contextlib
import math

from telegram import Update
from telegram.constants import ChatAction
from telegram.error import BadRequest

from bot.context import CoachContext
from bot.rewrite.service import RewriteFailedError, RewriteRefusedError
from bot.rewrite.view import render_rewrite
from bot.transport.replies import require_callback

REWRITE_PATTERN = r"^review\.rewrite:(\d{1,12})$"


async def suggest_rewrite(update: Update, context: CoachContext) -> None:
    """Ask the model for a better version of the draft and show it with the checklist's verdict."""
    query = require_callback(update)
    rewrites = context.services.rewrites
    if rewrites is None or context.match is None:
        # The operator turned the feature off after this button was sent.
        await query.answer(context.render("errors.stale_button"), show_alert=True)
        return
    try:
        job = await rewrites.prepare(
            int(context.match.group(1)), query.from_user.id, reply_language=context.lang
        )
    except RewriteRefusedError as refused:
        alert = (
            context.render("rewrite.limit", limit=rewrites.daily_limit)
            if refused.reason == "limit"
            else context.render("review.not_yours")
        )
        await query.answer(alert, show_alert=True)
        return
    await query.answer()
    chat_id = query.message.chat.id if query.message else query.from_user.id
    working = await context.bot.send_message(
        chat_id,
        context.render("rewrite.working", seconds=math.ceil(rewrites.timeout_seconds)),
    )
    # Only a nicety: the answer does not depend on it.
    with contextlib.suppress(BadRequest):
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
    try:
        suggested = await rewrites.suggest(job)
    except RewriteFailedError as failed:
        await working.edit_text(context.render(f"rewrite.error_{failed.kind}"))
        return
    await working.edit_text(render_rewrite(context.texts, context.lang, suggested))
