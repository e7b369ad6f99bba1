"""/start and /help: the welcome and what the bot can do."""

from __future__ import annotations

from telegram import Update

from bot.context import CoachContext
from bot.replies import reply_in_parts, require_message, require_user


async def start(update: Update, context: CoachContext) -> None:
    """Greet the user in their language, warmly the first time."""
    message = require_message(update)
    user = require_user(update)
    is_new = context.account is None or context.account.is_new
    text_id = "start.welcome" if is_new else "start.welcome_back"
    await reply_in_parts(message, context.render(text_id, name=user.first_name))


async def show_help(update: Update, context: CoachContext) -> None:
    """Explain what the bot does and list its commands."""
    await reply_in_parts(require_message(update), context.render("help.body"))
