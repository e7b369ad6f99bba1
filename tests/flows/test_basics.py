"""The first conversation: /start, /help, /language, unsupported messages, errors."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.app import MENU_COMMANDS, register_commands
from bot.texts.catalog import Texts
from storage.models import User
from tests.fakebot import (
    FakeTelegram,
    command,
    inline_buttons,
    location,
    make_user,
    private_text,
    sticker,
    voice,
)
from tests.flows.conftest import Bot


async def test_start_welcomes_in_italian_and_stores_the_user(bot: Bot, texts: Texts) -> None:
    anna = make_user(101, "Anna", language_code="it")
    reply, *_ = await bot.replies(command(anna, "/start"))
    assert reply.chat_id == 101
    assert "Ciao" in (reply.plain_text or "")
    assert "Anna" in (reply.plain_text or "")
    async with bot.sessions() as session:
        user = (await session.execute(select(User).where(User.id == 101))).scalar_one()
    assert user.first_name == "Anna"
    assert user.telegram_language == "it"
    assert user.is_active


async def test_start_speaks_english_to_english_users(bot: Bot) -> None:
    reply, *_ = await bot.replies(command(make_user(102, "John", language_code="en-GB"), "/start"))
    assert (reply.plain_text or "").startswith("Hi John")


async def test_unknown_telegram_language_gets_italian(bot: Bot) -> None:
    reply, *_ = await bot.replies(command(make_user(103, "Hans", language_code="de"), "/start"))
    assert (reply.plain_text or "").startswith("Ciao Hans")


async def test_second_start_welcomes_back(bot: Bot) -> None:
    anna = make_user(104, "Anna")
    await bot.replies(command(anna, "/start"))
    await bot.replies(command(anna, "/cancel"))
    reply, *_ = await bot.replies(command(anna, "/start"))
    assert "Bentornat" in (reply.plain_text or "")


async def test_start_in_the_middle_of_onboarding_says_one_thing(bot: Bot) -> None:
    anna = make_user(123, "Anna")
    await bot.replies(command(anna, "/start"))
    resume, question = await bot.replies(command(anna, "/start"))
    assert resume.plain_text == "Riprendiamo da dove eravamo rimasti."
    assert "lingua" in (question.plain_text or "")


async def test_name_with_html_is_escaped(bot: Bot) -> None:
    reply, *_ = await bot.replies(command(make_user(105, "<b>Eve & co</b>"), "/start"))
    assert "&lt;b&gt;Eve &amp; co&lt;/b&gt;" in (reply.text or "")
    assert "<b>Eve & co</b>" in (reply.plain_text or "")


async def test_help_lists_the_commands(bot: Bot) -> None:
    [reply] = await bot.replies(command(make_user(106, "Luca", language_code="en"), "/help"))
    body = reply.plain_text or ""
    for name in ("/start", "/review", "/language", "/help"):
        assert name in body


async def test_language_switch_with_buttons(bot: Bot) -> None:
    anna = make_user(107, "Anna", language_code="it")
    [prompt] = await bot.replies(command(anna, "/language"))
    buttons = inline_buttons(prompt.message)
    assert [data for _, data in buttons] == ["language.set:it", "language.set:en"]
    calls = await bot.press(anna, prompt.message, "language.set:en")
    edited = [call for call in calls if call.method == "editMessageText"]
    assert edited
    assert "English" in (edited[0].text or "")
    assert any(call.method == "answerCallbackQuery" for call in calls)
    [reply] = await bot.replies(command(anna, "/help"))
    assert "What postcoach does" in (reply.plain_text or "")
    async with bot.sessions() as session:
        user = await session.get(User, 107)
    assert user is not None
    assert user.language == "en"


async def test_forged_language_callback_is_refused(bot: Bot) -> None:
    anna = make_user(108, "Anna")
    [prompt] = await bot.replies(command(anna, "/language"))
    calls = await bot.press(anna, prompt.message, "language.set:de")
    answers = [call for call in calls if call.method == "answerCallbackQuery"]
    assert answers
    assert "non è più valido" in str(answers[0].params.get("text"))
    assert not [call for call in calls if call.method == "editMessageText"]
    async with bot.sessions() as session:
        user = await session.get(User, 108)
    assert user is not None
    assert user.language is None


@pytest.mark.parametrize("make_update", [sticker, voice, lambda u: location(u, 45.46, 9.19)])
async def test_unsupported_message_says_what_is_accepted(bot: Bot, make_update: object) -> None:
    anna = make_user(109, "Anna")
    [reply] = await bot.replies(make_update(anna))  # type: ignore[operator]
    assert "/help" in (reply.plain_text or "")


async def test_error_is_reported_to_user_and_admin_without_the_token(
    database_url: str, telegram: FakeTelegram, texts: Texts, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.app import build_application
    from bot.handlers import errors
    from storage.migrate import upgrade_engine
    from tests.fakebot import DEFAULT_TOKEN, RecordingRequest
    from tests.flows.conftest import settings_for

    application = build_application(
        settings_for(database_url, admin_chat_id=-1009),
        texts=texts,
        request=RecordingRequest(telegram),
        get_updates_request=RecordingRequest(telegram),
    )
    await upgrade_engine(application.bot_data["engine"])
    await application.initialize()
    telegram.register_chat({"id": -1009, "type": "supergroup", "title": "ops"})

    async def explode(*_: object) -> None:
        raise RuntimeError(f"boom with {DEFAULT_TOKEN}")

    from telegram.ext import CommandHandler

    application.add_handler(CommandHandler("boom", explode), group=-2)
    test_bot = Bot(application, telegram, None, None)  # type: ignore[arg-type]
    errors._last_report.clear()
    try:
        with caplog.at_level(logging.ERROR):
            replies = await test_bot.replies(command(make_user(110, "Anna"), "/boom"))
            # The same kind of error again within ten minutes: the user hears, the admin not.
            again = await test_bot.replies(command(make_user(111, "Luca"), "/boom"))
    finally:
        await application.shutdown()
        await application.bot_data["engine"].dispose()
    to_user = [r for r in replies if r.chat_id == 110]
    to_admin = [r for r in replies if r.chat_id == -1009]
    assert to_user
    assert "andato storto" in (to_user[0].plain_text or "")
    assert "Traceback" not in (to_user[0].plain_text or "")
    assert to_admin
    assert "RuntimeError" in (to_admin[0].plain_text or "")
    assert DEFAULT_TOKEN not in (to_admin[0].plain_text or "")
    assert DEFAULT_TOKEN.split(":")[1] not in (to_admin[0].plain_text or "")
    assert again
    assert {r.chat_id for r in again} == {111}


async def test_command_menus_in_both_languages(bot: Bot, telegram: FakeTelegram) -> None:
    await register_commands(bot.application, bot.application.bot_data["services"].texts)
    italian = {c["command"]: c["description"] for c in telegram.commands(language_code="it")}
    english = {c["command"]: c["description"] for c in telegram.commands(language_code="en")}
    default = {c["command"]: c["description"] for c in telegram.commands()}
    assert set(italian) == set(english) == set(default) == set(MENU_COMMANDS)
    assert {"start", "review", "language", "help"} <= set(MENU_COMMANDS)
    assert italian["help"] != english["help"]
    assert default == italian
    assert "cancel" in italian


async def test_the_empty_chat_says_what_the_bot_does(bot: Bot, telegram: FakeTelegram) -> None:
    """Before /start, Telegram shows the description: set in both languages from prompts/."""
    texts = bot.application.bot_data["services"].texts
    await register_commands(bot.application, texts)
    for kind in ("description", "short_description"):
        italian = telegram.description(kind, "it")
        english = telegram.description(kind, "en")
        assert italian == texts.plain("it", f"about.{kind}")
        assert english == texts.plain("en", f"about.{kind}")
        assert italian != english
        assert telegram.description(kind) == italian
    assert "bozz" in telegram.description("description", "it")
    assert "draft" in telegram.description("description", "en")


async def test_plain_text_in_a_group_is_ignored(bot: Bot) -> None:
    from tests.fakebot import group_text, make_group

    group = make_group(-100500, "Ingegneri")
    replies = await bot.replies(group_text(make_user(111, "Anna"), group, "ciao a tutti"))
    assert replies == []


async def test_private_message_without_command_is_not_unsupported(bot: Bot) -> None:
    replies = await bot.replies(private_text(make_user(112, "Anna"), "Una bozza di prova"))
    assert replies
    assert "non lo so ancora gestire" not in (replies[0].plain_text or "")


async def test_unknown_command_points_to_help(bot: Bot) -> None:
    mario = make_user(121, "Mario", language_code="it")
    await bot.replies(command(mario, "/start"))
    [reply] = await bot.replies(command(mario, "/pubblica"))
    assert reply.plain_text == "Non conosco il comando /pubblica: /help elenca quelli che ho."
    [reply] = await bot.replies(
        command(make_user(122, "Jo", language_code="en"), "/x@postcoach_bot")
    )
    assert reply.plain_text == "I don't know the command /x: /help lists the ones I have."
