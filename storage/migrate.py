"""Apply or revert the Alembic migrations from code (start-up, the CLI and the tests)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import ensure_sqlite_directory, is_sqlite

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic config that works wherever the package is installed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        # Alembic's config is an ini file: a literal % must be doubled.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@contextmanager
def _sqlite_file_lock(url: str) -> Iterator[None]:
    """On an SQLite file, one migration at a time across processes.

    SQLite's own locks last one statement or transaction, and Alembic runs SQLite's DDL
    outside one: an flock on the database file (SQLite locks with fcntl, which flock does
    not touch) holds the others back until the first has finished. PostgreSQL takes an
    advisory lock instead (migrations/env.py).
    """
    database = make_url(url).database if is_sqlite(url) else None
    if database in (None, "", ":memory:"):
        yield
        return
    assert database is not None
    ensure_sqlite_directory(url)
    # Opening for append creates an empty file, which SQLite takes for an empty database.
    with Path(database).expanduser().open("ab") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at the URL (call outside a running event loop). Safe to run
    from several processes at once: they migrate one after the other."""
    with _sqlite_file_lock(url):
        command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Revert the database at the URL to a revision (call outside a running event loop)."""
    with _sqlite_file_lock(url):
        command.downgrade(alembic_config(url), revision)


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate through an engine that is already open (from async code)."""
    async with engine.begin() as connection:
        await connection.run_sync(
            lambda sync: command.upgrade(alembic_config(connection=sync), revision)
        )


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at."""
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
