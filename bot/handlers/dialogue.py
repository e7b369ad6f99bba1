"""Routes free text, locations and /skip in a private chat to the dialogue the user is in."""

from __future__ import annotations

from telegram import Update

from bot.context import CoachContext
from bot.handlers import fallback, posts, profile, review
from bot.posts import LINK_DIALOGUE
from bot.replies import require_message, require_user
from bot.results import RESULTS_DIALOGUE


def _dialogue(context: CoachContext) -> str:
    return (context.account.dialogue if context.account else None) or ""


async def route_text(update: Update, context: CoachContext) -> None:
    """A plain text answers the open question, or else it is a draft to review."""
    dialogue = _dialogue(context)
    if dialogue.startswith("profile."):
        await profile.answer_text(update, context)
    elif dialogue == RESULTS_DIALOGUE:
        await posts.answer_result_text(update, context)
    elif dialogue == LINK_DIALOGUE and await posts.save_link(update, context):
        return
    else:
        # Not a link after a post, or no dialogue at all: a draft.
        await review.review_text(update, context)


async def route_location(update: Update, context: CoachContext) -> None:
    """A shared location answers the time zone question; otherwise it is not understood."""
    if _dialogue(context).startswith("profile."):
        await profile.answer_location(update, context)
    else:
        await fallback.reply_unsupported(update, context)


async def skip(update: Update, context: CoachContext) -> None:
    """/skip: leave the open question (profile, link or results) unanswered."""
    dialogue = _dialogue(context)
    message = require_message(update)
    user_id = require_user(update).id
    accounts = context.services.accounts
    if dialogue == LINK_DIALOGUE and await accounts.end_dialogue(user_id, only=LINK_DIALOGUE):
        await message.reply_text(context.render("posts.link_skipped"))
    elif dialogue == RESULTS_DIALOGUE and await accounts.end_dialogue(
        user_id, only=RESULTS_DIALOGUE
    ):
        await message.reply_text(context.render("results.skipped"))
    else:
        await profile.skip_command(update, context)
