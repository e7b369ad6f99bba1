"""Is the bot alive? `postcoach health` answers it the same way in both modes.

With ``HEALTH_PORT`` set, either mode serves ``/healthz`` there and the command asks it;
otherwise webhook mode asks the webhook server's ``/healthz``. Polling without a health port
serves no HTTP, so the running bot proves it is alive by touching ``HEARTBEAT_FILE`` every
``BEAT_SECONDS`` from its event loop, after the storage check passed: a file older than
``STALE_AFTER`` means the loop is stuck, the database is gone, or the process is dead.

The storage check is a write, not ``SELECT 1``: a database that answers reads can still be
read-only, full, or (SQLite) a file deleted or replaced under the running process, whose
writes then vanish at the next start. Those last two are fatal: the bot says so in one
line and stops (exit 1) rather than go on writing into nothing. A full disk does not show
in a write that changes nothing (SQLite rewrites a page its WAL already has room for), so
for SQLite the check also asks the file system how much room is left.

Whoever notices a fault (the watch job, /healthz, the heartbeat, a failed tick) tells the
one ``StorageWatch``: the log gets one line when a fault starts and one when it ends.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only names: `postcoach health` runs every 30 s in a container and stays light.
    from bot.context import CoachContext
    from bot.settings import Settings
    from storage.database import AsyncEngine

logger = logging.getLogger(__name__)

BEAT_SECONDS = 30.0
# How often the running bot checks that its database takes a write (both modes).
WATCH_SECONDS = 10.0
# Three beats missed: one slow beat is not an outage.
STALE_AFTER = 3 * BEAT_SECONDS
REQUEST_TIMEOUT = 5.0
STORAGE_TIMEOUT_SECONDS = 3.0
# Addresses that mean "every interface": the check goes through loopback.
_ANY_ADDRESS = ("0.0.0.0", "::", "")  # noqa: S104 - compared, not bound


# Storage faults, as /healthz and the log name them; the fatal ones stop the bot.
FATAL_FAULTS = frozenset({"database deleted", "database replaced"})
# Less room than this next to the SQLite file is a full disk: a transaction's WAL frames and
# a checkpoint growing the file take a few pages each, and the log writes there too.
FULL_BELOW_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class DatabaseFile:
    """The SQLite file as it was at start: a later stat must find the same one."""

    path: Path
    device: int
    inode: int

    @classmethod
    def of(cls, path: Path | None) -> DatabaseFile | None:
        """The file as it is now, or None (no file: PostgreSQL, in memory)."""
        if path is None:
            return None
        stat = path.stat()
        return cls(path.resolve(), stat.st_dev, stat.st_ino)


def file_fault(database: DatabaseFile | None) -> str | None:
    """What is wrong with the SQLite file under the running process, or None."""
    if database is None:
        return None
    try:
        stat = database.path.stat()
    except FileNotFoundError:
        return "database deleted"
    except OSError:
        return "database unreachable"
    if (stat.st_dev, stat.st_ino) != (database.device, database.inode):
        return "database replaced"
    if not os.access(database.path, os.W_OK) or not os.access(database.path.parent, os.W_OK):
        # Root passes os.access whatever the modes: the write below is the check that bites.
        return "database read-only"
    if _free_bytes(database.path.parent) < FULL_BELOW_BYTES:
        return "database full"
    return None


def _free_bytes(folder: Path) -> int:
    """Room left to an unprivileged writer in the folder's file system (unknown: plenty)."""
    try:
        stat = os.statvfs(folder)
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        return FULL_BELOW_BYTES
    return stat.f_bavail * stat.f_frsize


def _write_fault(exc: BaseException) -> str:
    message = str(exc).lower()
    if "readonly" in message or "read-only" in message or "read only" in message:
        return "database read-only"
    if "full" in message or "no space" in message:
        return "database full"
    return "database unreachable"


async def storage_fault(engine: AsyncEngine, database: DatabaseFile | None = None) -> str | None:
    """What keeps the database from taking a write, or None when it takes one (a write
    that changes nothing: storage.database.write_nothing)."""
    from storage.database import write_nothing

    fault = file_fault(database)
    if fault is not None:
        return fault
    try:
        async with asyncio.timeout(STORAGE_TIMEOUT_SECONDS):
            await write_nothing(engine)
    except Exception as exc:
        return _write_fault(exc)
    return None


