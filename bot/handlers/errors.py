"""The error handler: log it (never the token), tell the user, report to the operator.

Two failures of a send are not bugs and get neither an apology nor a traceback:

- a network failure, a time-out above all: a send that timed out has often been delivered
  (Telegram answered late), and when Telegram is down an apology would not get through
  either; the connection watch logged and counted it (bot/transport/outage.py);
- a 403: the user blocked the bot (or it was removed from the group) while it was
  replying. Like a nudge refused, the chat is marked inactive, with one INFO line.
"""

from __future__ import annotations

import logging
import time

from telegram import Chat, Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError

from bot.context import CoachContext
from bot.transport import metrics
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
    chat = update.effective_chat if isinstance(update, Update) else None
    if isinstance(error, Forbidden) and chat is not None:
        await _refused(context, chat, error)
        return
    if is_network_failure(error):
        # Logged and counted once already; no apology (see the module's docstring).
        logger.debug("update %s failed on the network: %s", update_id, error)
        return
    if isinstance(error, TelegramError) and update_id is None:
        logger.warning("Telegram error: %s: %s", type(error).__name__, error)
    else:
        logger.error("update %s failed", update_id, exc_info=error)
    settings = context.services.settings
    if chat is not None:
        try:
            await context.bot.send_message(chat.id, context.render("errors.generic"))
        except TelegramError as failure:
            if not is_network_failure(failure):  # an outage is logged once already
                logger.warning("could not tell chat %s about the error", chat.id)
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


async def _refused(context: CoachContext, chat: Chat, error: Forbidden) -> None:
    """A reply got 403: stop writing to that chat until it writes to us again."""
    if chat.type == ChatType.PRIVATE:
        await context.services.nudges.set_active(chat.id, False)
        metrics.count_reach("inactive")
        logger.info("user %s refused a reply (%s): marked inactive", chat.id, error.message)
        return
    await context.services.groups.left(chat.id)
    metrics.count_reach("inactive")
    logger.info("chat %s refused a reply (%s): marked as left", chat.id, error.message)
