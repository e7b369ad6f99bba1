"""Routes free text, locations, /skip and /cancel in a private chat to the dialogue the
user is in."""

from __future__ import annotations

from telegram import ReplyKeyboardRemove, Update

from bot.context import CoachContext
from bot.handlers import fallback, posts, profile, review
from bot.posts.service import LINK_DIALOGUE
from bot.results.service import RESULTS_DIALOGUE
from bot.reviews.service import REVISE_DIALOGUE
from bot.transport.replies import require_message, require_user

# What /cancel says, by the dialogue it closes.
_CANCELLED = {
    "profile.onboarding": "cancel.onboarding",
    "profile.settings": "cancel.settings",
    REVISE_DIALOGUE: "cancel.revise",
    RESULTS_DIALOGUE: "cancel.results",
    LINK_DIALOGUE: "cancel.link",
}


def _dialogue(context: CoachContext) -> str:
    return (context.account.dialogue if context.account else None) or ""


async def route_text(update: Update, context: CoachContext) -> None:
    """A plain text answers the open question, or else it is a draft to review."""
    dialogue = _dialogue(context)
    if dialogue.startswith("profile."):
        if not await profile.answer_text(update, context):
            # A draft sent mid-questions: review it (it is kept), then ask again.
            await review.review_text(update, context)
            await profile.resume_after_draft(
                context, require_message(update).chat_id, require_user(update).id
            )
    elif dialogue == RESULTS_DIALOGUE:
        await posts.answer_result_text(update, context)
    elif dialogue == LINK_DIALOGUE and await posts.save_link(update, context):
        return
    else:
        # Not a link after a post, or no dialogue at all: a draft.
        await review.review_pasted_text(update, context)


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


async def cancel(update: Update, context: CoachContext) -> None:
    """/cancel: leave whatever dialogue is open. Profile answers given so far are kept; a
    pending new version, results question or link question is dropped."""
    message = require_message(update)
    dialogue = _dialogue(context)
    closed = await context.services.accounts.end_dialogue(require_user(update).id)
    text_id = _CANCELLED.get(dialogue, "cancel.nothing") if closed else "cancel.nothing"
    # The time zone question may have left the location button up: take it away.
    await message.reply_text(context.render(text_id), reply_markup=ReplyKeyboardRemove())
