"""What the sending path does when Telegram pushes back: a 429 for one chat, a slow answer,
a user who blocked the bot, a flood, and a stop with a flood queued."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Update

from bot.app import build_application
from bot.texts.catalog import Texts
from bot.transport import metrics
from bot.transport.processing import MAX_QUEUED_PER_CHAT
from storage.database import create_session_factory
from storage.migrate import upgrade_engine
from storage.models import User
from tests.fakebot import (
    FakeTelegram,
    RecordingRequest,
    make_user,
    my_chat_member,
    private_chat,
    private_text,
)
from tests.flows.conftest import Bot, FakeClock, settings_for
from tests.flows.test_review import DRAFT_IT, SCORE

ANNA = make_user(610, "Anna")
BEA = make_user(611, "Bea")
APOLOGY = "Qualcosa"  # the start of errors.generic in Italian


async def _paced_bot(
    database_url: str,
    telegram: FakeTelegram,
    texts: Texts,
    read_timeout: float = 5.0,
    **overrides: Any,
) -> Bot:
    """The bot as in production: Telegram's per-chat pace on (the `bot` fixture has it off)."""
    values: dict[str, Any] = {"telegram_chat_rate": 1, **overrides}
    application = build_application(
        settings_for(database_url, **values),
        texts=texts,
        request=RecordingRequest(telegram, read_timeout=read_timeout),
        get_updates_request=RecordingRequest(telegram),
        clock=FakeClock(),
    )
    engine = application.bot_data["engine"]
    await upgrade_engine(engine)
    await application.initialize()
    return Bot(application, telegram, create_session_factory(engine), FakeClock())


@pytest.fixture
async def paced(database_url: str, telegram: FakeTelegram, texts: Texts) -> AsyncIterator[Bot]:
    """A started bot with the per-chat pace, DRAFTS_PER_MINUTE at its default."""
    bot = await _paced_bot(database_url, telegram, texts)
    try:
        yield bot
    finally:
        await bot.application.shutdown()
        await bot.application.bot_data["engine"].dispose()


def _reviews(telegram: FakeTelegram, chat_id: int) -> list[str]:
    return [
        text
        for sent in telegram.sent_messages(chat_id)
        if SCORE.search(text := sent.plain_text or "")
    ]


def _counter(counter: Any, label: str) -> float:
    value: float = counter.labels(label)._value.get()
    return value


async def _known(bot: Bot, *users: dict[str, Any]) -> None:
    """The users have written before (their account exists), and the fake forgets it."""
    for user in users:
        await bot.send(private_text(user, "/help"))
    bot.telegram.clear_calls()


async def test_a_429_for_one_chat_does_not_hold_up_another_user(paced: Bot) -> None:
    await _known(paced, ANNA, BEA)
    paced.telegram.fail("sendMessage", 429, retry_after=3, chat_id=ANNA["id"])
    started = time.monotonic()
    anna = asyncio.create_task(paced.send(private_text(ANNA, DRAFT_IT)))
    await asyncio.sleep(0.2)  # Anna's review got its 429
    await paced.send(private_text(BEA, DRAFT_IT))
    bea_waited = time.monotonic() - started
    await anna
    assert _reviews(paced.telegram, BEA["id"])
    assert bea_waited < 1.5  # not Anna's 3 s
    [anna_review] = paced.telegram.sent_messages(ANNA["id"])
    assert anna_review.at - started >= 3  # Anna's waited for what Telegram asked


async def test_a_flood_of_drafts_earns_one_slow_down_and_no_429(
    database_url: str, telegram: FakeTelegram, texts: Texts
) -> None:
    bot = await _paced_bot(database_url, telegram, texts, drafts_per_minute=4)
    try:
        await _known(bot, ANNA)
        telegram.telegram_limits()
        await bot.burst([private_text(ANNA, f"{DRAFT_IT} ({n})") for n in range(30)])
    finally:
        await bot.application.shutdown()
        await bot.application.bot_data["engine"].dispose()
    sent = telegram.sent_messages(ANNA["id"])
    assert len(_reviews(telegram, ANNA["id"])) == 4
    [slow_down] = [m.plain_text or "" for m in sent if not SCORE.search(m.plain_text or "")]
    assert slow_down.startswith("Piano")
    assert telegram.rate_limited_count == 0
    # Three at once, then about one a second, as Telegram allows a private chat.
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(sent[2:])]
    assert all(gap >= 0.95 for gap in gaps)


