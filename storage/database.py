"""The async engine and session factory, with SQLite tuned for a small always-on bot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

from storage import sqlite_driver


def is_sqlite(url: str) -> bool:
    """Whether the URL points at SQLite."""
    return make_url(url).get_backend_name() == "sqlite"


def is_sqlite_memory(url: str | URL) -> bool:
    """Whether the URL is an SQLite database in memory (`sqlite+aiosqlite://`, `:memory:`)."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def ensure_sqlite_directory(url: str) -> None:
    """Create the folder of an SQLite file so a fresh clone starts without a manual step."""
    parsed = make_url(url)
    if parsed.database and not is_sqlite_memory(parsed) and is_sqlite(url):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while the dispatcher writes; the busy timeout absorbs
    # short write contention instead of failing with "database is locked". The inline
    # driver waits for a lock itself, off the loop's thread (storage/sqlite_driver.py):
    # a busy timeout there would sleep on it.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # What a user erases (/delete) is overwritten with zeros, not just marked free: a copy
    # of the file must not keep their name, drafts and topics. See UnitOfWork.scrub_log.
    cursor.execute("PRAGMA secure_delete=ON")
    if not isinstance(dbapi_connection, sqlite_driver.InlineAdaptedConnection):
        cursor.execute(f"PRAGMA busy_timeout={int(sqlite_driver.PATIENCE_SECONDS * 1000)}")
    cursor.close()


def create_engine(url: str, *, echo: bool = False, inline: bool = True) -> AsyncEngine:
    """An async engine for the URL (aiosqlite or asyncpg); `inline`: SQLite's inline driver."""
    if is_sqlite(url):
        ensure_sqlite_directory(url)
        parsed = make_url(url)
        options: dict[str, Any]
        if is_sqlite_memory(parsed):
            # Each connection to :memory: is a new, empty database of its own: the engine
            # keeps one connection for its whole life, so every session sees the same
            # tables. (SQLAlchemy picks this pool by itself today; said here so that it
            # stays so whatever SQLAlchemy's default becomes.)
            options = {"poolclass": StaticPool}
        else:
            # One connection, so transactions queue in the event loop. SQLite has one
            # writer: with several connections, a writer that finds the file locked sleeps
            # in SQLite's busy handler (1, 2, 5, ... 100 ms) rather than being woken when
            # it frees, and at 50 busy chats that sleeping cost a fifth of the drafts per
            # second (benchmarks/throughput). No unit of work waits on anything but the
            # database, so none holds the connection for long; PostgreSQL is for more
            # than one process.
            options = {"pool_size": 1, "max_overflow": 0}
        if inline and parsed.get_driver_name() == "aiosqlite":
            # Statements run on the loop's thread (storage/sqlite_driver.py). Without it,
            # SQLAlchemy's own aiosqlite adapter runs them on aiosqlite's thread.
            options["module"] = sqlite_driver.InlineDBAPI()
        engine = create_async_engine(url, echo=echo, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


async def write_nothing(engine: AsyncEngine) -> None:
    """A write that changes nothing, to learn whether the database takes writes now: SQLite
    rewrites its header's user_version with the value it has; PostgreSQL assigns a
    transaction id, so its commit goes to the WAL. Raises what the database raised."""
    async with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            version = (await connection.execute(text("PRAGMA user_version"))).scalar()
            await connection.execute(text(f"PRAGMA user_version = {int(version or 0)}"))
        else:
            await connection.execute(text("SELECT txid_current()"))


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
