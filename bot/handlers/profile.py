"""Onboarding, /profile, /settings and /skip: the profile dialogue, one question at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from bot.coach import PLATFORMS, TopicExpansion
from bot.context import CoachContext
from bot.localtime.schedule import load_zone
from bot.localtime.zones import COMMON_ZONES, zone_city, zone_label
from bot.nudges.service import DEFAULT_QUIET
from bot.profiles.service import (
    AUDIENCES,
    GOAL_CHOICES,
    MAX_GOAL,
    MAX_ROLE_CHARS,
    MAX_TOPIC_CHARS,
    MAX_TOPICS,
    MULTI_STEPS,
    STEPS,
    TIME_CHOICES,
    WEEKDAYS,
    InvalidAnswerError,
    ProfileView,
    Reminders,
    Step,
    is_draft_not_answer,
)
from bot.settings import LANGUAGES
from bot.texts.catalog import Texts
from bot.transport.replies import close_keyboard, require_callback, require_message, require_user

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_STEP_NAMES = "|".join(STEPS)
SET_PATTERN = r"^profile\.set:(language|main_platform|goal|timezone|nudge_time):([\w/+:\-]{1,40})$"
TOGGLE_PATTERN = r"^profile\.toggle:(audience|platforms|nudge_days):(\w{1,20})$"
DONE_PATTERN = r"^profile\.done:(audience|platforms|nudge_days)$"
SKIP_PATTERN = r"^profile\.skip$"
EDIT_PATTERN = rf"^settings\.edit:({_STEP_NAMES})$"


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def _rows(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def _choices(texts: Texts, lang: str, step: str, view: ProfileView) -> list[tuple[str, str]]:
    """(label, value) of the buttons a question offers."""
    if step == "language":
        return [(texts.raw(lang, f"language.button_{code}"), code) for code in LANGUAGES]
    if step == "audience":
        return [(texts.raw(lang, f"audiences.{a}"), a) for a in AUDIENCES]
    if step == "platforms":
        return [(texts.raw(lang, f"platforms.{p}"), p) for p in PLATFORMS]
    if step == "main_platform":
        offered = view.platforms or PLATFORMS
        return [(texts.raw(lang, f"platforms.{p}"), p) for p in offered]
    if step == "goal":
        return [(str(goal), str(goal)) for goal in GOAL_CHOICES]
    if step == "timezone":
        return [(zone_city(zone, lang), zone) for zone in COMMON_ZONES]
    if step == "nudge_days":
        return [(texts.raw(lang, f"weekdays.{WEEKDAY_KEYS[d]}"), str(d)) for d in WEEKDAYS]
    if step == "nudge_time":
        return [(value, value) for value in TIME_CHOICES]
    return []


def _selected(step: str, view: ProfileView) -> set[str]:
    if step == "audience":
        return set(view.audience)
    if step == "platforms":
        return set(view.platforms)
    if step == "nudge_days":
        return {str(day) for day in view.nudge_days}
    return set()


def question_keyboard(
    texts: Texts, lang: str, step: str, view: ProfileView
) -> InlineKeyboardMarkup:
    """The buttons under a profile question."""
    choices = _choices(texts, lang, step, view)
    rows: list[list[InlineKeyboardButton]]
    if step in MULTI_STEPS:
        chosen = _selected(step, view)
        buttons = [
            _button(
                texts.plain(lang, "profile.button_chosen", label=label)
                if value in chosen
                else label,
                f"profile.toggle:{step}:{value}",
            )
            for label, value in choices
        ]
        rows = _rows(buttons, 4 if step == "nudge_days" else 2)
        rows.append([_button(texts.raw(lang, "profile.button_done"), f"profile.done:{step}")])
    else:
        buttons = [_button(label, f"profile.set:{step}:{value}") for label, value in choices]
        rows = _rows(buttons, 4 if step in ("goal", "nudge_time") else 2)
    rows.append([_button(texts.raw(lang, "profile.button_skip"), "profile.skip")])
    return InlineKeyboardMarkup(rows)


def _question(texts: Texts, lang: str, step: str) -> str:
    return texts.render(lang, f"profile.ask_{step}", max=MAX_GOAL)


def location_keyboard(texts: Texts, lang: str) -> ReplyKeyboardMarkup:
    """One reply-keyboard button that shares the user's location (the time zone question)."""
    button = KeyboardButton(texts.raw(lang, "profile.button_location"), request_location=True)
    return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)


