"""Answers for what no other handler took: unknown commands, unsupported messages and stale
buttons."""

from __future__ import annotations

from telegram import Update

from bot.context import CoachContext
from bot.transport.replies import require_callback, require_message


async def reply_unsupported(update: Update, context: CoachContext) -> None:
    """Tell the user, briefly, what the bot accepts."""
    await require_message(update).reply_text(context.render("fallback.unsupported"))


async def reply_unknown_command(update: Update, context: CoachContext) -> None:
    """A command the bot does not have: say so and point to /help."""
    message = require_message(update)
    command = (message.text or "").split(maxsplit=1)[0].split("@")[0][:33]
    await message.reply_text(context.render("fallback.unknown_command", command=command))


async def answer_stale_button(update: Update, context: CoachContext) -> None:
    """A button whose data no handler recognises: say so instead of spinning forever."""
    await require_callback(update).answer(context.render("errors.stale_button"), show_alert=False)
