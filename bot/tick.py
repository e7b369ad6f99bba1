"""The scheduler's one tick: each feature's due work, in order (`send_due_work`).

The database says what is due and each feature's dispatch claims and sends it. No job
per user lives in APScheduler; PTB's JobQueue only runs this tick.
"""

from __future__ import annotations

import logging

from bot.claims import stopping
from bot.context import CoachContext
from bot.groups.dispatch import send_due_group_posts
from bot.nudges.dispatch import send_due_nudges
from bot.results.dispatch import send_due_questions

logger = logging.getLogger(__name__)


async def send_due_work(context: CoachContext) -> None:
    """Claim and send everything due now: nudges, weekly reviews, group challenges, channel
    tips and results questions, each through the one claim mechanism (bot/claims.py).
    Once the Application stops, nothing more is claimed: what is due now waits for the
    next process."""
    was_running = context.application.running
    for send_due in (send_due_nudges, send_due_group_posts, send_due_questions):
        if stopping(context, was_running):
            return
        await send_due(context, was_running=was_running)
