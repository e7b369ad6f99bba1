"""`postcoach run` killed (SIGKILL) in the middle of sending a few hundred nudges, against a
fake Bot API that allows 30 messages a second: after a restart every user has their
nudge within about the default lease (30 s, the claims renewed while they are sent); the
only repeats are the sends that were in flight or not yet confirmed when the process
died, at most `RESEND_BOUND` (README, "Crash safety"). Stopped with SIGTERM instead, it
claims nothing more, sends what it holds and exits within a few seconds."""

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

from bot.claims import LEASE, SENDERS, Confirmations
from bot.nudges.service import CLAIM_BATCH
from storage.database import create_engine
from storage.models import NudgeSchedule, User
from tests.e2e.conftest import BotProcess, base_env, start_bot
from tests.e2e.sql import run_sql
from tests.fakebot import FakeBotServer, make_user, private_chat

USERS = 300
FIRST_ID = 40_000
TIMEOUT = 120.0
# After a kill, every stranded nudge is out within the lease from the last renewal plus
# this: the restart, a tick (the README promises "within about 30 s" of the default lease).
STRANDED_AFTER_LEASE = 15
# A send Telegram accepted whose confirmation was not written yet (a batch), plus the
# sends in flight: what a restart can send again.
RESEND_BOUND = Confirmations.FLUSH_EVERY + SENDERS - 1


def _add_due_users(url: str, due_at: datetime, users: int = USERS) -> None:
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
                        for n in range(users)
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
                        for n in range(users)
                    ],
                )
        finally:
            await engine.dispose()

    asyncio.run(run())


def _nudges(server: FakeBotServer, users: int = USERS) -> Counter[int]:
    return Counter(
        message.chat_id
        for message in server.telegram.sent_messages()
        if FIRST_ID <= message.chat_id < FIRST_ID + users
        and "nudge." in json.dumps(message.reply_markup or {})
    )


def _unconfirmed(url: str) -> int:
    """Claims not confirmed yet: each could still go out (again) once its lease ends."""
    [(count,)] = run_sql(url, "SELECT count(*) FROM nudge_sends WHERE status = 'claimed'")
    return int(count)


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
    # A short lease (NUDGE_LEASE_SECONDS): the late kill checks the default's promise.
    _kill_and_restart(fake_api, bots, tmp_path, kill_after=30, lease_seconds=10)


@pytest.mark.backends("postgresql")
def test_a_kill_late_in_the_dispatch_loses_no_nudge(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    _kill_and_restart(fake_api, bots, tmp_path, kill_after=200, lease_seconds=None)


def _kill_and_restart(
    fake_api: FakeBotServer,
    bots: list[BotProcess],
    tmp_path: Path,
    kill_after: int,
    lease_seconds: int | None,
) -> None:
    """Kill the bot after `kill_after` nudges, restart it: each user has theirs, and only
    the unconfirmed ones went twice."""
    telegram = fake_api.telegram
    telegram.rate_limit(30)
    for n in range(USERS):
        telegram.register_chat(private_chat(make_user(FIRST_ID + n, f"U{n}")))
    # How soon stranded nudges go out is part of what is tested: the lease and a tick.
    lease = LEASE.total_seconds() if lease_seconds is None else lease_seconds
    extra = {} if lease_seconds is None else {"NUDGE_LEASE_SECONDS": str(lease_seconds)}
    env = base_env(fake_api, tmp_path, SCHEDULER_TICK_SECONDS="0.5", **extra)
    first = start_bot(bots, tmp_path, env, "first", server=fake_api)
    _add_due_users(env["DATABASE_URL"], datetime.now(UTC) + timedelta(seconds=1))

    _wait(lambda: sum(_nudges(fake_api).values()) >= kill_after, f"{kill_after} nudges")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(10)
    killed = time.monotonic()
    at_kill = sum(_nudges(fake_api).values())
    assert at_kill < USERS, "the dispatch ended before the kill: nothing was tested"
    assert _unconfirmed(env["DATABASE_URL"]) > 0, "nothing was stranded: nothing was tested"

    start_bot(bots, tmp_path, env, "second", server=fake_api)
    _wait(lambda: len(_nudges(fake_api)) == USERS, "every user's nudge")
    stranded_for = time.monotonic() - killed
    assert stranded_for <= lease + STRANDED_AFTER_LEASE, (
        f"the last nudge came {stranded_for:.0f} s late"
    )
    # A repeat can only come from a claim not confirmed yet: wait until none is left.
    _wait(lambda: _unconfirmed(env["DATABASE_URL"]) == 0, "every claim confirmed")
    sent = _nudges(fake_api)
    repeats = sum(count - 1 for count in sent.values())
    assert len(sent) == USERS, f"{USERS - len(sent)} users got no nudge"
    assert max(sent.values()) <= 2
    print(
        f"kill after {at_kill} of {USERS}: {repeats} sent twice (bound {RESEND_BOUND}),"
        f" the last {stranded_for:.0f} s after the kill"
    )
    assert repeats <= RESEND_BOUND, f"{repeats} nudges sent twice"
    assert telegram.rate_limited_count <= 10


SIGTERM_USERS = 600
# What a process that stops may still send: the batch being queued, the queue, the sends
# in flight.
IN_HAND_BOUND = 2 * CLAIM_BATCH + SENDERS
# SIGTERM to exit: the sends in hand at 30 a second, and PTB's own stop.
STOPPED_WITHIN = 8.0


@pytest.mark.backends("sqlite")
def test_sigterm_stops_claiming_sends_what_it_holds_and_exits_promptly(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    telegram = fake_api.telegram
    telegram.rate_limit(30)
    for n in range(SIGTERM_USERS):
        telegram.register_chat(private_chat(make_user(FIRST_ID + n, f"U{n}")))
    env = base_env(fake_api, tmp_path, SCHEDULER_TICK_SECONDS="0.5")
    first = start_bot(bots, tmp_path, env, "first", server=fake_api)
    _add_due_users(env["DATABASE_URL"], datetime.now(UTC) + timedelta(seconds=1), SIGTERM_USERS)

    def sent() -> int:
        return sum(_nudges(fake_api, SIGTERM_USERS).values())

    _wait(lambda: sent() >= 60, "60 nudges")
    at_term = sent()
    stopping = time.monotonic()
    code = first.stop(timeout=30)
    stopped_in = time.monotonic() - stopping
    after_term = sent() - at_term
    print(f"SIGTERM after {at_term}: {after_term} more sent, exit {code} in {stopped_in:.1f} s")
    assert code == 0, first.output
    assert stopped_in <= STOPPED_WITHIN, f"took {stopped_in:.1f} s to stop"
    assert after_term <= IN_HAND_BOUND, f"{after_term} sent after SIGTERM"
    assert sent() < SIGTERM_USERS, "the dispatch ended before the stop: nothing was tested"
    # Nothing was left claimed: the next process sends the rest at once, none twice.
    assert _unconfirmed(env["DATABASE_URL"]) == 0

    start_bot(bots, tmp_path, env, "second", server=fake_api)
    _wait(lambda: len(_nudges(fake_api, SIGTERM_USERS)) == SIGTERM_USERS, "every user's nudge")
    time.sleep(1)
    assert max(_nudges(fake_api, SIGTERM_USERS).values()) == 1
