"""Loads (or creates) the account of whoever sent the update, before any other handler."""

from __future__ import annotations

import logging
from dataclasses import replace

from telegram import Update, User

from bot.accounts.service import Person
from bot.context import CoachContext
from bot.transport import metrics

logger = logging.getLogger(__name__)


def person_of(user: User) -> Person:
    """What the accounts keep of a Telegram user."""
    return Person(
        id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )


async def load_account(update: Update, context: CoachContext) -> None:
    """Record the sender and make their account available to the handlers that follow."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    account = await context.services.accounts.touch(person_of(user))
    if not account.is_active and update.my_chat_member is None:
        # Writing to us again means they can be written to again (schedules restart).
        await context.services.nudges.set_active(user.id, True)
        account = replace(account, is_active=True)
        metrics.count_reach("back")
        logger.info("user %s wrote again: active, sends resume", user.id)
    context.account = account
