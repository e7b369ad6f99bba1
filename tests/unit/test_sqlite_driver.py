"""The inline SQLite driver (storage/sqlite_driver.py) against a real SQLite file, the stock
aiosqlite adapter it can be swapped for, and the SQLAlchemy hooks it relies on."""

from __future__ import annotations

import asyncio
import inspect
import re
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import sqlalchemy
import sqlalchemy.connectors.asyncio as asyncio_connector
import sqlalchemy.dialects.sqlite.aiosqlite as aiosqlite_dialect
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection, AsyncAdapt_dbapi_cursor
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    AsyncAdapt_aiosqlite_ss_cursor,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, StaticPool

from storage.database import create_engine
from storage.sqlite_driver import (
    PATIENCE_SECONDS,
    InlineAdaptedConnection,
    InlineConnection,
    InlineCursor,
    InlineDBAPI,
    InlineServerSideCursor,
)
from tests.sqlite_locks import LoopLag, write_lock_held_elsewhere

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), unique=True, nullable=False),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def test_statements_run_at_once_and_only_a_commit_waits_on_a_thread(
    engine: AsyncEngine,
) -> None:
    ran: list[str] = []
    async with engine.connect() as connection:
        asyncio.get_running_loop().call_soon(ran.append, "other work")
        await connection.execute(insert(things).values(name="a"))
        rows = (await connection.execute(select(things.c.name))).scalars().all()
        # Had either suspended, the loop would have run the callback by now.
        assert ran == []
        await connection.commit()
        # The commit went to a worker thread, and the loop ran meanwhile.
        assert ran == ["other work"]
    assert rows == ["a"]
    async with engine.connect() as connection:
        names = (await connection.execute(select(things.c.name))).scalars().all()
    assert names == ["a"]


async def test_a_commit_with_nothing_written_makes_no_trip(engine: AsyncEngine) -> None:
    threads = threading.active_count()
    ran: list[str] = []
    async with engine.connect() as connection:
        await connection.execute(select(things.c.id))
        asyncio.get_running_loop().call_soon(ran.append, "other work")
        await connection.commit()
        assert ran == []
    assert threading.active_count() == threads  # and no database thread was started