async def ask(context: CoachContext, chat_id: int, step: Step, view: ProfileView) -> None:
    """Send the question of a step with its buttons."""
    lang = context.texts.language_of(view.language, context.lang)
    await context.bot.send_message(
        chat_id,
        _question(context.texts, lang, step.name),
        reply_markup=question_keyboard(context.texts, lang, step.name, view),
    )
    if step.name == "timezone":
        # A message carries one keyboard: the location button comes in a second one.
        await context.bot.send_message(
            chat_id,
            context.texts.render(lang, "profile.location_hint"),
            reply_markup=location_keyboard(context.texts, lang),
        )


def _reminder_lines(texts: Texts, lang: str, reminders: Reminders, zone: str) -> dict[str, str]:
    if reminders.paused_until is not None:
        # The pause ends as the day after the one the user gave begins: show that day.
        last_day = reminders.paused_until - timedelta(seconds=1)
        local = last_day.astimezone(load_zone(zone))
        date = local.strftime(texts.raw(lang, "nudges.date_format"))
        state = texts.plain(lang, "profile.paused_until_value", date=date)
    elif reminders.paused:
        state = texts.raw(lang, "profile.paused_value")
    else:
        state = texts.raw(lang, "profile.active_value")
    quiet = texts.plain(
        lang, "profile.quiet_value", start=reminders.quiet_start, end=reminders.quiet_end
    )
    return {"reminders": state, "quiet": quiet}


def render_profile(
    texts: Texts, lang: str, view: ProfileView, reminders: Reminders | None = None
) -> str:
    """/profile: every field, in the user's language, and the reminders' quiet hours and
    pause when the user has reminders."""
    unset = texts.raw(lang, "profile.not_set")

    def names(prefix: str, values: tuple[str, ...]) -> str:
        return ", ".join(texts.raw(lang, f"{prefix}.{v}") for v in values) or unset

    days = texts.join(lang, [texts.raw(lang, f"days.{WEEKDAY_KEYS[d]}") for d in view.nudge_days])
    platforms = names("platforms", view.platforms)
    if view.main_platform and len(view.platforms) > 1:
        platforms = texts.plain(
            lang,
            "profile.main_value",
            platforms=platforms,
            main=texts.raw(lang, f"platforms.{view.main_platform}"),
        )
    values = {
        "language": texts.raw(lang, f"language.button_{view.language}")
        if view.language
        else unset,
        "role": view.role or unset,
        "topics": ", ".join(view.topics) or unset,
        "audience": names("audiences", view.audience),
        "platforms": platforms,
        "goal": texts.plain(lang, "profile.goal_value", goal=view.weekly_goal)
        if view.weekly_goal
        else texts.plain(lang, "profile.goal_default", goal=view.goal),
        "timezone": zone_label(view.timezone) if view.timezone else unset,
        "nudge_days": texts.plain(
            lang, "profile.nudges_value", days=days, time=view.nudge_time or unset
        )
        if days
        else unset,
    }
    if reminders is not None:
        values |= _reminder_lines(texts, lang, reminders, view.zone)
    lines = [texts.render(lang, "profile.title")]
    for field, value in values.items():
        lines.append(
            texts.render(
                lang, "profile.line", field=texts.raw(lang, f"profile.field_{field}"), value=value
            )
        )
    return "\n".join(lines)


def render_understood_topics(texts: Texts, lang: str, understood: Sequence[TopicExpansion]) -> str:
    """One line per topic: the related words the checklist will also recognise."""
    lines = [
        texts.render(lang, "profile.topic_line", topic=item.topic, terms=", ".join(item.terms))
        if item.terms
        else texts.render(lang, "profile.topic_own_words", topic=item.topic)
        for item in understood
    ]
    # The lines are rendered (escaped) already: they go in as they are.
    return texts.raw(lang, "profile.topics_understood").format(lines="\n".join(lines))


def settings_keyboard(texts: Texts, lang: str) -> InlineKeyboardMarkup:
    """One button per profile field."""
    buttons = [
        _button(texts.raw(lang, f"profile.field_{step}"), f"settings.edit:{step}")
        for step in STEPS
    ]
    return InlineKeyboardMarkup(_rows(buttons, 2))


