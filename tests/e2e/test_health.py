"""`postcoach health` against a polling bot: alive while it runs, not once it stopped."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bot.transport.health import BEAT_SECONDS
from tests.e2e.conftest import BotProcess, base_env, run_cli, start_bot
from tests.fakebot import FakeBotServer

# The heartbeat is one SELECT 1 and a file: one back-end is enough for the process.
pytestmark = pytest.mark.backends("sqlite")


def test_polling_health_follows_the_heartbeat(
    fake_api: FakeBotServer, bots: list[BotProcess], tmp_path: Path
) -> None:
    heartbeat = tmp_path / "beat" / "heartbeat"
    env = base_env(fake_api, tmp_path, HEARTBEAT_FILE=str(heartbeat), LANG="it_IT.UTF-8")

    before = run_cli("health", cwd=tmp_path, env=env)
    assert before.returncode == 1
    assert "non esiste" in before.stderr

    bot = start_bot(bots, tmp_path, env, server=fake_api)
    # The first beat is at start, not one interval (30 s) later.
    deadline = time.monotonic() + BEAT_SECONDS / 3
    while not heartbeat.exists():
        assert time.monotonic() < deadline, bot.output
        time.sleep(0.05)
    alive = run_cli("health", cwd=tmp_path, env=env)
    assert alive.returncode == 0, alive.stderr
    assert "tutto bene" in alive.stdout

    assert bot.stop() == 0
    # Two minutes later nothing has touched the file: the bot is not alive.
    old = time.time() - 120
    os.utime(heartbeat, (old, old))
    stale = run_cli("health", cwd=tmp_path, env={**env, "LANG": "en_US.UTF-8"})
    assert stale.returncode == 1
    assert "not healthy" in stale.stderr
    assert "120 s ago" in stale.stderr or "121 s ago" in stale.stderr
