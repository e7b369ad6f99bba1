"""Another program holding the SQLite file's write lock: the bot waits for it, not its loop."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from storage.models import User
from tests.fakebot import command, make_user
from tests.flows.conftest import Bot
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
