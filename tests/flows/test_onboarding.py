"""Onboarding, one question at a time, resumable across a restart; /profile and /settings."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import build_application
from bot.texts.catalog import Texts
from storage.migrate import upgrade_engine
from storage.models import Profile, User
from tests.fakebot import (
    FakeTelegram,
    RecordingRequest,
    SentMessage,
    command,
    inline_buttons,
    location,
    make_user,
    private_text,
)
from tests.flows.conftest import Bot, settings_for


def _data(message: SentMessage) -> list[str]:
    return [data for _, data in inline_buttons(message.message)]


async def _press(
    bot: Bot, user: dict[str, object], message: SentMessage, data: str
) -> list[SentMessage]:
    assert data in _data(message), (data, _data(message))
    before = len(bot.telegram.sent_messages())
    await bot.press(user, message.message, data)
    return bot.telegram.sent_messages()[before:]


def _location_button(message: SentMessage) -> str:
    """The text of the one "share my location" reply-keyboard button under a message."""
    markup = message.reply_markup or {}
    [[button]] = markup["keyboard"]
    assert button["request_location"] is True
    assert markup.get("one_time_keyboard") is True
    return str(button["text"])


async def _profile(bot: Bot, user_id: int) -> Profile:
    async with bot.sessions() as session:
        profile = (
            await session.execute(select(Profile).where(Profile.user_id == user_id))
        ).scalar_one()
    return profile


async def test_onboarding_walks_every_question(bot: Bot) -> None:
    anna = make_user(301, "Anna", language_code="it")
    replies = await bot.replies(command(anna, "/start"))
    assert "Ciao" in (replies[0].plain_text or "")
    question = replies[-1]
    assert "lingua" in (question.plain_text or "")

    [question] = await _press(bot, anna, question, "profile.set:language:en")
    assert "What do you do" in (question.plain_text or "")
    [question] = await bot.replies(private_text(anna, "Freelance structural engineer"))
    assert "subjects" in (question.plain_text or "")
    understood, question = await bot.replies(private_text(anna, "seismic retrofit, schools, BIM"))
    # Each topic is said back with words of the thesaurus the checklist will also match.
    assert "“seismic retrofit”: for example earthquake" in (understood.plain_text or "")
    assert "“schools”: by its own words" in (understood.plain_text or "")
    assert "“BIM”: for example IFC" in (understood.plain_text or "")
    assert "Who do you mostly speak to" in (question.plain_text or "")

    # Multi-choice: toggled in place, closed with Done.
    await bot.press(anna, question.message, "profile.toggle:audience:clients")
    await bot.press(anna, question.message, "profile.toggle:audience:public_admin")
    edited = bot.telegram.message(301, question.message_id)
    assert edited is not None
    assert any(text.startswith("✅") for text, _ in inline_buttons(edited))
    [question] = await _press(bot, anna, question, "profile.done:audience")
    assert "Where do you post" in (question.plain_text or "")
    await bot.press(anna, question.message, "profile.toggle:platforms:linkedin")
    await bot.press(anna, question.message, "profile.toggle:platforms:instagram")
    [question] = await _press(bot, anna, question, "profile.done:platforms")
    assert "main platform" in (question.plain_text or "")
    assert _data(question)[:2] == [
        "profile.set:main_platform:linkedin",
        "profile.set:main_platform:instagram",
    ]
    [question] = await _press(bot, anna, question, "profile.set:main_platform:linkedin")
    assert "posts a week" in (question.plain_text or "")

    [error, question] = await bot.replies(private_text(anna, "500"))
    assert "“500” won't do" in (error.plain_text or "")
    assert "from 1 to 21" in (error.plain_text or "")
    assert "posts a week" in (question.plain_text or "")
    question, hint = await bot.replies(private_text(anna, "3"))
    assert "time zone" in (question.plain_text or "")
    # The location is one tap away, on a reply-keyboard button.
    assert _location_button(hint) == "📍 Send my location"

    [error, question, hint] = await bot.replies(private_text(anna, "Atlantide"))
    assert "can't find “Atlantide” as a place" in (error.plain_text or "")
    assert _location_button(hint)
    zone, question = await bot.replies(private_text(anna, "Milano"))
    assert "Time zone: Europe/Rome (UTC+" in (zone.plain_text or "")
    assert zone.reply_markup == {"remove_keyboard": True}
    assert "which days" in (question.plain_text or "").lower()
    for day in ("0", "2", "4"):
        await bot.press(anna, question.message, f"profile.toggle:nudge_days:{day}")
    [question] = await _press(bot, anna, question, "profile.done:nudge_days")
    assert "At what time" in (question.plain_text or "")

    [error, question] = await bot.replies(private_text(anna, "25:70"))
    assert "“25:70” is not a time of day" in (error.plain_text or "")
    assert "9:30" in (error.plain_text or "")
    [done] = await bot.replies(private_text(anna, "8.45"))
    assert "profile is ready" in (done.plain_text or "")
    # The quiet hours exist from the start, and onboarding says so.
    assert "From 21:00 to 08:00 I don't write to you" in (done.plain_text or "")

    profile = await _profile(bot, 301)
    assert profile.role == "Freelance structural engineer"
    assert profile.topics == ["seismic retrofit", "schools", "BIM"]
    assert profile.audience == ["clients", "public_admin"]
    assert profile.platforms == ["linkedin", "instagram"]
    assert profile.main_platform == "linkedin"
    assert profile.weekly_goal == 3
    assert profile.timezone == "Europe/Rome"
    assert profile.nudge_days == [0, 2, 4]
    assert profile.nudge_time == "08:45"
    assert profile.onboarded_at is not None
    async with bot.sessions() as session:
        user = await session.get(User, 301)
    assert user is not None
    assert user.language == "en"
    assert user.dialogue is None

    # After onboarding, text is a draft again, and the topics reach the checklist.
    [review] = await bot.replies(private_text(anna, "BIM made our school retrofit 20% cheaper."))
    assert "/100" in (review.plain_text or "")
    assert "Not checked" not in (review.plain_text or "")


async def test_onboarding_survives_a_restart(
    bot: Bot, database_url: str, telegram: FakeTelegram, texts: Texts
) -> None:
    luca = make_user(302, "Luca", language_code="it")
    replies = await bot.replies(command(luca, "/start"))
    await _press(bot, luca, replies[-1], "profile.set:language:it")
    await bot.replies(private_text(luca, "Ingegnere civile"))

    # A second process on the same database, as after a crash and a restart.
    restarted = build_application(
        settings_for(database_url),
        texts=texts,
        request=RecordingRequest(telegram),
        get_updates_request=RecordingRequest(telegram),
    )
    await upgrade_engine(restarted.bot_data["engine"])
    await restarted.initialize()
    try:
        second = Bot(restarted, telegram, bot.sessions, bot.clock)
        replies = await second.replies(command(luca, "/start"))
        # One thing to say: where we were, and the question (no "welcome back" first).
        resume, topics = [r.plain_text or "" for r in replies]
        assert resume == "Riprendiamo da dove eravamo rimasti."
        assert "temi" in topics
        understood, question = await second.replies(private_text(luca, "strutture in acciaio"))
        assert "«strutture in acciaio»: per esempio" in (understood.plain_text or "")
        assert "A chi ti rivolgi" in (question.plain_text or "")
    finally:
        await restarted.shutdown()
        await restarted.bot_data["engine"].dispose()
    profile = await _profile(bot, 302)
    assert profile.role == "Ingegnere civile"
    assert profile.topics == ["strutture in acciaio"]


async def test_skip_moves_on_and_location_sets_the_zone(bot: Bot) -> None:
    sara = make_user(303, "Sara", language_code="it")
    replies = await bot.replies(command(sara, "/start"))
    await _press(bot, sara, replies[-1], "profile.set:language:it")
    for _ in range(5):  # role, topics, audience, platforms, goal (main is skipped itself)
        await bot.replies(command(sara, "/skip"))
    zone, question = await bot.replies(location(sara, 40.7128, -74.0060))
    assert "America/New York (UTC-0" in (zone.plain_text or "")
    assert zone.reply_markup == {"remove_keyboard": True}
    assert "giorni" in (question.plain_text or "")
    profile = await _profile(bot, 303)
    assert profile.timezone == "America/New_York"
    assert profile.role is None
    assert profile.weekly_goal is None


async def test_profile_and_settings_change_a_field(bot: Bot) -> None:
    piero = make_user(304, "Piero", language_code="it")
    replies = await bot.replies(command(piero, "/start"))
    for _ in range(10):
        await bot.replies(command(piero, "/skip"))
    [shown] = await bot.replies(command(piero, "/profile"))
    assert "Il tuo profilo" in (shown.plain_text or "")
    [menu] = await bot.replies(command(piero, "/settings"))
    [question] = await _press(bot, piero, menu, "settings.edit:goal")
    [saved] = await _press(bot, piero, question, "profile.set:goal:5")
    assert "Salvato" in (saved.plain_text or "")
    assert "5 post a settimana" in (saved.plain_text or "")
    assert (await _profile(bot, 304)).weekly_goal == 5
    assert replies


async def test_stale_profile_button_is_refused(bot: Bot) -> None:
    eva = make_user(305, "Eva", language_code="it")
    replies = await bot.replies(command(eva, "/start"))
    language_question = replies[-1]
    await _press(bot, eva, language_question, "profile.set:language:it")
    calls = await bot.press(eva, language_question.message, "profile.set:language:en")
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params.get("show_alert") is True
    async with bot.sessions() as session:
        user = await session.get(User, 305)
    assert user is not None
    assert user.language == "it"


async def test_profile_shows_the_default_goal_the_days_the_quiet_hours_and_the_pause(
    bot: Bot,
) -> None:
    rita = make_user(306, "Rita", language_code="it")
    await bot.replies(command(rita, "/start"))
    for _ in range(10):
        await bot.replies(command(rita, "/skip"))
    [shown] = await bot.replies(command(rita, "/profile"))
    # A skipped goal is the default, and the profile says so rather than "—".
    assert "Obiettivo</b>: 2 post a settimana (predefinito" in (shown.text or "")
    assert "Ore di silenzio</b>: dalle 21:00 alle 08:00" in (shown.text or "")

    [menu] = await bot.replies(command(rita, "/settings"))
    [question] = await _press(bot, rita, menu, "settings.edit:nudge_days")
    for day in ("0", "2", "4"):
        await bot.press(rita, question.message, f"profile.toggle:nudge_days:{day}")
    await _press(bot, rita, question, "profile.done:nudge_days")
    await bot.replies(command(rita, "/quiet 22:00-07:30"))
    await bot.replies(command(rita, "/pause 15/12"))

    [shown] = await bot.replies(command(rita, "/profile"))
    text = shown.plain_text or ""
    assert "lunedì, mercoledì e venerdì alle " in text
    assert "Ore di silenzio: dalle 22:00 alle 07:30" in text
    assert "Promemoria: in pausa fino al 15/12/2026" in text

    await bot.replies(command(rita, "/resume"))
    [shown] = await bot.replies(command(rita, "/profile"))
    assert "Promemoria: attivi" in (shown.plain_text or "")
