"""The error handler: log it (never the token), tell the user, report to the operator."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.context import CoachContext

logger = logging.getLogger(__name__)

DETAIL_LIMIT = 500


async def report_error(update: object, context: CoachContext) -> None:
    """Log the failure, apologise to the user and notify ADMIN_CHAT_ID if set."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("update %s failed", update_id, exc_info=error)
    settings = context.services.settings
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(
                update.effective_chat.id, context.render("errors.generic")
            )
        except TelegramError:
            logger.warning("could not tell chat %s about the error", update.effective_chat.id)
    if settings.admin_chat_id is None:
        return
    detail = str(error) if error else ""
    for secret in settings.secrets:
        detail = detail.replace(secret, "[REDACTED]")
    try:
        await context.bot.send_message(
            settings.admin_chat_id,
            context.texts.render(
                context.texts.default,
                "errors.admin_report",
                kind=type(error).__name__,
                detail=detail[:DETAIL_LIMIT],
                update=update_id if update_id is not None else "-",
            ),
        )
    except TelegramError:
        logger.warning("could not report the error to the admin chat")
