"""The nudges' scheduled sends, called by the tick: each nudge or Monday review going out.

The claim loop, its senders and the heartbeat renewing their leases are the one claim
mechanism's (bot/claims.py); the claims themselves the service's (bot/nudges/service.py).
"""

from __future__ import annotations

import logging

from telegram import InputFile
from telegram.error import Forbidden, TelegramError

from bot.claims import Outcome, dispatch, outcome_of
from bot.context import CoachContext
from bot.nudges.service import WEEKLY, Delivery
from bot.nudges.view import compose, weekly_text
from bot.stats.view import draw_chart
from bot.transport import metrics

logger = logging.getLogger(__name__)


async def _send_weekly(context: CoachContext, delivery: Delivery) -> None:
    texts = context.texts
    lang = texts.language_of(delivery.language, delivery.telegram_language)
    stats = await context.services.stats.stats(
        delivery.user_id, now=context.services.clock(), zone=delivery.zone, goal=delivery.goal
    )
    await context.bot.send_message(
        delivery.user_id, weekly_text(texts, lang, stats, delivery.goal)
    )
    if not stats.has_chart:
        return  # an empty chart says nothing the text did not
    png = await draw_chart(context, delivery.user_id, lang, stats)
    await context.bot.send_photo(
        delivery.user_id,
        InputFile(png, filename=texts.plain(lang, "weekly.chart_file")),
        caption=texts.render(lang, "weekly.caption"),
    )


async def deliver(context: CoachContext, delivery: Delivery) -> Outcome:
    """Send one claimed nudge or weekly review; how it went."""
    try:
        async with context.services.pacer.turn(delivery.user_id):
            if delivery.kind == WEEKLY:
                await _send_weekly(context, delivery)
            else:
                text, keyboard = compose(context.texts, delivery)
                await context.bot.send_message(delivery.user_id, text, reply_markup=keyboard)
    except Forbidden as refused:
        # Blocked: stop writing to them until they come back.
        await context.services.nudges.set_active(delivery.user_id, False)
        metrics.count_reach("inactive")
        logger.info(
            "user %s refused a nudge (%s): marked inactive", delivery.user_id, refused.message
        )
        return Outcome.FAILED
    except TelegramError as error:
        outcome = outcome_of(error, "nudge", delivery.send_id)
        if outcome is Outcome.SENT:
            metrics.count_nudge("unconfirmed")
        return outcome
    metrics.count_nudge("late" if delivery.late else "sent")
    return Outcome.SENT


async def send_due_nudges(context: CoachContext, *, was_running: bool | None = None) -> int:
    """Claim the nudges and Monday reviews due and send them; returns the count."""
    return await dispatch(
        context,
        context.services.nudges,
        deliver,
        was_running=context.application.running if was_running is None else was_running,
        tick_started=context.services.clock(),
        name="nudge",
    )
