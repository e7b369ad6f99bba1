"""Two `postcoach run` processes in webhook mode on one PostgreSQL database: every update
gets exactly one answer, and 2,000 due nudges go out exactly once in total."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from storage.database import create_engine
from tests.e2e.conftest import BotProcess, base_env
from tests.e2e.test_webhook import SECRET, SECRET_HEADER, URL
from tests.fakebot import FakeBotServer, command, make_user, private_chat
from tests.loopback import free_port

pytestmark = pytest.mark.backends("postgresql")

NUDGED = 2000
FIRST_NUDGED = 20_000
TIMEOUT = 120.0


def _start(
    bots: list[BotProcess], workdir: Path, server: FakeBotServer, name: str
) -> tuple[BotProcess, str, dict[str, str]]:
    port = free_port()
    env = base_env(
        server,
        workdir,
        WEBHOOK_URL=URL,
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        SCHEDULER_TICK_SECONDS="0.5",
        TELEGRAM_MAX_RATE="1000",
    )
    before = len(server.telegram.calls("setWebhook"))
    bot = BotProcess(workdir, env, name)
    bots.append(bot)
    deadline = time.monotonic() + 60
    while len(server.telegram.calls("setWebhook")) <= before:
        if bot.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{name} did not start:\n{bot.output}")
        time.sleep(0.05)
    return bot, f"http://127.0.0.1:{port}", env


def _add_due_users(url: str, due_at: datetime) -> None:
    users = [
        {"id": FIRST_NUDGED + n, "first_name": f"U{n}", "created_at": due_at, "seen": due_at}
        for n in range(NUDGED)
    ]
    schedules = [
        {"user_id": FIRST_NUDGED + n, "due": due_at, "days": json.dumps(list(range(7)))}
        for n in range(NUDGED)
    ]

    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO users (id, first_name, created_at, last_seen_at, is_active)"
                        " VALUES (:id, :first_name, :created_at, :seen, true)"
                    ),
                    users,
                )
                await connection.execute(
                    text(
                        "INSERT INTO nudge_schedules (user_id, kind, weekdays, local_time,"
                        " timezone, quiet_start, quiet_end, next_due_at, paused)"
                        " VALUES (:user_id, 'nudge', CAST(:days AS JSON), '09:00',"
                        " 'Europe/Rome', '00:00', '00:00', :due, false)"
                    ),
                    schedules,
                )
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_two_instances_answer_once_and_share_the_nudges(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    telegram = fake_api.telegram
    for n in range(NUDGED):
        telegram.register_chat(private_chat(make_user(FIRST_NUDGED + n, f"U{n}")))
    # The first instance migrates the empty database; the second finds it migrated.
    _, first_url, env = _start(bots, tmp_path, fake_api, "first")
    _, second_url, _ = _start(bots, tmp_path, fake_api, "second")

    # Updates spread across both instances, and one delivered to both (a retry).
    people = [make_user(30_000 + n, f"P{n}", language_code="en") for n in range(40)]
    for person in people:
        # Telegram knows these chats; here the updates skip the fake, so introduce them.
        telegram.register_chat(private_chat(person))
    updates = [command(person, "/help") for person in people]
    for index, update in enumerate(updates):
        update["update_id"] = 900_000 + index
    with httpx.Client(timeout=10) as client:
        for index, update in enumerate(updates):
            target = first_url if index % 2 else second_url
            response = client.post(
                target + "/telegram", json=update, headers={SECRET_HEADER: SECRET}
            )
            assert response.status_code == 200
        again = client.post(
            first_url + "/telegram", json=updates[0], headers={SECRET_HEADER: SECRET}
        )
        assert again.status_code == 200

    _add_due_users(env["DATABASE_URL"], datetime.now(UTC) + timedelta(seconds=2))

    def nudges() -> Counter[int]:
        return Counter(
            m.chat_id
            for m in telegram.sent_messages()
            if m.chat_id >= FIRST_NUDGED
            and m.chat_id < FIRST_NUDGED + NUDGED
            and "nudge." in json.dumps(m.reply_markup or {})
        )

    deadline = time.monotonic() + TIMEOUT
    while sum(nudges().values()) < NUDGED and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)  # anything sent twice would show up now

    answers = Counter(
        m.chat_id for m in telegram.sent_messages() if m.chat_id >= 30_000 and m.chat_id < 30_040
    )
    assert answers == Counter({30_000 + n: 1 for n in range(40)})
    sent = nudges()
    assert len(sent) == NUDGED, f"{NUDGED - len(sent)} users got no nudge"
    assert max(sent.values()) == 1, "a nudge went out twice"
