"""Loads (or creates) the account of whoever sent the update, before any other handler."""

from __future__ import annotations

from telegram import Update

from bot.accounts import Person
from bot.context import CoachContext


async def load_account(update: Update, context: CoachContext) -> None:
    """Record the sender and make their account available to the handlers that follow."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    context.account = await context.services.accounts.touch(
        Person(
            id=user.id,
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
            language_code=user.language_code,
        )
    )