async def _after_answer(
    context: CoachContext, chat_id: int, view: ProfileView, following: Step | None, answered: Step
) -> None:
    """Ask the next question, or close the dialogue."""
    lang = context.texts.language_of(view.language, context.lang)
    if answered.name == "timezone":
        # Say what was understood, and take the location button away.
        await context.bot.send_message(
            chat_id,
            context.texts.render(lang, "profile.zone_set", zone=zone_label(view.timezone))
            if view.timezone
            else context.texts.render(lang, "profile.zone_kept"),
            reply_markup=ReplyKeyboardRemove(),
        )
    if following is not None:
        await ask(context, chat_id, following, view)
        return
    # The profile is settled: reminders follow its days, time and zone.
    await context.services.nudges.sync_from_profile(chat_id)
    if answered.mode == "onboarding":
        reminders = await context.services.profiles.reminders(chat_id)
        start, end = (reminders.quiet_start, reminders.quiet_end) if reminders else DEFAULT_QUIET
        await context.bot.send_message(
            chat_id, context.texts.render(lang, "onboarding.done", start=start, end=end)
        )
    else:
        await context.bot.send_message(
            chat_id,
            context.texts.render(lang, "profile.settings_saved")
            + "\n\n"
            + render_profile(context.texts, lang, view),
        )


def _invalid_text(context: CoachContext, invalid: InvalidAnswerError) -> str:
    """What is wrong with an answer, quoting it where the text names it."""
    reason = invalid.reason
    return context.render(
        f"profile.invalid_{reason}",
        limit=MAX_ROLE_CHARS,
        max=MAX_GOAL if "goal" in reason else MAX_TOPICS,
        chars=MAX_TOPIC_CHARS,
        value=invalid.value,
    )


async def _invalid(message: Message, context: CoachContext, invalid: InvalidAnswerError) -> None:
    await message.reply_text(_invalid_text(context, invalid))


async def begin_onboarding(context: CoachContext, chat_id: int, user_id: int) -> None:
    """Start the onboarding questions."""
    step = await context.services.profiles.begin(user_id, "onboarding")
    await context.bot.send_message(chat_id, context.render("onboarding.intro"))
    await ask(context, chat_id, step, await context.services.profiles.view(user_id))


async def resume_onboarding(context: CoachContext, chat_id: int, step: Step, user_id: int) -> None:
    """Ask again the question the user stopped at."""
    await context.bot.send_message(chat_id, context.render("onboarding.resume"))
    await ask(context, chat_id, step, await context.services.profiles.view(user_id))


async def answer_text(update: Update, context: CoachContext) -> bool:
    """A typed answer to the current profile question.

    False, answering nothing, when the text is clearly a draft rather than an answer: the
    caller reviews it, then `resume_after_draft` asks the question again.
    """
    message = require_message(update)
    user = require_user(update)
    profiles = context.services.profiles
    step = await profiles.step(user.id)
    if step is None:
        # The dialogue ended meanwhile (another update closed it): the text is a draft.
        return False
    text = message.text or ""
    if is_draft_not_answer(step.name, text):
        return False
    try:
        view, following = await profiles.answer_text(user.id, text)
    except InvalidAnswerError as invalid:
        await _invalid(message, context, invalid)
        await ask(context, message.chat_id, step, await profiles.view(user.id))
        return True
    if step.name == "topics":
        await _show_understood_topics(context, message.chat_id, view)
    await _after_answer(context, message.chat_id, view, following, step)
    return True


async def resume_after_draft(context: CoachContext, chat_id: int, user_id: int) -> None:
    """After reviewing a draft sent mid-dialogue: one line, then the open question again."""
    profiles = context.services.profiles
    step = await profiles.step(user_id)
    if step is None:
        return
    await context.bot.send_message(chat_id, context.render("profile.after_draft"))
    await ask(context, chat_id, step, await profiles.view(user_id))


async def _show_understood_topics(context: CoachContext, chat_id: int, view: ProfileView) -> None:
    """Say how each topic will be recognised, so the user sees what the checklist reads."""
    lang = context.texts.language_of(view.language, context.lang)
    understood = context.services.profiles.understood_topics(view.topics, lang)
    if understood:
        await context.bot.send_message(
            chat_id, render_understood_topics(context.texts, lang, understood)
        )


