"""Sending faults through the real `postcoach run` process (issue 20): a SIGTERM with a
flood queued exits well within compose's 30 s grace, the updates never started dropped
and counted; a send Telegram answers after TELEGRAM_READ_TIMEOUT is one warning, not an
apology nor a traceback."""

from __future__ import annotations

import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from bot.texts.catalog import Texts
from bot.transport.processing import MAX_QUEUED_PER_CHAT
from tests.e2e.conftest import BotProcess, base_env, start_bot
from tests.fakebot import FakeBotServer, make_user, private_text
from tests.flows.test_review import DRAFT_IT, SCORE
from tests.loopback import free_port

# Nothing here depends on the database: one back-end is enough.
pytestmark = pytest.mark.backends("sqlite")

FLOODERS = [make_user(7_100 + n, f"Flood {n}", language_code="it") for n in range(3)]
FLOOD_PER_CHAT = 100  # 300 updates, twice what the three queues hold
# Well under compose's stop_grace_period of 30 s, after which Docker kills the bot.
EXIT_WITHIN = 15.0
REPLY_TIMEOUT = 30.0


def _dropped(port: int) -> dict[str, float]:
    """postcoach_chat_queue_dropped_total by reason, as /metrics on HEALTH_PORT says."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        page = answer.read().decode()
    pattern = r'^postcoach_chat_queue_dropped_total\{reason="(\w+)"\} (\S+)$'
    return {reason: float(value) for reason, value in re.findall(pattern, page, re.MULTILINE)}


def _wait(condition: object, what: str, bot: BotProcess, timeout: float = REPLY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{bot.output}")
        time.sleep(0.1)


def test_a_sigterm_with_a_flood_queued_exits_in_seconds_dropping_what_never_started(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    health_port = free_port()
    env = base_env(fake_api, tmp_path, HEALTH_PORT=str(health_port))
    bot = start_bot(bots, tmp_path, env, server=fake_api)
    telegram = fake_api.telegram
    # Telegram answering each send in half a second, on top of the pace of one a second
    # per chat: every queued update would hold the exit up for a second or more.
    telegram.delay("sendMessage", 0.5)
    for _ in range(FLOOD_PER_CHAT):
        for user in FLOODERS:
            telegram.push_update(private_text(user, "/help"))
    over = len(FLOODERS) * (FLOOD_PER_CHAT - MAX_QUEUED_PER_CHAT)
    _wait(lambda: _dropped(health_port).get("full") == over, "the floods to fill", bot)
    telegram.wait_for("sendMessage", count=len(FLOODERS), timeout=REPLY_TIMEOUT)

    started = time.monotonic()
    bot.process.send_signal(signal.SIGTERM)
    try:
        code = bot.process.wait(EXIT_WITHIN)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running {EXIT_WITHIN} s after SIGTERM") from None
    took = time.monotonic() - started
    output = bot.output

    assert code == 0, output
    assert took < EXIT_WITHIN
    replies = [m for user in FLOODERS for m in telegram.sent_messages(user["id"])]
    queued = len(FLOODERS) * MAX_QUEUED_PER_CHAT
    # Only the replies already going out when the signal came; the rest were never started.
    assert len(replies) < queued // 5, len(replies)
    # Every update the queues took was answered or dropped, and the drop said once.
    [line] = [line for line in output.splitlines() if "queued updates, never started" in line]
    assert f"dropped {queued - len(replies)} queued updates" in line
    assert "Traceback" not in output


def test_a_send_answered_after_the_read_timeout_is_a_warning_without_an_apology(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path, texts: Texts
) -> None:
    env = base_env(fake_api, tmp_path, TELEGRAM_READ_TIMEOUT="1")
    bot = start_bot(bots, tmp_path, env, server=fake_api)
    telegram = fake_api.telegram
    anna = make_user(7_200, "Anna", language_code="it")
    # Telegram delivers the review, but answers 2.5 s later: the bot gave up after 1 s.
    telegram.delay("sendMessage", 2.5, times=1)
    mark = telegram.mark()
    telegram.push_update(private_text(anna, DRAFT_IT))
    telegram.wait_for(
        "sendMessage",
        lambda call: call.ok and bool(SCORE.search(call.text or "")),
        timeout=REPLY_TIMEOUT,
        since=mark,
    )
    time.sleep(2)  # time for an apology or a second try, had the bot sent one
    output = bot.output

    apology = texts.raw("it", "errors.generic")
    sent = [message.plain_text or "" for message in telegram.sent_messages(anna["id"])]
    assert len(sent) == 1, sent  # the review, once: not sent again, no apology
    assert not sent[0].startswith(apology[:20])
    timeouts = [line for line in output.splitlines() if "Timed out" in line]
    assert len(timeouts) == 1, output
    assert " WARNING " in timeouts[0] or " INFO " in timeouts[0], timeouts
    assert " ERROR " not in output, output
    assert "Traceback" not in output
