"""Published posts: "I posted it", /posted, the optional link and the results question."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.coach import PLATFORMS
from bot.context import CoachContext
from bot.handlers import review
from bot.posts.service import RecordedPost
from bot.results.service import InvalidResultError
from bot.results.view import results_keyboard
from bot.transport.replies import close_keyboard, require_callback, require_message, require_user

logger = logging.getLogger(__name__)

_ID = r"(\d{1,12})"
FROM_REVIEW_PATTERN = rf"^review\.posted:{_ID}$"
PLATFORM_PATTERN = r"^posts\.platform:(linkedin|x|instagram|facebook|threads)$"
RESULT_PATTERN = (
    rf"^results\.set:{_ID}:(reactions|comments|contacts|opportunity):(\d{{1,7}}|yes|no|skip)$"
)


def _chat_id(update: Update) -> int:
    chat = update.effective_chat
    return chat.id if chat is not None else require_user(update).id


async def _confirm(context: CoachContext, chat_id: int, recorded: RecordedPost) -> None:
    platform = context.texts.raw(context.lang, f"platforms.{recorded.platform}")
    if recorded.score is None:
        text = context.render("posts.recorded", platform=platform)
    else:
        text = context.render("posts.recorded_with_score", platform=platform, score=recorded.score)
    await context.bot.send_message(chat_id, text)


async def record_from_review(update: Update, context: CoachContext) -> None:
    """ "I posted it" under a review: record the post once."""
    query = require_callback(update)
    review_id = int(context.match.group(1)) if context.match else 0
    recorded = await context.services.posts.record_from_review(review_id, query.from_user.id)
    if recorded is None:
        await review.refuse(query, context, review_id)
        return
    if not recorded.created:
        await query.answer(context.render("posts.already"), show_alert=True)
        return
    await query.answer()
    await _confirm(context, _chat_id(update), recorded)


async def posted_command(update: Update, context: CoachContext) -> None:
    """/posted: record a post made without a review (the platform as argument or a button)."""
    message = require_message(update)
    argument = (context.args[0].lower() if context.args else "")[:16]
    if argument in PLATFORMS:
        recorded = await context.services.posts.record(require_user(update).id, argument)
        if recorded is not None:
            await _confirm(context, message.chat_id, recorded)
            return
    buttons = [
        InlineKeyboardButton(
            context.texts.raw(context.lang, f"platforms.{p}"), callback_data=f"posts.platform:{p}"
        )
        for p in PLATFORMS
    ]
    await message.reply_text(
        context.render("posts.ask_platform"),
        reply_markup=InlineKeyboardMarkup([buttons[:3], buttons[3:]]),
    )


async def posted_platform(update: Update, context: CoachContext) -> None:
    """The platform button after /posted."""
    query = require_callback(update)
    platform = context.match.group(1) if context.match else ""
    recorded = await context.services.posts.record(query.from_user.id, platform)
    await query.answer()
    if recorded is None:
        return
    await close_keyboard(query.message)
    await _confirm(context, _chat_id(update), recorded)


async def save_link(update: Update, context: CoachContext) -> bool:
    """The text after recording a post: keep it if it is a link. False if it was not one."""
    message = require_message(update)
    saved = await context.services.posts.save_link(require_user(update).id, message.text or "")
    if saved:
        await message.reply_text(context.render("posts.link_saved"))
    return bool(saved)


async def _next_question(
    context: CoachContext, chat_id: int, post_id: int, metric: str | None
) -> None:
    if metric is None:
        await context.bot.send_message(chat_id, context.render("results.thanks"))
        return
    await context.bot.send_message(
        chat_id,
        context.render(f"results.ask_{metric}"),
        reply_markup=results_keyboard(context.texts, context.lang, post_id, metric),
    )


async def answer_result_button(update: Update, context: CoachContext) -> None:
    """A quick answer button under a results question."""
    query = require_callback(update)
    assert context.match is not None
    post_id, metric, raw = int(context.match[1]), context.match[2], context.match[3]
    value: int | bool | None
    if raw == "skip":
        value = None
    elif raw in ("yes", "no"):
        value = raw == "yes"
    else:
        value = int(raw)
    if (metric == "opportunity") != (raw in ("yes", "no", "skip")) and raw != "skip":
        await query.answer(context.render("errors.stale_button"), show_alert=True)
        return
    progress = await context.services.results.answer(query.from_user.id, post_id, metric, value)
    if progress is None:
        await query.answer(context.render("results.not_yours"), show_alert=True)
        return
    await query.answer()
    await close_keyboard(query.message)
    await _next_question(context, _chat_id(update), post_id, progress.next_metric)


async def answer_result_text(update: Update, context: CoachContext) -> None:
    """Typed numbers (or yes/no) answering the open results question."""
    message = require_message(update)
    try:
        progress = await context.services.results.answer_text(
            require_user(update).id, message.text or ""
        )
    except InvalidResultError as invalid:
        await message.reply_text(context.render(f"results.invalid_{invalid.reason}"))
        return
    if progress is not None:
        await _next_question(context, message.chat_id, progress.post_id, progress.next_metric)
