"""The groups' scheduled sends, called by the tick: each week's challenge (after last
week's recap) in groups that asked for one, and the weekly tip in channels.

The guarantees are the service's claims: a challenge is recorded once under (group, due
instant) before it is posted; a tip's turn advances before it is sent.
"""

from __future__ import annotations

import logging

from telegram.error import Forbidden, TelegramError

from bot.context import CoachContext
from bot.groups.service import DueChallenge
from bot.groups.view import challenge_text, recap_text, tip_text
from bot.transport.outage import is_network_failure

logger = logging.getLogger(__name__)


async def send_due_group_posts(context: CoachContext) -> None:
    """Post the challenges (with last week's recap) and the channel tips that are due."""
    groups = context.services.groups
    while (claimed := await groups.claim_due_challenges()).handled:
        for due in claimed.due:
            try:
                await _post_challenge(context, due)
            except Forbidden:
                await groups.left(due.chat_id)
            except TelegramError as error:
                if not is_network_failure(error):  # an outage is logged once
                    logger.warning(
                        "challenge for %s not posted: %s", due.chat_id, type(error).__name__
                    )
    while tips := await groups.claim_due_tips():
        for tip in tips:
            try:
                await context.bot.send_message(tip.chat_id, tip_text(context.texts, tip))
            except Forbidden:
                await groups.left(tip.chat_id)
            except TelegramError as error:
                if not is_network_failure(error):  # an outage is logged once
                    logger.warning("tip for %s not posted: %s", tip.chat_id, type(error).__name__)


async def _post_challenge(context: CoachContext, due: DueChallenge) -> None:
    """Last week's recap (when there was a challenge before), then the challenge, whose
    message is remembered for the replies that enter it."""
    if due.recap is not None:
        await context.bot.send_message(
            due.chat_id, recap_text(context.texts, due.language, due.recap)
        )
    sent = await context.bot.send_message(due.chat_id, challenge_text(context.texts, due))
    await context.services.groups.challenge_posted(due.challenge_id, sent.message_id)