async def test_a_reply_that_times_out_gets_no_apology_and_holds_the_chat_once(
    database_url: str, telegram: FakeTelegram, texts: Texts
) -> None:
    bot = await _paced_bot(database_url, telegram, texts, read_timeout=0.5, telegram_chat_rate=0)
    try:
        await _known(bot, ANNA)
        telegram.delay("sendMessage", 1.0)  # Telegram delivers, but answers late
        started = time.monotonic()
        await bot.burst([private_text(ANNA, f"{DRAFT_IT} ({n})") for n in range(4)])
        waited = time.monotonic() - started
        await asyncio.sleep(1.2)  # the fake finishes the sends it answers late
    finally:
        await bot.application.shutdown()
        await bot.application.bot_data["engine"].dispose()
    texts_sent = [m.plain_text or "" for m in telegram.sent_messages(ANNA["id"])]
    assert len(_reviews(telegram, ANNA["id"])) == 4  # every review reached Anna
    assert not [text for text in texts_sent if text.startswith(APOLOGY)]
    assert waited < 4 * 0.5 + 1.0  # one time-out per update, not two


async def test_a_user_who_blocks_the_bot_while_it_replies_is_marked_inactive(
    paced: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    await _known(paced, ANNA)
    paced.telegram.block_user(ANNA["id"])
    inactive = _counter(metrics.REACHABILITY, "inactive")
    with caplog.at_level(logging.INFO):
        await paced.send(private_text(ANNA, DRAFT_IT))
    async with paced.sessions() as session:
        assert await session.scalar(select(User.is_active).where(User.id == ANNA["id"])) is False
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.handlers.errors"]
    refused = "Forbidden: bot was blocked by the user"
    assert lines == [f"user {ANNA['id']} refused a reply ({refused}): marked inactive"]
    assert _counter(metrics.REACHABILITY, "inactive") == inactive + 1
    # No apology is tried at a chat that refuses us.
    assert [call.method for call in paced.telegram.calls()] == ["sendMessage"]


async def test_a_chat_flooding_updates_has_the_ones_over_its_queue_dropped(bot: Bot) -> None:
    await _known(bot, ANNA)
    dropped = _counter(metrics.CHAT_QUEUE_DROPPED, "full")
    flood = MAX_QUEUED_PER_CHAT + 30
    await bot.burst([private_text(ANNA, "/help") for _ in range(flood)])
    assert _counter(metrics.CHAT_QUEUE_DROPPED, "full") == dropped + 30
    assert len(bot.telegram.sent_messages(ANNA["id"])) == MAX_QUEUED_PER_CHAT


async def test_a_stop_drops_the_updates_still_queued(paced: Bot) -> None:
    application = paced.application
    await _known(paced, ANNA)
    await application.start()
    dropped = _counter(metrics.CHAT_QUEUE_DROPPED, "stopping")
    for _ in range(20):  # at one a second, twenty seconds of replies
        update = paced.telegram.observe(private_text(ANNA, "/help"))
        await application.update_queue.put(Update.de_json(update, application.bot))
    await paced.telegram.wait_for_async("sendMessage", count=4)
    started = time.monotonic()
    await application.stop()
    assert time.monotonic() - started < 3
    assert _counter(metrics.CHAT_QUEUE_DROPPED, "stopping") >= dropped + 14
    assert len(paced.telegram.sent_messages(ANNA["id"])) < 10


async def test_a_block_and_a_return_are_one_info_line_each_and_counted(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    await _known(bot, BEA)
    before = {event: _counter(metrics.REACHABILITY, event) for event in metrics.REACH_EVENTS}
    with caplog.at_level(logging.INFO, logger="bot.handlers"):
        await bot.send(my_chat_member(private_chat(BEA), BEA, "member", "kicked"))
        await bot.send(my_chat_member(private_chat(BEA), BEA, "kicked", "member"))
        bot.telegram.block_user(BEA["id"])  # blocked without the bot hearing of it
        await bot.send(private_text(BEA, "/help"))
        bot.telegram.unblock_user(BEA["id"])
        await bot.send(private_text(BEA, "/help"))
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot.handlers")]
    refused = "Forbidden: bot was blocked by the user"
    assert lines == [
        f"user {BEA['id']} blocked the bot",
        f"user {BEA['id']} unblocked the bot",
        f"user {BEA['id']} refused a reply ({refused}): marked inactive",
        f"user {BEA['id']} wrote again: active, sends resume",
    ]
    after = {event: _counter(metrics.REACHABILITY, event) for event in metrics.REACH_EVENTS}
    assert {event: after[event] - before[event] for event in after} == {
        "blocked": 1,
        "refused": 1,
        "inactive": 1,
        "back": 2,
    }
    async with bot.sessions() as session:
        assert await session.scalar(select(User.is_active).where(User.id == BEA["id"])) is True
