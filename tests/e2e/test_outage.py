"""`postcoach run` when Telegram's API is down: a line per retry, never a flood of
tracebacks; one line and exit 2 for a revoked token."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import BotProcess, base_env, start_bot
from tests.fakebot import FakeBotServer, command, make_user

# Nothing here depends on the database: one back-end is enough.
pytestmark = pytest.mark.backends("sqlite")

REPLY_TIMEOUT = 30.0
UNREACHABLE = "Telegram unreachable"


def _wait_for_output(bot: BotProcess, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while text not in bot.output:
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never logged:\n{bot.output}")
        time.sleep(0.1)
    return bot.output


def test_an_outage_while_polling_logs_a_line_per_backoff_step_and_one_when_back(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    bot = start_bot(bots, tmp_path, base_env(fake_api, tmp_path), server=fake_api)
    telegram = fake_api.telegram
    telegram.fail("getUpdates", 502, times=None)
    time.sleep(8)  # the backoff steps are 1, 2 and 4 seconds
    during = bot.output
    telegram.clear_faults()
    after = _wait_for_output(bot, "Telegram reachable again (polling)")
    warnings = [line for line in during.splitlines() if UNREACHABLE in line]
    # Polled once a second or faster, 8 s of outage would be 8 or more lines; one per
    # step is at most 4 (at 0, 1, 3 and 7 s).
    assert 2 <= len(warnings) <= 5, during
    assert all("trying again in" in line for line in warnings)
    assert re.search(r"trying again in [1-9]\d? s", warnings[-1])
    assert "Traceback" not in after
    assert after.count("Telegram reachable again") == 1
    # Nothing is lost: a message sent after the outage is answered.
    anna = make_user(951, "Anna", language_code="it")
    mark = telegram.mark()
    telegram.push_update(command(anna, "/help"))
    [reply] = telegram.wait_for(
        "sendMessage", lambda call: call.chat_id == 951, timeout=REPLY_TIMEOUT, since=mark
    )
    assert reply.ok


def test_telegram_unreachable_at_start_is_waited_for_without_a_traceback(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    fake_api.telegram.fail("getMe", 503, times=3)
    bot = start_bot(bots, tmp_path, base_env(fake_api, tmp_path), server=fake_api)
    output = _wait_for_output(bot, "Telegram reachable again (start)")
    assert output.count(f"{UNREACHABLE} (start)") >= 2
    assert "Traceback" not in output


def test_a_revoked_token_ends_with_one_line_and_exit_code_2(
    fake_api: FakeBotServer, tmp_path: Path
) -> None:
    fake_api.telegram.fail("getMe", 401, description="Unauthorized", times=None)
    bot = BotProcess(tmp_path, base_env(fake_api, tmp_path))
    try:
        code = bot.process.wait(60)
    finally:
        bot.stop()
    output = bot.output
    assert code == 2, output
    assert "Telegram rifiuta il token del bot (401 Unauthorized)" in output
    assert "Telegram refuses the bot token (401 Unauthorized)" in output
    assert "Traceback" not in output
