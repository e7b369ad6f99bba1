"""/start and /help: the welcome and what the bot can do."""

from __future__ import annotations

import re

from telegram import Update
from telegram.constants import ChatType

from bot.context import CoachContext
from bot.handlers import groups, profile
from bot.transport.replies import reply_in_parts, require_message, require_user

# /start r123: the deep link behind a group verdict's "full review" button.
DEEP_LINK = re.compile(r"r(\d{1,12})")


async def start(update: Update, context: CoachContext) -> None:
    """Greet the user; start the onboarding the first time, resume it if unfinished."""
    message = require_message(update)
    user = require_user(update)
    payload = context.args[0] if context.args else ""
    if message.chat.type == ChatType.PRIVATE and (match := DEEP_LINK.fullmatch(payload)):
        # From a group verdict's button: the full review, in private, on request.
        await groups.open_full_review(context, message.chat_id, user.id, int(match[1]))
        return
    if payload and message.chat.type == ChatType.PRIVATE:
        # Any other link (t.me/<bot>?start=linkedin) says where the user came from.
        await context.services.accounts.note_origin(user.id, payload)
    is_new = context.account is None or context.account.is_new
    private = message.chat.type == ChatType.PRIVATE
    step = await context.services.profiles.step(user.id) if private else None
    if step is not None and step.mode == "onboarding" and not is_new:
        # Half-way through the questions: one thing to say, where we were.
        await profile.resume_onboarding(context, message.chat_id, step, user.id)
        return
    text_id = "start.welcome" if is_new else "start.welcome_back"
    await reply_in_parts(message, context.render(text_id, name=user.first_name))
    if not private:
        return
    if step is not None and step.mode == "onboarding":
        await profile.resume_onboarding(context, message.chat_id, step, user.id)
    elif step is None and is_new and not (await context.services.profiles.view(user.id)).onboarded:
        await profile.begin_onboarding(context, message.chat_id, user.id)


async def show_help(update: Update, context: CoachContext) -> None:
    """Explain what the bot does and list its commands."""
    message = require_message(update)
    text = context.render("help.body")
    # The rewrite button is offered under reviews in private chats only.
    if context.services.rewrites is not None and message.chat.type == ChatType.PRIVATE:
        text += "\n\n" + context.render("rewrite.help_note")
    await reply_in_parts(message, text)
