"""The scheduler's one tick: each feature's due work, in order (`send_due_work`).

The database says what is due and each feature's dispatch claims and sends it. No job
per user lives in APScheduler; PTB's JobQueue only runs this tick.
"""

from __future__ import annotations

import logging

from bot.context import CoachContext
from bot.groups.dispatch import send_due_group_posts
from bot.handlers.posts import ask_results
from bot.nudges.dispatch import send_due_nudges, stopping

logger = logging.getLogger(__name__)


async def send_due_work(context: CoachContext) -> None:
    """Claim and send everything due now: nudges, weekly reviews, results questions,
    group challenges and channel tips. Once the Application stops, nothing more is claimed:
    what is due now waits for the next process."""
    was_running = context.application.running
    await send_due_nudges(context)
    if stopping(context, was_running):
        return
    await send_due_group_posts(context)
    results = context.services.results
    while not stopping(context, was_running) and (questions := await results.claim_due()):
        for question in questions:
            await ask_results(context, question)
