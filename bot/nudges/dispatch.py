"""The nudges' scheduled sends, called by the tick: the claim loop, its senders, the
heartbeat that renews their leases, and each nudge or Monday review going out.

The guarantees are the service's claims (bot/nudges/service.py): recorded once under
(schedule, due instant) with a lease, sent, confirmed in batches; a crash between a send
and its confirmation resends it at most once, after the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
from telegram import InputFile
from telegram.error import Forbidden, TelegramError, TimedOut

from bot.context import CoachContext
from bot.nudges.service import CLAIM_BATCH, WEEKLY, Confirmations, Delivery
from bot.nudges.view import compose, weekly_text
from bot.stats.view import draw_chart
from bot.transport import metrics
from bot.transport.outage import is_network_failure

logger = logging.getLogger(__name__)

# Sends in flight at once; the rate limiter, not this, sets the pace.
SENDERS = 8


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


async def deliver(context: CoachContext, delivery: Delivery, outcomes: Confirmations) -> None:
    """Send one claimed nudge or weekly review and note the outcome."""
    nudges = context.services.nudges
    try:
        async with context.services.pacer.turn(delivery.user_id):
            if delivery.kind == WEEKLY:
                await _send_weekly(context, delivery)
            else:
                text, keyboard = compose(context.texts, delivery)
                await context.bot.send_message(delivery.user_id, text, reply_markup=keyboard)
    except Forbidden as refused:
        # Blocked: stop writing to them until they come back.
        await nudges.set_active(delivery.user_id, False)
        await outcomes.add(delivery.send_id, delivered=False)
        metrics.count_reach("inactive")
        logger.info(
            "user %s refused a nudge (%s): marked inactive", delivery.user_id, refused.message
        )
        return
    except TimedOut as error:
        if not _may_have_arrived(error):
            # Never sent: left claimed, the lease hands it to a later tick.
            logger.warning("nudge %s not sent: no connection in time", delivery.send_id)
            return
        # Telegram may well have delivered it and only its answer was late: sending it
        # again after the lease doubled most slow sends. One lost nudge beats two.
        logger.warning("nudge %s timed out: kept as sent, not sent again", delivery.send_id)
        metrics.count_nudge("unconfirmed")
        await outcomes.add(delivery.send_id, delivered=True)
        return
    except TelegramError as error:
        # Left claimed: the lease expires and the next tick tries again, within the grace.
        # An outage is logged once for all its sends (bot/transport/outage.py).
        if not is_network_failure(error):
            logger.warning("nudge %s not sent: %s", delivery.send_id, type(error).__name__)
        return
    await outcomes.add(delivery.send_id, delivered=True)
    metrics.count_nudge("late" if delivery.late else "sent")


def _may_have_arrived(error: TimedOut) -> bool:
    """Whether a timed-out request may have reached Telegram: not when no connection was
    had in time (httpx's pool or connect timeout, which PTB raises as TimedOut)."""
    return not isinstance(error.__cause__, httpx.PoolTimeout | httpx.ConnectTimeout)


def stopping(context: CoachContext, was_running: bool) -> bool:
    """Whether the Application that started this tick is stopping (SIGTERM, SIGINT).

    PTB marks it not running as soon as it starts to stop, then waits for the running
    jobs: a tick that went on claiming kept the process alive past compose's grace. A
    tick run by hand, on an Application never started (tests, benchmarks), never stops.
    """
    return was_running and not context.application.running


async def send_due_nudges(context: CoachContext) -> int:
    """Claim what is due and send it; returns the count.

    A pipeline: one task claims batches into a short queue while SENDERS tasks send
    from it, so claiming the next batch overlaps sending this one. The rate limiter
    paces the sends; outcomes are written in batches. Lateness is judged at the start
    of the tick, not at each batch's claim. While claims wait in the queue or are being
    sent, their lease is renewed, so no other process takes them over however slow the
    sends; once the Application stops, no new batch is claimed and those in hand finish.
    """
    nudges = context.services.nudges
    tick_started = context.services.clock()
    was_running = context.application.running
    queue: asyncio.Queue[Delivery | None] = asyncio.Queue(maxsize=CLAIM_BATCH)
    confirmations = Confirmations(nudges)
    claimed = 0
    # Claimed by this tick and not through `deliver` yet. With the outcomes noted but not
    # written, what the heartbeat renews; one left claimed for a later tick is in neither.
    in_hand: set[int] = set()

    async def claim_all() -> None:
        nonlocal claimed
        try:
            while not stopping(context, was_running):
                batch = await nudges.claim_batch(tick_started=tick_started)
                if not batch.handled:
                    break
                claimed += len(batch.deliveries)
                in_hand.update(delivery.send_id for delivery in batch.deliveries)
                for delivery in batch.deliveries:
                    await queue.put(delivery)
        finally:
            for _ in range(SENDERS):
                await queue.put(None)

    async def send_all() -> None:
        while (delivery := await queue.get()) is not None:
            try:
                await deliver(context, delivery, confirmations)
            except Exception:
                # Left claimed: the lease hands it to a later tick.
                logger.exception("nudge %s not sent", delivery.send_id)
            finally:
                in_hand.discard(delivery.send_id)

    async def heartbeat() -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), nudges.renew_every)
                return
            try:
                await nudges.renew(sorted(in_hand.union(confirmations.pending)))
            except Exception:
                # The next beat tries again; the lease allows for a few missed.
                logger.exception("nudge claims not renewed")

    # Ended by an event, not cancelled: a cancel could land mid-transaction.
    finished = asyncio.Event()
    beating = asyncio.create_task(heartbeat())
    try:
        # Every task runs to its end even if one fails, so no outcome is noted after the
        # last flush.
        results = await asyncio.gather(
            claim_all(), *(send_all() for _ in range(SENDERS)), return_exceptions=True
        )
    finally:
        finished.set()
        await beating
        await confirmations.flush()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return claimed
