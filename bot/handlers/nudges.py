"""Nudges in chat: composing and sending them, their buttons, /pause, /resume, /quiet,
and noticing when a user blocks or unblocks the bot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import httpx
from telegram import (
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import Forbidden, TelegramError, TimedOut

from bot import metrics
from bot.context import CoachContext
from bot.handlers.stats import draw_chart, render_stats
from bot.nudges.schedule import (
    MAX_PAUSE_DAYS,
    InvalidValueError,
    load_zone,
    parse_pause_date,
    parse_quiet_hours,
)
from bot.nudges.service import CLAIM_BATCH, WEEKLY, Confirmations, Delivery
from bot.replies import close_keyboard, require_callback, require_message, require_user
from bot.texts import Texts
from bot.transport.outage import is_network_failure

logger = logging.getLogger(__name__)

_ID = r"(\d{1,12})"
WRITE_PATTERN = rf"^nudge\.write:{_ID}$"
SNOOZE_PATTERN = rf"^nudge\.snooze:{_ID}:(1h|3h|tomorrow)$"
SKIP_PATTERN = rf"^nudge\.skip:{_ID}$"
PAUSE_PATTERN = rf"^nudge\.pause:{_ID}$"
# Sends in flight at once; the rate limiter, not this, sets the pace.
SENDERS = 8


def render_idea(
    texts: Texts, lang: str, idea: str, *, topic: str | None, audience: str, platform: str
) -> str:
    """An idea for a post, about the topic; without one, its wording for any work."""
    text_id = f"nudges.idea_{idea}"
    if topic is None and f"{text_id}_any" in texts.ids():
        text_id += "_any"
    return texts.render(lang, text_id, topic=topic or "", audience=audience, platform=platform)


def compose(texts: Texts, delivery: Delivery) -> tuple[str, InlineKeyboardMarkup]:
    """The nudge's text, personalised, and its buttons."""
    lang = texts.language_of(delivery.language, delivery.telegram_language)
    topic = delivery.topics[(delivery.send_id) % len(delivery.topics)] if delivery.topics else None
    audience = (
        texts.raw(lang, f"audiences.{delivery.audience[0]}").lower()
        if delivery.audience
        else texts.raw(lang, "nudges.audience_fallback")
    )
    lines = [texts.render(lang, f"nudges.intro_{delivery.tone}")]
    lines.append(
        render_idea(
            texts,
            lang,
            delivery.idea or "show_result",
            topic=topic,
            audience=audience,
            platform=texts.raw(lang, f"platforms.{delivery.platform or 'linkedin'}"),
        )
    )
    if delivery.late:
        lines.append(texts.render(lang, "nudges.late_note"))
    send_id = delivery.send_id

    def button(text_id: str, data: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(texts.raw(lang, f"nudges.{text_id}"), callback_data=data)

    keyboard = InlineKeyboardMarkup(
        [
            [button("button_write", f"nudge.write:{send_id}")],
            [
                button("button_snooze_1h", f"nudge.snooze:{send_id}:1h"),
                button("button_snooze_3h", f"nudge.snooze:{send_id}:3h"),
                button("button_snooze_tomorrow", f"nudge.snooze:{send_id}:tomorrow"),
            ],
            [
                button("button_skip", f"nudge.skip:{send_id}"),
                button("button_pause", f"nudge.pause:{send_id}"),
            ],
        ]
    )
    return "\n\n".join(lines), keyboard


async def _send_weekly(context: CoachContext, delivery: Delivery) -> None:
    texts = context.texts
    lang = texts.language_of(delivery.language, delivery.telegram_language)
    stats = await context.services.stats.stats(
        delivery.user_id, now=context.services.clock(), zone=delivery.zone, goal=delivery.goal
    )
    last_week = stats.weekly_points[-2].posts if len(stats.weekly_points) > 1 else 0
    verdict = "weekly.met" if last_week >= delivery.goal else "weekly.missed"
    text = "\n".join(
        [
            texts.render(lang, "weekly.title"),
            texts.render(lang, verdict, posts=last_week, goal=delivery.goal),
            "",
            render_stats(texts, lang, stats),
        ]
    )
    await context.bot.send_message(delivery.user_id, text)
    if not stats.has_chart:
        return  # an empty chart says nothing the text did not
    png = await draw_chart(context, delivery.user_id, lang, stats)
    await context.bot.send_photo(
        delivery.user_id,
        InputFile(png, filename="postcoach-week.png"),
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


def _send_id(context: CoachContext) -> int:
    return int(context.match.group(1)) if context.match else 0


async def write_now(update: Update, context: CoachContext) -> None:
    """ "Write now": the next message is a draft to review."""
    query = require_callback(update)
    await context.services.accounts.end_dialogue(query.from_user.id)
    await query.answer()
    await close_keyboard(query.message)
    await context.bot.send_message(query.from_user.id, context.render("nudges.write_prompt"))


async def snooze(update: Update, context: CoachContext) -> None:
    """Remind again in 1 or 3 hours, or tomorrow at the usual time."""
    query = require_callback(update)
    option = context.match.group(2) if context.match else ""
    due = await context.services.nudges.snooze(_send_id(context), query.from_user.id, option)
    if due is None:
        await query.answer(context.render("errors.stale_button"), show_alert=True)
        return
    await query.answer()
    await close_keyboard(query.message)
    profile = await context.services.profiles.view(query.from_user.id)
    when = due.astimezone(load_zone(profile.zone)).strftime(
        context.texts.raw(context.lang, "nudges.when_format")
    )
    await context.bot.send_message(query.from_user.id, context.render("nudges.snoozed", when=when))


async def skip(update: Update, context: CoachContext) -> None:
    """Skip this nudge."""
    query = require_callback(update)
    if not await context.services.nudges.skip(_send_id(context), query.from_user.id):
        await query.answer(context.render("errors.stale_button"), show_alert=True)
        return
    await query.answer(context.render("nudges.skipped"))
    await close_keyboard(query.message)


async def pause_button(update: Update, context: CoachContext) -> None:
    """Pause every nudge until /resume."""
    query = require_callback(update)
    await context.services.nudges.pause(query.from_user.id)
    await query.answer()
    await close_keyboard(query.message)
    await context.bot.send_message(query.from_user.id, context.render("nudges.paused"))


async def _explain(
    message: Message, context: CoachContext, command: str, invalid: InvalidValueError
) -> None:
    """What is wrong with the value, then how to write it (nothing typed: just how)."""
    usage = context.render(f"nudges.{command}_usage")
    if not invalid.value:
        await message.reply_text(usage)
        return
    problem = context.render(
        f"nudges.{command}_{invalid.reason}", value=invalid.value, days=MAX_PAUSE_DAYS
    )
    await message.reply_text(f"{problem}\n{usage}")


async def pause_command(update: Update, context: CoachContext) -> None:
    """/pause, or /pause DATE."""
    message = require_message(update)
    user_id = require_user(update).id
    services = context.services
    until = None
    if context.args:
        profile = await services.profiles.view(user_id)
        try:
            until = parse_pause_date(" ".join(context.args), profile.zone, services.clock())
        except InvalidValueError as invalid:
            await _explain(message, context, "pause", invalid)
            return
    if not await services.nudges.pause(user_id, until):
        await message.reply_text(context.render("nudges.nothing_scheduled"))
        return
    if until is None:
        await message.reply_text(context.render("nudges.paused"))
        return
    profile = await services.profiles.view(user_id)
    last_day = (until - timedelta(seconds=1)).astimezone(load_zone(profile.zone))
    date = last_day.strftime(context.texts.raw(context.lang, "nudges.date_format"))
    await message.reply_text(context.render("nudges.paused_until", date=date))


async def resume_command(update: Update, context: CoachContext) -> None:
    """/resume: nudges start again from now."""
    message = require_message(update)
    if await context.services.nudges.resume(require_user(update).id):
        await message.reply_text(context.render("nudges.resumed"))
    else:
        await message.reply_text(context.render("nudges.nothing_scheduled"))


async def quiet_command(update: Update, context: CoachContext) -> None:
    """/quiet 21:00-08:00: no nudges in that window."""
    message = require_message(update)
    try:
        start, end = parse_quiet_hours(" ".join(context.args or []))
    except InvalidValueError as invalid:
        await _explain(message, context, "quiet", invalid)
        return
    if not await context.services.nudges.set_quiet_hours(require_user(update).id, start, end):
        await message.reply_text(context.render("nudges.nothing_scheduled"))
        return
    await message.reply_text(
        context.render(
            "nudges.quiet_set", start=start.strftime("%H:%M"), end=end.strftime("%H:%M")
        )
    )


async def track_private_membership(update: Update, context: CoachContext) -> None:
    """A user blocked the bot (stop everything) or unblocked it (start again)."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        return
    blocked = change.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
    await context.services.nudges.set_active(change.from_user.id, not blocked)
    metrics.count_reach("blocked" if blocked else "back")
    logger.info(
        "user %s %s", change.from_user.id, "blocked the bot" if blocked else "unblocked the bot"
    )
