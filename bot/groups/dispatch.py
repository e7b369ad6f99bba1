"""The groups' scheduled sends, called by the tick: each week's challenge (after last
week's recap) in groups that asked for one, and the weekly tip in channels.

The claim loop, its senders and the heartbeat renewing their leases are the one claim
mechanism's (bot/claims.py); the claims themselves the groups service's
(`ChallengeClaims`, `TipClaims` in bot/groups/service.py). Here is how one post goes.
"""

from __future__ import annotations

from collections.abc import Awaitable

from telegram.error import Forbidden, TelegramError

from bot.claims import Outcome, dispatch, outcome_of, stopping
from bot.context import CoachContext
from bot.groups.service import DueChallenge, DueTip
from bot.groups.view import challenge_text, recap_text, tip_text


async def send_due_group_posts(context: CoachContext, *, was_running: bool) -> int:
    """Post the challenges (with last week's recap) and the channel tips that are due;
    returns how many were claimed."""
    groups = context.services.groups
    tick_started = context.services.clock()
    claimed = await dispatch(
        context,
        groups.challenges,
        post_challenge,
        was_running=was_running,
        tick_started=tick_started,
        name="challenge",
    )
    if stopping(context, was_running):
        return claimed
    return claimed + await dispatch(
        context,
        groups.tips,
        post_tip,
        was_running=was_running,
        tick_started=tick_started,
        name="tip",
    )


async def post_challenge(context: CoachContext, due: DueChallenge) -> Outcome:
    """Last week's recap (when there was a challenge before), then the challenge; once
    it is out, its message (which members reply to) is kept and the claim confirmed."""

    async def post() -> None:
        if due.recap is not None:
            await context.bot.send_message(
                due.chat_id, recap_text(context.texts, due.language, due.recap)
            )
        sent = await context.bot.send_message(due.chat_id, challenge_text(context.texts, due))
        await context.services.groups.challenges.posted(due, sent.message_id)

    return await _outcome(context, "challenge", due, post())


async def post_tip(context: CoachContext, due: DueTip) -> Outcome:
    """A channel's tip of the week; the tick's batch of outcomes confirms it."""
    return await _outcome(
        context,
        "tip",
        due,
        context.bot.send_message(due.chat_id, tip_text(context.texts, due)),
    )


async def _outcome(
    context: CoachContext, name: str, due: DueChallenge | DueTip, post: Awaitable[object]
) -> Outcome:
    """Make one group post; how it went."""
    try:
        await post
    except Forbidden:
        # Removed from the chat, or no longer allowed to post: its schedules stop.
        await context.services.groups.left(due.chat_id)
        return Outcome.FAILED
    except TelegramError as error:
        return outcome_of(error, name, due.send_id)
    return Outcome.SENT
