"""Faults an operator meets with the real process: a token refused after start-up, polling
refused for a while, DEBUG logs, and what the process says and does about each."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.conftest import BotProcess, base_env, start_bot
from tests.fakebot import FakeBotServer, command, make_user, private_text

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
