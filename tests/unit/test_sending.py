"""Sends whose answer nobody reads (bot/transport/sending.py), through a real PTB ExtBot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import Defaults, ExtBot

from bot.transport.replies import reply_in_parts
from bot.transport.sending import SkipUnreadAnswers, unread_answers
from tests.fakebot import FakeTelegram, RecordingRequest, make_user, private_text

ANNA = make_user(4242, "Anna", "it")


@pytest.fixture
async def world() -> AsyncIterator[tuple[FakeTelegram, ExtBot[None]]]:
    telegram = FakeTelegram()
    telegram.observe(private_text(ANNA, "/start"))  # she wrote first: she can be answered
    bot: ExtBot[None] = ExtBot(
        telegram.token,
        defaults=Defaults(parse_mode=ParseMode.HTML),
        request=SkipUnreadAnswers(RecordingRequest(telegram)),
        get_updates_request=RecordingRequest(telegram),
    )
    async with bot:
        yield telegram, bot


async def test_an_unread_send_reaches_telegram_whole_and_answers_true(
    world: tuple[FakeTelegram, ExtBot[None]],
) -> None:
    telegram, bot = world
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Sì", callback_data="x:1")]])
    with unread_answers():
        answer: object = await bot.send_message(
            ANNA["id"], "<b>Bozza</b> rivista", reply_markup=keyboard
        )
    assert answer is True
    (sent,) = telegram.sent_messages(ANNA["id"])
    # The defaults and the buttons went out as PTB builds them.
    assert (sent.plain_text, sent.parse_mode) == ("Bozza rivista", "HTML")
    assert [entity["type"] for entity in sent.message["entities"]] == ["bold"]
    assert sent.reply_markup == {"inline_keyboard": [[{"text": "Sì", "callback_data": "x:1"}]]}


async def test_outside_the_block_and_in_other_tasks_answers_are_messages(
    world: tuple[FakeTelegram, ExtBot[None]],
) -> None:
    _, bot = world

    async def elsewhere() -> object:
        return await bot.send_message(ANNA["id"], "altro")

    # A task started before the block keeps the context it started with: its answer is read.
    other = asyncio.create_task(elsewhere())
    with unread_answers():
        await asyncio.sleep(0)
        inside: object = await bot.send_message(ANNA["id"], "dentro")
        assert inside is True
    read = await bot.send_message(ANNA["id"], "fuori")
    assert isinstance(read, Message)
    assert read.text == "fuori"
    assert isinstance(await other, Message)


async def test_errors_are_raised_as_usual_inside_the_block(
    world: tuple[FakeTelegram, ExtBot[None]],
) -> None:
    telegram, bot = world
    with unread_answers():
        with pytest.raises(BadRequest, match="parse entities"):
            await bot.send_message(ANNA["id"], "<b>aperto")
        telegram.block_user(ANNA["id"])
        with pytest.raises(Forbidden):
            await bot.send_message(ANNA["id"], "ciao")


async def test_reply_in_parts_sends_every_part_and_reads_no_answer(
    world: tuple[FakeTelegram, ExtBot[None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    telegram, bot = world
    update = telegram.observe(private_text(ANNA, "bozza"))
    message = Message.de_json(update["message"], bot)
    built: list[object] = []
    de_json = Message.de_json

    def counted(data: dict[str, Any], bot: Any = None) -> Message:
        built.append(data)
        return de_json(data, bot)

    monkeypatch.setattr(Message, "de_json", counted)
    long_text = "\n".join(f"riga {n} " + "x" * 90 for n in range(80))  # over 4,096 chars
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ok", callback_data="ok")]])
    await reply_in_parts(message, long_text, reply_markup=keyboard)
    sent = telegram.sent_messages(ANNA["id"])
    assert len(sent) == 2
    assert "\n".join(part.text or "" for part in sent) == long_text
    assert [part.reply_markup is not None for part in sent] == [False, True]
    assert built == []  # neither answer was turned into a Message
