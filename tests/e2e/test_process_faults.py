"""Faults an operator meets with the real process: a token refused after start-up, polling
refused for a while, DEBUG logs, a database that does not answer, is deleted under the bot or
fills its disk, and what the process says and does about each."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from tests.disks import fill, small_disk
from tests.e2e.conftest import BotProcess, base_env, run_cli, start_bot
from tests.fakebot import FakeBotServer, command, make_user, private_text
from tests.loopback import free_port

# Nothing here depends on the database's back-end: one is enough.
pytestmark = pytest.mark.backends("sqlite")

REPLY_TIMEOUT = 30.0


def test_a_token_revoked_during_start_up_is_one_line_and_exit_2_without_the_token(
    fake_api: FakeBotServer, tmp_path: Path
) -> None:
    telegram = fake_api.telegram
    bot = BotProcess(tmp_path, base_env(fake_api, tmp_path))
    try:
        # The start-up check is let through; the Application's own getMe is refused.
        deadline = time.monotonic() + REPLY_TIMEOUT
        while not telegram.calls("getMe"):
            assert time.monotonic() < deadline, bot.output
            time.sleep(0.01)
        telegram.fail("getMe", 401, description="Unauthorized", times=None)
        code = bot.process.wait(60)
    finally:
        bot.stop()
    output = bot.output
    assert code == 2, output
    assert "Telegram refuses the bot token (401 Unauthorized)" in output
    assert telegram.token not in output
    assert "Traceback" not in output


def test_debug_logs_name_the_calls_but_not_what_users_wrote(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    bot = start_bot(
        bots, tmp_path, base_env(fake_api, tmp_path, LOG_LEVEL="DEBUG"), server=fake_api
    )
    telegram = fake_api.telegram
    zenobia = make_user(971, "Zenobiaquux", language_code="en")
    mark = telegram.mark()
    telegram.push_update(command(zenobia, "/start"))
    telegram.wait_for("sendMessage", timeout=REPLY_TIMEOUT, since=mark, count=3)
    mark = telegram.mark()
    draft = (
        "Last month our team cut the Frobnicatorwidget cloud bill by 40%.\n"
        "How do you keep your infrastructure costs in check?"
    )
    telegram.push_update(private_text(zenobia, draft))
    telegram.wait_for("sendMessage", timeout=REPLY_TIMEOUT, since=mark)
    assert bot.stop() == 0
    output = bot.output
    # The bot greeted her by name, so the name went through the calls the log describes.
    assert any("Zenobiaquux" in (call.text or "") for call in telegram.calls("sendMessage"))
    assert "Calling Bot API endpoint `sendMessage`" in output
    assert "Zenobiaquux" not in output
    assert "Frobnicatorwidget" not in output


def test_polling_refused_for_a_few_seconds_answers_again_once_telegram_does(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    bot = start_bot(bots, tmp_path, base_env(fake_api, tmp_path), server=fake_api)
    telegram = fake_api.telegram
    telegram.fail("getUpdates", 401, description="Unauthorized", times=None)
    time.sleep(4)
    telegram.clear_faults()
    mark = telegram.mark()
    telegram.push_update(command(make_user(972, "Olga", language_code="en"), "/help"))
    [reply] = telegram.wait_for(
        "sendMessage", lambda call: call.chat_id == 972, timeout=15, since=mark
    )
    assert reply.ok
    output = bot.output
    assert "Aborting retry loop" not in output
    assert "Telegram refuses the token" in output
    assert telegram.token not in output
    assert bot.stop() == 0


def _get(port: int, path: str) -> int:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code
    except httpx.TransportError:
        return 0


def test_polling_serves_health_and_metrics_on_the_health_port(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    port = free_port()
    env = base_env(fake_api, tmp_path, HEALTH_PORT=str(port), HEARTBEAT_FILE="")
    bot = start_bot(bots, tmp_path, env, server=fake_api)
    deadline = time.monotonic() + REPLY_TIMEOUT
    while _get(port, "/healthz") != 200:
        assert time.monotonic() < deadline, bot.output
        time.sleep(0.1)
    assert _get(port, "/metrics") == 200
    # `postcoach health` asks the port, not the heartbeat file (there is none).
    alive = run_cli("health", cwd=tmp_path, env=env)
    assert alive.returncode == 0, alive.stderr
    assert bot.stop() == 0
    assert run_cli("health", cwd=tmp_path, env=env).returncode == 1


def test_webhook_mode_with_a_health_port_keeps_metrics_off_the_public_server(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    public, private = free_port(), free_port()
    env = base_env(
        fake_api,
        tmp_path,
        WEBHOOK_URL="https://bot.example.test/telegram",
        WEBHOOK_SECRET="e2e_Secret-0123456789abcdef",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(public),
        HEALTH_PORT=str(private),
    )
    mark = fake_api.telegram.mark()
    bot = start_bot(bots, tmp_path, env, server=fake_api)
    fake_api.telegram.wait_for("setWebhook", timeout=REPLY_TIMEOUT, since=mark)
    assert _get(private, "/metrics") == 200
    assert _get(private, "/healthz") == 200
    assert _get(public, "/metrics") == 404
    assert _get(public, "/healthz") == 404
    assert run_cli("health", cwd=tmp_path, env=env).returncode == 0
    assert bot.stop() == 0


def test_postgresql_unreachable_at_start_is_tried_for_a_while_then_exit_2(
    fake_api: FakeBotServer, tmp_path: Path
) -> None:
    url = f"postgresql://bot:Sekret-pw-42@127.0.0.1:{free_port()}/postcoach"
    env = base_env(fake_api, tmp_path, DATABASE_URL=url, DATABASE_WAIT_SECONDS="3")
    started = time.monotonic()
    bot = BotProcess(tmp_path, env)
    try:
        code = bot.process.wait(60)
    finally:
        bot.stop()
    output = bot.output
    assert code == 2, output
    assert time.monotonic() - started >= 3
    assert output.count("The database does not answer (") >= 2
    assert "giving up" in output
    assert "Traceback" not in output
    assert "Sekret-pw-42" not in output


def test_a_database_deleted_under_the_bot_stops_it_with_one_line_and_exit_1(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    database = tmp_path / "own" / "postcoach.sqlite3"
    env = base_env(fake_api, tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{database}")
    bot = start_bot(bots, tmp_path, env, server=fake_api)
    for path in database.parent.glob("postcoach.sqlite3*"):
        path.unlink()
    code = bot.process.wait(60)
    output = bot.output
    assert code == 1, output
    # Deleted, or already replaced by the empty file a new connection opened in its place;
    # the scheduler's tick, had it run first, did not trip on it with a traceback of its own.
    faults = re.findall(
        r"ERROR bot\.transport\.health: Storage fault: database (?:deleted|replaced)", output
    )
    assert len(faults) == 1, output
    assert "stopping, as what the bot would write now is lost at restart" in output
    assert "Traceback" not in output


def _health(port: int) -> tuple[int, str]:
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    except httpx.TransportError:
        return 0, ""
    return answer.status_code, answer.text.strip()


def _until_health(bot: BotProcess, port: int, status: int) -> str:
    deadline = time.monotonic() + REPLY_TIMEOUT
    while (answer := _health(port))[0] != status:
        assert time.monotonic() < deadline, (answer, bot.output)
        time.sleep(0.2)
    return answer[1]


def _as_after_a_while(database: Path) -> None:
    """Leave the database as a bot running for a while has it: its WAL checkpointed, with
    room for the next writes, so a write that changes nothing needs no more disk."""
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS test_ballast (x)")
        with connection:
            connection.executemany(
                "INSERT INTO test_ballast VALUES (randomblob(4000))", [()] * 100
            )
        with connection:
            connection.execute("DELETE FROM test_ballast")
        connection.execute("PRAGMA wal_checkpoint")


def test_a_full_disk_fails_health_with_one_line_and_room_back_heals_it(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    port = free_port()
    with small_disk(tmp_path / "disk") as disk:
        database = disk / "postcoach.sqlite3"
        env = base_env(
            fake_api,
            tmp_path,
            DATABASE_URL=f"sqlite+aiosqlite:///{database}",
            HEALTH_PORT=str(port),
            HEARTBEAT_FILE="",
        )
        bot = start_bot(bots, tmp_path, env, server=fake_api)
        _until_health(bot, port, 200)
        _as_after_a_while(database)

        fill(disk / "filler")
        assert _until_health(bot, port, 503) == "database full"
        assert run_cli("health", cwd=tmp_path, env=env).returncode == 1
        # Asked again and again (Docker does, every 30 s), and by the watch job meanwhile.
        for _ in range(5):
            assert _health(port) == (503, "database full")
        time.sleep(11)

        (disk / "filler").unlink()
        assert _until_health(bot, port, 200) == "ok"
        assert bot.stop() == 0
    output = bot.output
    assert output.count("database full") == 1, output
    assert re.search(r"ERROR bot\.transport\.health: Storage fault: database full; ", output)
    assert re.search(
        r"INFO bot\.transport\.health: Storage fault over: the database takes writes", output
    )
    assert "Traceback" not in output


def test_a_polled_update_that_cannot_be_handled_is_dropped_in_one_line(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    bot = start_bot(bots, tmp_path, base_env(fake_api, tmp_path), server=fake_api)
    telegram = fake_api.telegram
    broken = private_text(make_user(973, "Piero", language_code="en"), "a draft, no chat")
    del broken["message"]["chat"]
    mark = telegram.mark()
    telegram.push_update(broken)
    time.sleep(3)  # at least one poll has read it and dropped it
    telegram.push_update(command(make_user(974, "Rita", language_code="en"), "/help"))
    [reply] = telegram.wait_for(
        "sendMessage", lambda call: call.chat_id == 974, timeout=REPLY_TIMEOUT, since=mark
    )
    assert reply.ok
    assert bot.stop() == 0
    output = bot.output
    assert output.count("update dropped: it cannot be handled (parts)") == 1, output
    assert "Traceback" not in output