async def test_rows_counts_and_ids_come_back(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        result = await connection.execute(insert(things), [{"name": n} for n in "bcd"])
        assert result.rowcount == 3
        one = await connection.execute(insert(things).values(name="e"))
        assert one.inserted_primary_key is not None
        assert one.inserted_primary_key[0] == 4
        returned = await connection.execute(
            insert(things).values(name="f").returning(things.c.id, things.c.name)
        )
        assert returned.one() == (5, "f")
        changed = await connection.execute(
            update(things).where(things.c.name.in_(["b", "c"])).values(name=things.c.name + "!")
        )
        assert changed.rowcount == 2
    async with engine.connect() as connection:
        names = (await connection.execute(select(things.c.name).order_by(things.c.id))).all()
    assert [name for (name,) in names] == ["b!", "c!", "d", "e", "f"]


async def test_an_uncommitted_write_is_rolled_back_and_an_error_is_sqlalchemys(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection:
        await connection.execute(insert(things).values(name="kept"))
        await connection.commit()
        await connection.execute(insert(things).values(name="dropped"))
        with pytest.raises(IntegrityError):
            await connection.execute(insert(things).values(name="kept"))
        await connection.rollback()
    async with engine.connect() as connection:
        names = (await connection.execute(select(things.c.name))).scalars().all()
    assert names == ["kept"]


async def test_a_read_only_connection_goes_back_to_the_pool_without_a_rollback(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = InlineAdaptedConnection.rollback

    def counted(self: InlineAdaptedConnection) -> None:
        calls.append("rollback")
        original(self)

    monkeypatch.setattr(InlineAdaptedConnection, "rollback", counted)
    async with engine.connect() as connection:
        await connection.execute(select(things.c.id))
        raw = await connection.get_raw_connection()
        sqlite_connection = raw.driver_connection._connection  # type: ignore[union-attr]
        assert sqlite_connection is not None
        assert not sqlite_connection.in_transaction
    async with engine.connect() as connection:
        await connection.execute(insert(things).values(name="x"))
        raw = await connection.get_raw_connection()
        sqlite_connection = raw.driver_connection._connection  # type: ignore[union-attr]
        assert sqlite_connection is not None
        assert sqlite_connection.in_transaction
    # Both were reset on return; only the second had anything to undo, and did.
    assert calls == ["rollback", "rollback"]
    async with engine.connect() as connection:
        assert (await connection.execute(select(things.c.id))).all() == []


async def test_isolation_levels_and_pragmas_reach_sqlite(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(insert(things).values(name="at once"))
        journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
        foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
        # Some builds of SQLite have it on by default (Debian's), others not.
        secure_delete = (await connection.execute(text("PRAGMA secure_delete"))).scalar_one()
    assert (journal, foreign_keys, secure_delete) == ("wal", 1, 1)
    async with engine.connect() as connection:
        names = (await connection.execute(select(things.c.name))).scalars().all()
    assert names == ["at once"]


async def test_a_closed_connection_fails_as_a_database_error(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        raw.driver_connection.stop()  # type: ignore[union-attr]
        with pytest.raises(OperationalError, match="no active connection"):
            await connection.execute(select(things.c.id))
        await connection.invalidate()


async def test_a_lock_held_elsewhere_is_waited_for_without_holding_the_loop(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    with write_lock_held_elsewhere(tmp_path / "driver.sqlite3", seconds=1.5):
        started = time.monotonic()
        async with LoopLag() as lag, engine.begin() as connection:
            await connection.execute(insert(things).values(name="after the lock"))
        waited = time.monotonic() - started
    # The write waited for the other connection's commit, and the loop ran all along.
    assert waited >= 1.0
    assert lag.worst < 0.2, f"the loop was held {lag.worst:.3f} s"
    async with engine.connect() as connection:
        names = (await connection.execute(select(things.c.name))).scalars().all()
    assert names == ["after the lock"]


async def test_a_lock_held_past_the_patience_fails_as_locked(tmp_path: Path) -> None:
    path = tmp_path / "driver.sqlite3"
    impatient = create_async_engine(
        f"sqlite+aiosqlite:///{path}", module=InlineDBAPI(patience=0.2)
    )
    try:
        async with impatient.begin() as connection:
            await connection.run_sync(metadata.create_all)
        with write_lock_held_elsewhere(path, seconds=1.0):
            started = time.monotonic()
            with pytest.raises(OperationalError, match="database is locked"):
                async with impatient.begin() as connection:
                    await connection.execute(insert(things).values(name="never"))
            assert 0.2 <= time.monotonic() - started < 0.9
    finally:
        await impatient.dispose()


# What storage/sqlite_driver.py replaces of SQLAlchemy's private aiosqlite adapter, and the
# shape the driver was written against: a method's parameters, or what an attribute is.
HOOKS: dict[tuple[type, str], str] = {
    **{
        (cursor, name): shape
        for cursor in (AsyncAdapt_aiosqlite_cursor, AsyncAdapt_aiosqlite_ss_cursor)
        for name, shape in {
            "_make_new_cursor": "(self, connection)",
            "_aenter_cursor": "(self, cursor)",
            "_execute_async": "(self, operation, parameters)",
            "_executemany_async": "(self, operation, seq_of_parameters)",
            "_cursor": "slot",
            "_connection": "slot",
        }.items()
    },
    (AsyncAdapt_aiosqlite_cursor, "_awaitable_cursor_close"): "bool",
    (AsyncAdapt_aiosqlite_cursor, "_rows"): "slot",
    (AsyncAdapt_aiosqlite_ss_cursor, "fetchone"): "(self)",
    (AsyncAdapt_aiosqlite_ss_cursor, "fetchmany"): "(self, size=None)",
    (AsyncAdapt_aiosqlite_ss_cursor, "fetchall"): "(self)",
    (AsyncAdapt_aiosqlite_ss_cursor, "close"): "(self)",
    (AsyncAdapt_aiosqlite_ss_cursor, "__iter__"): "(self)",
    (AsyncAdapt_aiosqlite_connection, "_cursor_cls"): "class",
    (AsyncAdapt_aiosqlite_connection, "_ss_cursor_cls"): "class",
    (AsyncAdapt_aiosqlite_connection, "rollback"): "(self)",
    (AsyncAdapt_aiosqlite_dbapi, "__init__"): "(self, aiosqlite, sqlite)",
    (AsyncAdapt_aiosqlite_dbapi, "connect"): "(self, *arg, **kw)",
}
# Where SQLAlchemy calls each hook: a hook that is still there but no longer called would
# leave the driver's override silently unused.
CALLERS: dict[tuple[type, str], tuple[str, ...]] = {
    (AsyncAdapt_dbapi_cursor, "__init__"): ("_make_new_cursor", "_aenter_cursor"),
    (AsyncAdapt_dbapi_cursor, "execute"): ("_execute_async",),
    (AsyncAdapt_dbapi_cursor, "executemany"): ("_executemany_async",),
    (AsyncAdapt_dbapi_cursor, "close"): ("_awaitable_cursor_close",),
    (AsyncAdapt_dbapi_connection, "cursor"): ("_cursor_cls", "_ss_cursor_cls"),
}
# What the driver adds of its own, overriding nothing.
OWN = {"_run", "_open", "_statement"}
DRIVER_CLASSES = (InlineCursor, InlineServerSideCursor, InlineAdaptedConnection, InlineDBAPI)
# The adapters' modules, where they reach into the driver's connection (`self._connection.x`).
ADAPTER_MODULES = (aiosqlite_dialect, asyncio_connector)


def _shape(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, type):
        return "class"
    if type(value).__name__ == "member_descriptor":  # a name in __slots__
        return "slot"
    if callable(value):
        signature = inspect.signature(value)
        bare = [
            p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()
        ]
        return str(signature.replace(parameters=bare, return_annotation=inspect.Signature.empty))
    return type(value).__name__


def changed_hooks() -> list[str]:
    """Every private hook of SQLAlchemy's that the inline driver relies on and that changed."""
    way_out = "adapt storage/sqlite_driver.py, or run with SQLITE_INLINE_DRIVER=false"
    problems: list[str] = []
    for (owner, name), expected in HOOKS.items():
        where = f"{owner.__module__}.{owner.__qualname__}.{name}"
        found = inspect.getattr_static(owner, name, None)
        if found is None:
            problems.append(f"{where} is gone ({way_out})")
        elif _shape(found) != expected:
            problems.append(f"{where} is now {_shape(found)}, was {expected} ({way_out})")
    for (owner, method), hooks in CALLERS.items():
        source = inspect.getsource(getattr(owner, method))
        for hook in hooks:
            if hook not in source:
                problems.append(f"{owner.__qualname__}.{method} no longer uses {hook} ({way_out})")
    for driver in DRIVER_CLASSES:
        base = driver.__mro__[1]
        for name in vars(driver):
            if (name.startswith("__") and name not in ("__init__", "__iter__")) or name in OWN:
                continue
            if not any((owner, name) in HOOKS for owner in base.__mro__):
                problems.append(f"{driver.__qualname__}.{name} overrides a hook not listed here")
    provided = set(dir(InlineConnection(sqlite3.connect(":memory:"))))
    for module in ADAPTER_MODULES:
        for name in sorted(
            set(re.findall(r"self\._connection\.(\w+)", inspect.getsource(module)))
        ):
            if name not in provided:
                problems.append(
                    f"{module.__name__} uses the connection's {name}, which InlineConnection "
                    f"has not ({way_out})"
                )
    return problems


def test_the_sqlalchemy_hooks_the_driver_replaces_are_as_it_expects() -> None:
    problems = changed_hooks()
    assert problems == [], f"SQLAlchemy {sqlalchemy.__version__}:\n" + "\n".join(problems)


def test_a_hook_that_changes_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    async def with_a_new_parameter(self: Any, operation: Any, parameters: Any, extra: Any) -> None:
        """SQLAlchemy's hook as a later release might have it."""

    monkeypatch.setattr(AsyncAdapt_aiosqlite_cursor, "_execute_async", with_a_new_parameter)
    for adapter in (AsyncAdapt_aiosqlite_connection, AsyncAdapt_dbapi_connection):
        monkeypatch.delattr(adapter, "_ss_cursor_cls")
    problems = changed_hooks()
    assert any(
        "AsyncAdapt_aiosqlite_cursor._execute_async is now (self, operation, parameters, extra)"
        in problem
        and "SQLITE_INLINE_DRIVER=false" in problem
        for problem in problems
    ), problems
    assert any("AsyncAdapt_aiosqlite_connection._ss_cursor_cls is gone" in p for p in problems)


@pytest.fixture(params=[True, False], ids=["inline", "stock"])
async def either_engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}", inline=request.param
    )
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def test_a_stream_gives_the_rows_a_batch_at_a_time(either_engine: AsyncEngine) -> None:
    async with either_engine.begin() as connection:
        await connection.execute(insert(things), [{"name": f"n{i}"} for i in range(7)])
    async with either_engine.connect() as connection:
        result = await connection.stream(select(things.c.name).order_by(things.c.id))
        batches = [[name for (name,) in batch] async for batch in result.partitions(3)]
        # The connection is free again: a write after the stream is kept.
        await connection.execute(insert(things).values(name="after"))
        await connection.commit()
    assert batches == [["n0", "n1", "n2"], ["n3", "n4", "n5"], ["n6"]]
    async with either_engine.connect() as connection:
        async with connection.stream(select(things.c.name).where(things.c.id > 7)) as rows:
            assert [name async for (name,) in rows] == ["after"]
        streamed = await connection.stream_scalars(select(things.c.name).where(things.c.id < 3))
        assert await streamed.all() == ["n0", "n1"]


async def test_a_stream_of_a_bad_statement_fails_as_a_database_error(
    either_engine: AsyncEngine,
) -> None:
    async with either_engine.connect() as connection:
        with pytest.raises(OperationalError, match="no such table"):
            await connection.stream(text("SELECT * FROM nowhere"))
        assert (await connection.execute(select(things.c.id))).all() == []


async def test_the_stock_adapter_gets_the_same_pragmas_and_sqlites_own_lock_wait(
    either_engine: AsyncEngine, request: pytest.FixtureRequest
) -> None:
    async with either_engine.connect() as connection:
        driver_connection = (await connection.get_raw_connection()).driver_connection
        journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
        foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
        secure_delete = (await connection.execute(text("PRAGMA secure_delete"))).scalar_one()
        busy_timeout = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
    assert (journal, foreign_keys, secure_delete) == ("wal", 1, 1)
    inline = isinstance(driver_connection, InlineConnection)
    # inline=False really is SQLAlchemy's own adapter over aiosqlite's connection.
    assert inline == request.node.callspec.params["either_engine"]
    assert inline or isinstance(driver_connection, aiosqlite.Connection)
    # Inline, SQLite must never sleep on the loop's thread (the driver waits instead);
    # stock, SQLite's busy handler sleeps on aiosqlite's thread for the same patience.
    assert busy_timeout == (0 if inline else int(PATIENCE_SECONDS * 1000))


async def test_either_adapter_waits_for_a_lock_held_elsewhere_and_the_loop_runs(
    either_engine: AsyncEngine, tmp_path: Path
) -> None:
    with write_lock_held_elsewhere(tmp_path / "driver.sqlite3", seconds=1.5):
        started = time.monotonic()
        async with LoopLag() as lag, either_engine.begin() as connection:
            await connection.execute(insert(things).values(name="after the lock"))
        waited = time.monotonic() - started
    assert waited >= 1.0
    assert lag.worst < 0.2, f"the loop was held {lag.worst:.3f} s"


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
@pytest.mark.parametrize("inline", [True, False], ids=["inline", "stock"])
async def test_a_memory_database_is_one_connection_every_session_shares(
    url: str, inline: bool
) -> None:
    engine = create_engine(url, inline=inline)
    try:
        assert isinstance(engine.pool, StaticPool)
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(insert(things).values(name="kept"))
        async with engine.connect() as connection:
            names = (await connection.execute(select(things.c.name))).scalars().all()
        assert names == ["kept"]
    finally:
        await engine.dispose()


async def test_a_file_database_is_one_pooled_connection(engine: AsyncEngine) -> None:
    assert isinstance(engine.pool, AsyncAdaptedQueuePool)
    assert (engine.pool.size(), engine.pool._max_overflow) == (1, 0)