class StorageWatch:
    """Logs a storage fault once (ERROR) when it starts and once (INFO) when it ends; a fatal
    one (the file deleted or replaced) is one line too, and stops the bot."""

    def __init__(self, stop: Callable[[], None] | None = None) -> None:
        self._stop = stop
        self.fault: str | None = None
        # Set once, never cleared: the process is on its way out (exit 1).
        self.fatal: str | None = None

    def report(self, fault: str | None) -> None:
        """Note the outcome of a check."""
        if self.fatal is not None:
            # Said and stopping: what the checks find now (a new empty file...) follows from it.
            return
        if fault in FATAL_FAULTS:
            self.fault = self.fatal = fault
            logger.error(
                "Storage fault: %s; stopping, as what the bot would write now is lost at restart",
                fault,
            )
            if self._stop is not None:
                self._stop()
            return
        if fault is not None and fault != self.fault:
            logger.error("Storage fault: %s; the bot cannot keep what users send", fault)
        elif fault is None and self.fault is not None:
            logger.info("Storage fault over: the database takes writes again")
        self.fault = fault


@dataclass(frozen=True, slots=True)
class Health:
    """The answer of a check: healthy or not, the text (``cli.<reason>``) that says why and
    the values it names."""

    healthy: bool
    reason: str
    values: dict[str, str] = field(default_factory=dict)


async def beat(
    engine: AsyncEngine,
    path: Path,
    database: DatabaseFile | None = None,
    watch: StorageWatch | None = None,
) -> bool:
    """Touch the heartbeat file when the database takes a write; True if it was touched."""
    fault = await storage_fault(engine, database)
    if watch is not None:
        watch.report(fault)
    elif fault is not None:
        logger.warning("Heartbeat: %s", fault)
    if fault is not None:
        return False
    try:
        await asyncio.to_thread(_touch, path)
    except OSError as exc:
        logger.warning("Heartbeat: cannot touch %s (%s)", path, exc.strerror or exc)
        return False
    return True


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


async def heartbeat(context: CoachContext) -> None:
    """The JobQueue job of polling mode (see the module's docstring)."""
    bot_data = context.application.bot_data
    path = bot_data.get("heartbeat_file")
    if path is not None:
        await beat(
            bot_data["engine"], path, bot_data.get("database_file"), bot_data["storage_watch"]
        )


async def watch_storage(context: CoachContext) -> None:
    """The JobQueue job of both modes: a storage fault is one ERROR line; a fatal one
    (the file deleted or replaced) stops the bot, which then exits 1."""
    bot_data = context.application.bot_data
    fault = await storage_fault(bot_data["engine"], bot_data.get("database_file"))
    bot_data["storage_watch"].report(fault)


Job = Callable[["CoachContext"], Coroutine[None, None, None]]


def while_storage_holds(job: Job) -> Job:
    """The job, skipped while a storage fault is known; one that fails because the storage
    just failed is that fault's one line (from the watch), not a traceback of its own."""

    async def guarded(context: CoachContext) -> None:
        bot_data = context.application.bot_data
        watch: StorageWatch = bot_data["storage_watch"]
        database = bot_data.get("database_file")
        # A stat, no query: the file gone under the process shows before the job trips on it.
        fault = file_fault(database)
        if fault is not None:
            watch.report(fault)
        if watch.fault is not None:
            return  # the watch job says when it is over; what is due waits until then
        try:
            await job(context)
        except Exception:
            fault = await storage_fault(bot_data["engine"], database)
            if fault is None:
                raise
            watch.report(fault)

    guarded.__name__ = getattr(job, "__name__", "job")
    return guarded


def check_health(settings: Settings, now: float | None = None) -> Health:
    """What `postcoach health` reports for the bot configured by these settings."""
    if settings.health_port is not None:
        return _check_url(settings.health_listen, settings.health_port, "HEALTH_PORT")
    if settings.webhook_url is not None:
        return _check_url(settings.webhook_listen, settings.webhook_port, "WEBHOOK_PORT")
    return _check_heartbeat(settings.heartbeat_file, time.time() if now is None else now)


def _check_url(host: str, port: int, setting: str) -> Health:
    host = "127.0.0.1" if host in _ANY_ADDRESS else host
    if ":" in host:
        host = f"[{host}]"
    url = f"http://{host}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        problem = str(getattr(exc, "reason", "") or exc) or type(exc).__name__
        # The setting the port came from: the one to compare with the bot's.
        values = {"url": url, "problem": problem, "setting": setting}
        return Health(False, "health_unreachable", values)
    if status == 200:
        return Health(True, "health_ok_webhook", {"url": url})
    return Health(False, "health_failing", {"url": url, "status": str(status)})


def _check_heartbeat(path: Path | None, now: float) -> Health:
    if path is None:
        return Health(False, "health_no_heartbeat")
    try:
        age = now - path.stat().st_mtime
    except OSError:
        return Health(False, "health_never_beat", {"file": str(path)})
    values = {"file": str(path), "age": f"{max(age, 0):.0f}", "limit": f"{STALE_AFTER:.0f}"}
    if age > STALE_AFTER:
        return Health(False, "health_stale", values)
    return Health(True, "health_ok_polling", values)
