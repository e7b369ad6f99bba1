"""Alembic environment: runs migrations on the async engine, or on a connection handed in."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy.engine import Connection

from storage.database import create_engine
from storage.models import Base

logger = logging.getLogger("storage.migrate")
config = context.config
target_metadata = Base.metadata
# Instances starting together on a new PostgreSQL database: one migrates, the others wait
# for this lock (held until the migration's transaction ends) and then find nothing to do.
MIGRATION_LOCK_KEY = 7_073_626_882  # any bigint of our own; "postcoach" in no one's way


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    # Run from the alembic CLI: take the URL from the same settings as the bot.
    from bot.settings import load_settings

    return load_settings().database_url


def _applied(
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    # One line per migration actually applied (alembic's own INFO lines are kept quiet).
    # The step's migration is a Script (typed as its base, Revision): its docstring is `doc`.
    doc = str(getattr(step.up_revision, "doc", "") or "")
    title = " ".join(doc.split("\n\n")[0].split())
    title = title if len(title) <= 100 else title[:99] + "…"
    verb = "applied" if step.is_upgrade else "reverted"
    logger.info("database migration %s %s: %s", verb, ", ".join(step.up_revision_ids), title)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        on_version_apply=_applied,
        # Batch mode lets later migrations alter tables on SQLite.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(_database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    """Emit SQL to stdout without a database."""
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the live database."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
