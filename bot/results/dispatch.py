"""The results questions' scheduled sends, called by the tick: the first question about
each post 48 hours after it went out, through the one claim mechanism (bot/claims.py)."""

from __future__ import annotations

import logging

from telegram.error import Forbidden, TelegramError

from bot.claims import Outcome, dispatch, outcome_of
from bot.context import CoachContext
from bot.results.service import METRICS, ResultsQuestion
from bot.results.view import question_text, results_keyboard
from bot.transport import metrics

logger = logging.getLogger(__name__)


async def ask(context: CoachContext, question: ResultsQuestion) -> Outcome:
    """Send the first results question about a post; how it went."""
    texts = context.texts
    lang = texts.language_of(question.language, question.telegram_language)
    try:
        async with context.services.pacer.turn(question.user_id):
            await context.bot.send_message(
                question.user_id,
                question_text(texts, lang, question),
                reply_markup=results_keyboard(texts, lang, question.post_id, METRICS[0]),
            )
    except Forbidden as refused:
        # Blocked: stop writing to them until they come back, as for a refused nudge.
        await context.services.nudges.set_active(question.user_id, False)
        metrics.count_reach("inactive")
        logger.info(
            "user %s refused a results question (%s): marked inactive",
            question.user_id,
            refused.message,
        )
        return Outcome.FAILED
    except TelegramError as error:
        return outcome_of(error, "results question", question.send_id)
    return Outcome.SENT


async def send_due_questions(context: CoachContext, *, was_running: bool) -> int:
    """Claim the results questions due and send them; returns the count."""
    return await dispatch(
        context,
        context.services.results,
        ask,
        was_running=was_running,
        tick_started=context.services.clock(),
        name="results question",
    )
