"""Storage on a real database: the migration stairway, repositories and the unit of work.

Each test with a database runs on SQLite and on PostgreSQL (see tests/conftest.py).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine, create_session_factory
from storage.migrate import current_revision, downgrade, head_revision, upgrade
from storage.models import Base, Post, User
from storage.uow import UnitOfWork


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_migration_stairway(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    assert set(Base.metadata.tables) <= _tables(empty_database_url)
    downgrade(empty_database_url, "base")
    assert _tables(empty_database_url) <= {"alembic_version"}
    upgrade(empty_database_url)
    assert set(Base.metadata.tables) <= _tables(empty_database_url)


def test_sqlite_file_is_created_in_wal_mode(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'db.sqlite3'}"
    upgrade(url)

    async def journal_mode() -> str:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return str((await connection.execute(text("PRAGMA journal_mode"))).scalar())
        finally:
            await engine.dispose()

    assert asyncio.run(journal_mode()) == "wal"


async def test_database_is_at_head(engine: AsyncEngine) -> None:
    assert await current_revision(engine) == head_revision()


async def test_user_round_trip_keeps_aware_utc_times(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    seen = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    async with UnitOfWork(sessions) as uow:
        uow.users.add(User(id=42, first_name="Anna", created_at=seen, last_seen_at=seen))
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        user = await uow.users.get(42)
    assert user is not None
    assert user.first_name == "Anna"
    assert user.last_seen_at == seen
    assert user.last_seen_at.tzinfo is not None
    assert user.is_active


async def test_unit_of_work_rolls_back_without_commit(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    async with UnitOfWork(sessions) as uow:
        uow.users.add(User(id=7, first_name="Luca"))
    async with UnitOfWork(sessions) as uow:
        assert await uow.users.get(7) is None


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    assert diff == []


async def test_results_claim_lists_only_due_posts_not_yet_asked(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    now = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    async with UnitOfWork(sessions) as uow:
        uow.users.add(User(id=42, first_name="Anna"))
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        for due, asked in ((now, None), (now, now), (now + timedelta(hours=1), None)):
            await uow.posts.add(
                Post(
                    user_id=42,
                    platform="linkedin",
                    posted_at=now,
                    results_due_at=due,
                    results_asked_at=asked,
                )
            )
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        due_posts = await uow.posts.list_results_due(now, limit=10)
    assert [(post.results_due_at, post.results_asked_at) for post in due_posts] == [(now, None)]


async def test_update_ledger_records_each_update_id_once(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    received = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    async with UnitOfWork(sessions) as uow:
        assert await uow.updates.add_new({1, 2}, received) == {1, 2}
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        assert await uow.updates.add_new({2, 3}, received) == {3}
        assert await uow.updates.delete_before(received + timedelta(seconds=1)) == 3
        await uow.commit()
