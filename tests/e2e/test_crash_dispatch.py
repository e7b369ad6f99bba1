"""`postcoach run` killed (SIGKILL) in the middle of sending a few hundred nudges, against a
fake Bot API that allows 30 messages a second: after a restart every user has their
nudge; the only repeats are the sends that were in flight or not yet confirmed when the
process died, at most `RESEND_BOUND` (README, "Crash safety")."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from bot.handlers.nudges import SENDERS
from bot.nudges.service import Confirmations
from storage.database import create_engine
from storage.models import NudgeSchedule, User
from tests.e2e.conftest import BotProcess, base_env, start_bot
from tests.fakebot import FakeBotServer, make_user, private_chat

USERS = 300
FIRST_ID = 40_000
LEASE_SECONDS = 5
TIMEOUT = 120.0
# A send Telegram accepted whose confirmation was not written yet (a batch), plus the
# sends in flight: what a restart can send again.
RESEND_BOUND = Confirmations.FLUSH_EVERY + SENDERS - 1


def _add_due_users(url: str, due_at: datetime) -> None:
    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    insert(User),
                    [
                        {
                            "id": FIRST_ID + n,
                            "first_name": f"U{n}",
                            "created_at": due_at,
                            "last_seen_at": due_at,
                            "is_active": True,
                        }
                        for n in range(USERS)
                    ],
                )
                await connection.execute(
                    insert(NudgeSchedule),
                    [
                        {
                            "user_id": FIRST_ID + n,
                            "kind": "nudge",
                            "weekdays": list(range(7)),
                            "local_time": "09:00",
                            "timezone": "Europe/Rome",
                            "quiet_start": "00:00",
                            "quiet_end": "00:00",
                            "next_due_at": due_at,
                            "paused": False,
                        }
                        for n in range(USERS)
                    ],
                )
        finally:
            await engine.dispose()

    asyncio.run(run())


def _nudges(server: FakeBotServer) -> Counter[int]:
    return Counter(
        message.chat_id
        for message in server.telegram.sent_messages()
        if FIRST_ID <= message.chat_id < FIRST_ID + USERS
        and "nudge." in json.dumps(message.reply_markup or {})
    )


def _wait(condition: object, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


# Each kill point on one back-end: the four runs would cost two minutes of CI for little.
@pytest.mark.backends("sqlite")
def test_a_kill_early_in_the_dispatch_loses_no_nudge(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    _kill_and_restart(fake_api, bots, tmp_path, kill_after=30)


@pytest.mark.backends("postgresql")
def test_a_kill_late_in_the_dispatch_loses_no_nudge(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    _kill_and_restart(fake_api, bots, tmp_path, kill_after=200)


def _kill_and_restart(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path, kill_after: int
) -> None:
    """Kill the bot after `kill_after` nudges, restart it: each user has theirs, and only
    the unconfirmed ones went twice."""
    telegram = fake_api.telegram
    telegram.rate_limit(30)
    for n in range(USERS):
        telegram.register_chat(private_chat(make_user(FIRST_ID + n, f"U{n}")))
    env = base_env(
        fake_api,
        tmp_path,
        SCHEDULER_TICK_SECONDS="0.5",
        NUDGE_LEASE_SECONDS=str(LEASE_SECONDS),
    )
    first = start_bot(bots, tmp_path, env, "first", server=fake_api)
    _add_due_users(env["DATABASE_URL"], datetime.now(UTC) + timedelta(seconds=1))

    _wait(lambda: sum(_nudges(fake_api).values()) >= kill_after, f"{kill_after} nudges")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(10)
    at_kill = sum(_nudges(fake_api).values())
    assert at_kill < USERS, "the dispatch ended before the kill: nothing was tested"

    start_bot(bots, tmp_path, env, "second", server=fake_api)
    _wait(lambda: len(_nudges(fake_api)) == USERS, "every user's nudge")
    time.sleep(LEASE_SECONDS + 3)  # a repeat would come after the lease: wait it out
    sent = _nudges(fake_api)
    repeats = sum(count - 1 for count in sent.values())
    assert len(sent) == USERS, f"{USERS - len(sent)} users got no nudge"
    assert max(sent.values()) <= 2
    print(f"kill after {at_kill} of {USERS}: {repeats} sent twice (bound {RESEND_BOUND})")
    assert repeats <= RESEND_BOUND, f"{repeats} nudges sent twice"
    assert telegram.rate_limited_count <= 10
