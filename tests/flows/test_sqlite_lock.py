"""Another program holding the SQLite file's write lock: the bot waits for it, not its loop."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.texts.catalog import Texts
from storage.models import User
from storage.sqlite_driver import InlineDBAPI
from tests.fakebot import FakeTelegram, command, make_user
from tests.flows.conftest import Bot, running_bot
from tests.sqlite_locks import LoopLag, write_lock_held_elsewhere

pytestmark = pytest.mark.backends("sqlite")


async def test_a_start_during_a_lock_held_elsewhere_is_answered_after_it_and_the_loop_runs(
    bot: Bot, database_url: str
) -> None:
    path = Path(str(make_url(database_url).database))
    anna = make_user(4101, "Anna", language_code="it")
    with write_lock_held_elsewhere(path, seconds=2.0):
        started = time.monotonic()
        async with LoopLag() as lag:
            reply, *_ = await bot.replies(command(anna, "/start"))
        waited = time.monotonic() - started
    # The welcome waited for the lock (its user row is written first) while the loop went on
    # serving everything else: a health check, a reply to another chat, the scheduler.
    assert "Anna" in (reply.plain_text or "")
    assert waited >= 1.5
    assert lag.worst < 0.2, f"the loop was held {lag.worst:.3f} s"
    async with bot.sessions() as session:
        user = (await session.execute(select(User).where(User.id == 4101))).scalar_one()
    assert user.first_name == "Anna"


@pytest.fixture
async def stock_bot(database_url: str, texts: Texts) -> AsyncIterator[Bot]:
    """The bot with SQLITE_INLINE_DRIVER=false: SQLAlchemy's own aiosqlite adapter."""
    async with running_bot(database_url, FakeTelegram(), texts, sqlite_inline_driver=False) as bot:
        yield bot


async def test_with_the_inline_driver_off_a_start_during_a_lock_is_answered_after_it_too(
    stock_bot: Bot, database_url: str
) -> None:
    engine: AsyncEngine = stock_bot.application.bot_data["engine"]
    assert not isinstance(engine.dialect.dbapi, InlineDBAPI)
    path = Path(str(make_url(database_url).database))
    anna = make_user(4102, "Anna", language_code="it")
    with write_lock_held_elsewhere(path, seconds=2.0):
        started = time.monotonic()
        async with LoopLag() as lag:
            reply, *_ = await stock_bot.replies(command(anna, "/start"))
        waited = time.monotonic() - started
    # SQLite's own busy handler waited, on aiosqlite's thread: the loop went on meanwhile.
    assert "Anna" in (reply.plain_text or "")
    assert waited >= 1.5
    assert lag.worst < 0.2, f"the loop was held {lag.worst:.3f} s"