async def answer_location(update: Update, context: CoachContext) -> None:
    """A shared location answers the time zone question."""
    message = require_message(update)
    user = require_user(update)
    location = message.location
    profiles = context.services.profiles
    step = await profiles.step(user.id)
    if location is None or step is None:
        return
    try:
        view, following = await profiles.answer_location(
            user.id, location.latitude, location.longitude
        )
    except InvalidAnswerError as invalid:
        await _invalid(message, context, invalid)
        await ask(context, message.chat_id, step, await profiles.view(user.id))
        return
    await _after_answer(context, message.chat_id, view, following, step)


async def choose(update: Update, context: CoachContext) -> None:
    """A button answer to a single-choice question."""
    query = require_callback(update)
    assert context.match is not None
    step_name, value = context.match.group(1), context.match.group(2)
    profiles = context.services.profiles
    step = await profiles.step(query.from_user.id)
    try:
        view, following = await profiles.answer_choice(query.from_user.id, step_name, value)
    except InvalidAnswerError as invalid:
        await query.answer(_invalid_text(context, invalid), show_alert=True)
        return
    await query.answer()
    await close_keyboard(query.message)
    chat_id = query.message.chat.id if query.message else query.from_user.id
    await _after_answer(context, chat_id, view, following, step or Step("settings", step_name))


async def toggle(update: Update, context: CoachContext) -> None:
    """Tick or untick one choice of a multi-choice question, in place."""
    query = require_callback(update)
    assert context.match is not None
    step_name, value = context.match.group(1), context.match.group(2)
    view = await context.services.profiles.toggle(query.from_user.id, step_name, value)
    if view is None:
        await query.answer(context.render("profile.invalid_stale"), show_alert=True)
        return
    await query.answer()
    lang = context.texts.language_of(view.language, context.lang)
    await query.edit_message_reply_markup(question_keyboard(context.texts, lang, step_name, view))


async def finish_choices(update: Update, context: CoachContext) -> None:
    """ "Done" under a multi-choice question."""
    query = require_callback(update)
    assert context.match is not None
    profiles = context.services.profiles
    step = await profiles.step(query.from_user.id)
    result = await profiles.finish_step(query.from_user.id, context.match.group(1))
    if result is None or step is None:
        await query.answer(context.render("profile.invalid_stale"), show_alert=True)
        return
    await query.answer()
    await close_keyboard(query.message)
    view, following = result
    chat_id = query.message.chat.id if query.message else query.from_user.id
    await _after_answer(context, chat_id, view, following, step)


async def _skip(context: CoachContext, user_id: int, chat_id: int) -> bool:
    profiles = context.services.profiles
    step = await profiles.step(user_id)
    result = await profiles.skip(user_id)
    if result is None or step is None:
        return False
    view, following = result
    await _after_answer(context, chat_id, view, following, step)
    return True


async def skip_button(update: Update, context: CoachContext) -> None:
    """The "Skip" button under a question."""
    query = require_callback(update)
    chat_id = query.message.chat.id if query.message else query.from_user.id
    if not await _skip(context, query.from_user.id, chat_id):
        await query.answer(context.render("profile.invalid_stale"), show_alert=True)
        return
    await query.answer()
    await close_keyboard(query.message)


async def skip_command(update: Update, context: CoachContext) -> None:
    """/skip: leave the current question unanswered."""
    message = require_message(update)
    if not await _skip(context, require_user(update).id, message.chat_id):
        await message.reply_text(context.render("profile.nothing_to_skip"))


async def show_profile(update: Update, context: CoachContext) -> None:
    """/profile: what postcoach knows about the user."""
    message = require_message(update)
    profiles = context.services.profiles
    user_id = require_user(update).id
    view = await profiles.view(user_id)
    reminders = await profiles.reminders(user_id)
    await message.reply_text(render_profile(context.texts, context.lang, view, reminders))


async def show_settings(update: Update, context: CoachContext) -> None:
    """/settings: the profile with a button per field to change."""
    message = require_message(update)
    view = await context.services.profiles.view(require_user(update).id)
    await message.reply_text(
        render_profile(context.texts, context.lang, view)
        + "\n\n"
        + context.render("profile.settings_prompt"),
        reply_markup=settings_keyboard(context.texts, context.lang),
    )


async def edit_field(update: Update, context: CoachContext) -> None:
    """A /settings button: ask that one question."""
    query = require_callback(update)
    assert context.match is not None
    step = await context.services.profiles.begin(
        query.from_user.id, "settings", context.match.group(1)
    )
    await query.answer()
    chat_id = query.message.chat.id if query.message else query.from_user.id
    await ask(context, chat_id, step, await context.services.profiles.view(query.from_user.id))
