"""The error handler: log it (never the token), tell the user, report to the operator."""

from __future__ import annotations

import logging
import time

from telegram import Update
from telegram.error import TelegramError

from bot.context import CoachContext
from bot.transport.outage import is_network_failure

logger = logging.getLogger(__name__)

DETAIL_LIMIT = 500
# One report to ADMIN_CHAT_ID per kind of error in this long, however many happen.
REPORT_EVERY_SECONDS = 600.0
_last_report: dict[str, float] = {}


def _may_report(kind: str, now: float) -> bool:
    last = _last_report.get(kind)
    if last is not None and now - last < REPORT_EVERY_SECONDS:
        return False
    _last_report[kind] = now
    return True


async def report_error(update: object, context: CoachContext) -> None:
    """Log the failure, apologise to the user and notify ADMIN_CHAT_ID if set.

    A network failure was logged once already by the connection watch (and counted):
    it gets no traceback here. A Telegram error outside an update (polling, a conflict
    with another instance) is one line; a traceback is for real bugs only."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if is_network_failure(error):
        logger.debug("update %s failed on the network: %s", update_id, error)
    elif isinstance(error, TelegramError) and update_id is None:
        logger.warning("Telegram error: %s: %s", type(error).__name__, error)
    else:
        logger.error("update %s failed", update_id, exc_info=error)
    settings = context.services.settings
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(
                update.effective_chat.id, context.render("errors.generic")
            )
        except TelegramError as failure:
            if not is_network_failure(failure):  # an outage is logged once already
                logger.warning("could not tell chat %s about the error", update.effective_chat.id)
    kind = type(error).__name__
    if settings.admin_chat_id is None or not _may_report(kind, time.monotonic()):
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
                kind=kind,
                detail=detail[:DETAIL_LIMIT],
                update=update_id if update_id is not None else "-",
            ),
        )
    except TelegramError as failure:
        if not is_network_failure(failure):  # an outage is logged once already
            logger.warning("could not report the error to the admin chat")
