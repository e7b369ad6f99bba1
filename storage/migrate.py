"""Apply or revert the Alembic migrations from code (start-up, the CLI and the tests)."""

from __future__ import annotations

import contextlib
import fcntl
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import ensure_sqlite_directory, is_sqlite

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# A migration file's own revision and its parent, as every file in versions/ writes them.
_REVISION = re.compile(r"""^revision(?:\s*:[^=\n]+)?\s*=\s*["']([^"'\n]+)["']\s*$""", re.M)
_DOWN_REVISION = re.compile(
    r"""^down_revision(?:\s*:[^=\n]+)?\s*=\s*(?:["']([^"'\n]+)["']|None)\s*$""", re.M
)


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic config that works wherever the package is installed."""
    from alembic.config import Config

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
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def declared_head() -> str | None:
    """The newest revision as the files in migrations/versions/ declare it, read as text
    without importing Alembic; None when any file does not say it plainly (Alembic knows)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        if path.name == "__init__.py":
            continue
        text = path.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(text), _DOWN_REVISION.findall(text)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        parents.update(filter(None, down))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _sqlite_at(url: str, revision: str | None) -> bool:
    """Whether the SQLite file at the URL is at `revision` (False for PostgreSQL: Alembic
    checks it there, under its advisory lock)."""
    database = make_url(url).database if is_sqlite(url) else None
    if revision is None or database in (None, "", ":memory:"):
        return False
    assert database is not None
    uri = Path(database).expanduser().resolve().as_uri() + "?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        return False  # a new file, or not migrated yet
    return rows == [(revision,)]


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
        if revision == "head" and _sqlite_at(url, declared_head()):
            return  # nothing to do, and Alembic (~10 MB, ~130 ms) stays unimported
        from alembic import command

        command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Revert the database at the URL to a revision (call outside a running event loop)."""
    from alembic import command

    with _sqlite_file_lock(url):
        command.downgrade(alembic_config(url), revision)


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate through an engine that is already open (from async code)."""
    from alembic import command

    async with engine.begin() as connection:
        await connection.run_sync(
            lambda sync: command.upgrade(alembic_config(connection=sync), revision)
        )


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at."""
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
