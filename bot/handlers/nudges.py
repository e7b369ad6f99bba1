"""Nudges in chat: their buttons, /pause, /resume, /quiet, and noticing when a user blocks
or unblocks the bot. Sending them is the tick's (bot/nudges/dispatch.py)."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import ChatMemberUpdated, Message, Update
from telegram.constants import ChatMemberStatus, ChatType

from bot.context import CoachContext
from bot.localtime.schedule import (
    MAX_PAUSE_DAYS,
    InvalidValueError,
    load_zone,
    parse_pause_date,
    parse_quiet_hours,
)
from bot.transport import metrics
from bot.transport.replies import close_keyboard, require_callback, require_message, require_user

logger = logging.getLogger(__name__)

_ID = r"(\d{1,12})"
WRITE_PATTERN = rf"^nudge\.write:{_ID}$"
SNOOZE_PATTERN = rf"^nudge\.snooze:{_ID}:(1h|3h|tomorrow)$"
SKIP_PATTERN = rf"^nudge\.skip:{_ID}$"
PAUSE_PATTERN = rf"^nudge\.pause:{_ID}$"


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
            "nudges.quiet_set",
            start=start.strftime(context.texts.raw(context.lang, "nudges.time_format")),
            end=end.strftime(context.texts.raw(context.lang, "nudges.time_format")),
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
