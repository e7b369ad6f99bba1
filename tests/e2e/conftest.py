"""Start the fake Bot API server and `postcoach run` processes pointed at it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakebot import FakeBotServer

POSTCOACH = str(Path(sys.executable).parent / "postcoach")
# The database the bot processes of each running test share, by the test's working
# directory: filled by the `bots` fixture, read by `base_env`.
_DATABASES: dict[Path, str] = {}


class BotProcess:
    """A `postcoach run` subprocess whose output goes to a file the test can read."""

    def __init__(self, workdir: Path, env: dict[str, str], name: str = "bot") -> None:
        self.log_path = workdir / f"{name}.log"
        self.env = env
        self._log = self.log_path.open("wb")
        # The working directory is the test's own: no developer .env is picked up.
        self.process = subprocess.Popen(
            [POSTCOACH, "run"], cwd=workdir, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def output(self) -> str:
        """Everything the process printed so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_until_started(self, server: FakeBotServer, since: int, timeout: float = 30.0) -> None:
        """Return once the bot registered its menus (polling follows); fail fast if it died."""
        deadline = time.monotonic() + timeout
        while len(server.telegram.calls("setMyCommands")[since:]) < 3:
            code = self.process.poll()
            if code is not None:
                raise AssertionError(f"postcoach exited with {code}:\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"postcoach did not start:\n{self.output}")
            time.sleep(0.05)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._log.close()
        return code


def base_env(server: FakeBotServer, workdir: Path, **extra: str) -> dict[str, str]:
    """A clean environment: the fake server, the test's database, nothing inherited.

    The database is the one the `bots` fixture made for the test that owns workdir, on the
    back-end of this run (SQLite in workdir, or PostgreSQL); SQLite in workdir otherwise.
    """
    default_url = f"sqlite+aiosqlite:///{workdir / 'data' / 'postcoach.sqlite3'}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": _DATABASES.get(workdir, default_url),
        "POLLING_TIMEOUT": "2",
        **server.env(),
    }
    env.update(extra)
    return env


@pytest.fixture
def fake_api() -> Iterator[FakeBotServer]:
    """A fake Bot API server on 127.0.0.1 for one test."""
    with FakeBotServer() as server:
        yield server


@pytest.fixture
def bots(tmp_path: Path, empty_database_url: str) -> Iterator[list[BotProcess]]:
    """Bot processes started by the test; stopped at the end whatever happens.

    They share one database, empty until the first one migrates it on start, on each
    back-end in turn: the test runs once on SQLite and once on PostgreSQL.
    """
    started: list[BotProcess] = []
    _DATABASES[tmp_path] = empty_database_url
    yield started
    for bot in started:
        bot.stop()
    del _DATABASES[tmp_path]


def start_bot(
    bots: list[BotProcess],
    workdir: Path,
    env: dict[str, str],
    name: str = "bot",
    *,
    server: FakeBotServer,
) -> BotProcess:
    """Start `postcoach run`, keep it for clean-up, and wait until it polls."""
    since = len(server.telegram.calls("setMyCommands"))
    bot = BotProcess(workdir, env, name)
    bots.append(bot)
    bot.wait_until_started(server, since)
    return bot


def run_cli(
    *args: str, cwd: Path, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the `postcoach` console script to completion."""
    return subprocess.run(
        [POSTCOACH, *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
