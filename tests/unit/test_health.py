"""The health check of both modes: the heartbeat file of polling, /healthz of webhooks."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.context import CoachContext
from bot.settings import Settings
from bot.texts.catalog import Texts
from bot.transport.health import (
    STALE_AFTER,
    DatabaseFile,
    StorageWatch,
    beat,
    check_health,
    storage_fault,
    while_storage_holds,
)
from storage.database import create_engine
from tests.disks import fill, small_disk

NOW = 1_800_000_000.0


def _polling(heartbeat: Path | None) -> Settings:
    return Settings(_env_file=None, heartbeat_file=heartbeat)


def _webhook(port: int) -> Settings:
    return Settings(
        _env_file=None,
        webhook_url="https://bot.example.test/telegram",
        webhook_secret="s3cret",
        webhook_listen="0.0.0.0",  # noqa: S104 - only a setting: the check uses loopback
        webhook_port=port,
    )


def test_a_fresh_heartbeat_is_healthy_and_an_old_one_is_not(tmp_path: Path) -> None:
    heartbeat = tmp_path / "heartbeat"
    heartbeat.touch()
    os.utime(heartbeat, (NOW - 10, NOW - 10))

    fresh = check_health(_polling(heartbeat), now=NOW)
    stale = check_health(_polling(heartbeat), now=NOW + STALE_AFTER)

    assert (fresh.healthy, fresh.reason, fresh.values["age"]) == (True, "health_ok_polling", "10")
    assert (stale.healthy, stale.reason) == (False, "health_stale")


def test_no_heartbeat_file_or_no_setting_is_not_healthy(tmp_path: Path) -> None:
    assert check_health(_polling(tmp_path / "missing"), now=NOW).reason == "health_never_beat"
    assert check_health(_polling(None), now=NOW).reason == "health_no_heartbeat"


@pytest.mark.backends("sqlite")
async def test_a_beat_touches_the_file_only_when_the_database_answers(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    heartbeat = tmp_path / "made" / "heartbeat"
    assert await beat(engine, heartbeat) is True
    assert heartbeat.exists()

    # Port 1 on loopback: nothing listens, the connection is refused at once.
    gone = create_engine("postgresql+asyncpg://postcoach:x@127.0.0.1:1/postcoach")
    elsewhere = tmp_path / "other"
    try:
        assert await beat(gone, elsewhere) is False
    finally:
        await gone.dispose()
    assert not elsewhere.exists()


class _Healthz(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def healthz() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Healthz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_webhook_health_asks_healthz_on_loopback(healthz: ThreadingHTTPServer) -> None:
    port = healthz.server_address[1]
    assert isinstance(port, int)
    _Healthz.status = 200
    ok = check_health(_webhook(port))
    _Healthz.status = 503
    failing = check_health(_webhook(port))

    assert (ok.healthy, ok.values["url"]) == (True, f"http://127.0.0.1:{port}/healthz")
    assert (failing.healthy, failing.reason, failing.values["status"]) == (
        False,
        "health_failing",
        "503",
    )


def test_webhook_health_with_nothing_listening_is_not_healthy(
    healthz: ThreadingHTTPServer,
) -> None:
    port = healthz.server_address[1]
    assert isinstance(port, int)
    healthz.shutdown()
    healthz.server_close()

    report = check_health(_webhook(port))

    assert (report.healthy, report.reason) == (False, "health_unreachable")


@pytest.mark.parametrize("lang", ["it", "en"])
def test_nothing_on_the_health_port_names_health_port_not_webhook_port(
    healthz: ThreadingHTTPServer, texts: Texts, lang: str
) -> None:
    port = healthz.server_address[1]
    assert isinstance(port, int)
    healthz.shutdown()
    healthz.server_close()
    settings = Settings(_env_file=None, health_port=port, heartbeat_file=None)

    report = check_health(settings)
    line = texts.plain(lang, f"cli.{report.reason}", **report.values)

    assert report.reason == "health_unreachable"
    assert "HEALTH_PORT" in line
    assert "WEBHOOK_PORT" not in line
    assert f"http://127.0.0.1:{port}/healthz" in line


# ------------------------------------------------------------ the storage check is a write


async def _sqlite_engine(path: Path, query: str = "") -> AsyncEngine:
    engine = create_engine(f"sqlite+aiosqlite:///{path}{query}")
    async with engine.begin() as connection:
        await connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x)")
    return engine


async def test_a_database_that_takes_a_write_is_healthy(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    engine = await _sqlite_engine(path)
    try:
        assert await storage_fault(engine, DatabaseFile.of(path)) is None
    finally:
        await engine.dispose()


async def test_a_database_that_only_reads_is_not(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    await (await _sqlite_engine(path)).dispose()
    # Opened read-only as a read-only file would be: chmod does not bite when tests run
    # as root, SQLite's read-only mode does, and SELECT 1 still passes.
    engine = create_engine(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
        assert await storage_fault(engine) == "database read-only"
    finally:
        await engine.dispose()


async def test_a_database_file_deleted_or_replaced_under_the_bot_is_named(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    engine = await _sqlite_engine(path)
    try:
        at_start = DatabaseFile.of(path)
        path.unlink()
        assert await storage_fault(engine, at_start) == "database deleted"
        path.write_bytes(b"")
        assert await storage_fault(engine, at_start) == "database replaced"
    finally:
        await engine.dispose()


async def test_a_database_on_a_full_disk_is_named_full_until_room_is_back(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        path = disk / "bot.sqlite3"
        engine = await _sqlite_engine(path)
        try:
            at_start = DatabaseFile.of(path)
            # A bot that has been running: its WAL, checkpointed, has room for the next
            # writes, so the check's write still goes through on a full disk.
            async with engine.begin() as connection:
                for _ in range(50):
                    await connection.exec_driver_sql("INSERT INTO t VALUES (randomblob(4000))")
            async with engine.begin() as connection:
                await connection.exec_driver_sql("PRAGMA wal_checkpoint")
            fill(disk / "filler")
            assert await storage_fault(engine, at_start) == "database full"
            (disk / "filler").unlink()
            assert await storage_fault(engine, at_start) is None
        finally:
            await engine.dispose()


# ------------------------------------------------ one line a fault, whoever noticed it


def test_a_fault_is_one_error_line_however_often_it_is_seen_and_one_info_when_over(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch = StorageWatch()
    with caplog.at_level(logging.INFO, logger="bot.transport.health"):
        for fault in ("database full", "database full", "database full", None, None):
            watch.report(fault)
    assert [(r.levelname, r.getMessage().split(";")[0]) for r in caplog.records] == [
        ("ERROR", "Storage fault: database full"),
        ("INFO", "Storage fault over: the database takes writes again"),
    ]


def test_a_fatal_fault_is_one_line_and_stops_the_bot_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stops: list[bool] = []
    watch = StorageWatch(lambda: stops.append(True))
    with caplog.at_level(logging.INFO, logger="bot.transport.health"):
        # Deleted, then the empty file a new connection made in its place: the same fault.
        for fault in ("database deleted", "database replaced", None):
            watch.report(fault)
    assert [r.getMessage() for r in caplog.records] == [
        "Storage fault: database deleted; stopping, as what the bot would write now is lost "
        "at restart"
    ]
    assert (stops, watch.fatal) == ([True], "database deleted")


class _Application:
    def __init__(self, bot_data: dict[str, object]) -> None:
        self.bot_data = bot_data


class _Context:
    def __init__(self, bot_data: dict[str, object]) -> None:
        self.application = _Application(bot_data)


async def test_a_tick_that_trips_on_a_deleted_database_is_its_one_line_not_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "bot.sqlite3"
    engine = await _sqlite_engine(path)
    stops: list[bool] = []
    watch = StorageWatch(lambda: stops.append(True))
    context = _Context(
        {"engine": engine, "database_file": DatabaseFile.of(path), "storage_watch": watch}
    )

    async def tick(_: CoachContext) -> None:
        # The file goes while the tick is under way: it fails on what SQLite opens instead.
        path.unlink()
        raise OperationalError("SELECT ...", {}, Exception("no such table: nudge_schedules"))

    try:
        with caplog.at_level(logging.INFO, logger="bot.transport.health"):
            await while_storage_holds(tick)(cast(CoachContext, context))
            # The next tick does not run at all.
            await while_storage_holds(tick)(cast(CoachContext, context))
    finally:
        await engine.dispose()
    assert (stops, watch.fatal) == ([True], "database deleted")
    assert len(caplog.records) == 1


async def test_a_tick_that_fails_for_another_reason_still_raises(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    engine = await _sqlite_engine(path)
    context = _Context(
        {"engine": engine, "database_file": DatabaseFile.of(path), "storage_watch": StorageWatch()}
    )

    async def tick(_: CoachContext) -> None:
        raise RuntimeError("a bug")

    try:
        with pytest.raises(RuntimeError, match="a bug"):
            await while_storage_holds(tick)(cast(CoachContext, context))
    finally:
        await engine.dispose()
