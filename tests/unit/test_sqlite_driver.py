"""The inline SQLite driver (storage/sqlite_driver.py) against a real SQLite file."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.database import create_engine
from storage.sqlite_driver import InlineAdaptedConnection, InlineDBAPI
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
