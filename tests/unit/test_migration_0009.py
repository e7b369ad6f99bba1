"""Migration 0009 on a database that has lived: only unclaimable schedules lose their instants.

Runs on SQLite and on PostgreSQL (see tests/conftest.py). The rows go in through plain table
constructs, not the models, so the test keeps working when later migrations add columns.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from storage.database import create_engine
from storage.migrate import upgrade

DUE = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
USERS = sa.table(
    "users",
    sa.column("id", sa.BigInteger()),
    sa.column("first_name", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("last_seen_at", sa.DateTime(timezone=True)),
    sa.column("is_active", sa.Boolean()),
)
SCHEDULES = sa.table(
    "nudge_schedules",
    sa.column("user_id", sa.BigInteger()),
    sa.column("kind", sa.String()),
    sa.column("weekdays", sa.JSON()),
    sa.column("local_time", sa.String()),
    sa.column("timezone", sa.String()),
    sa.column("quiet_start", sa.String()),
    sa.column("quiet_end", sa.String()),
    sa.column("next_due_at", sa.DateTime(timezone=True)),
    sa.column("snooze_due_at", sa.DateTime(timezone=True)),
    sa.column("paused", sa.Boolean()),
    sa.column("paused_until", sa.DateTime(timezone=True)),
)
# user id: (active, paused until /resume, paused until a date)
PEOPLE = {
    1: (True, False, False),
    2: (True, True, False),
    3: (False, False, False),
    4: (True, False, True),
}


def _run(url: str, statement: sa.Executable) -> list[tuple[Any, ...]]:
    async def run() -> list[tuple[Any, ...]]:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(statement)
                return [tuple(row) for row in result.all()] if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_0009_clears_due_instants_of_paused_and_blocked_schedules_only(
    empty_database_url: str,
) -> None:
    upgrade(empty_database_url, "0008")
    _run(
        empty_database_url,
        sa.insert(USERS).values(
            [
                {
                    "id": user_id,
                    "first_name": "Anna",
                    "created_at": DUE,
                    "last_seen_at": DUE,
                    "is_active": active,
                }
                for user_id, (active, _, _) in PEOPLE.items()
            ]
        ),
    )
    _run(
        empty_database_url,
        sa.insert(SCHEDULES).values(
            [
                {
                    "user_id": user_id,
                    "kind": "nudge",
                    "weekdays": [0],
                    "local_time": "09:00",
                    "timezone": "Europe/Rome",
                    "quiet_start": "21:00",
                    "quiet_end": "08:00",
                    "next_due_at": DUE,
                    "snooze_due_at": DUE,
                    "paused": paused,
                    "paused_until": DUE if paused_until else None,
                }
                for user_id, (_, paused, paused_until) in PEOPLE.items()
            ]
        ),
    )
    upgrade(empty_database_url)
    rows = _run(
        empty_database_url,
        sa.select(
            SCHEDULES.c.user_id,
            SCHEDULES.c.next_due_at.is_not(None),
            SCHEDULES.c.snooze_due_at.is_not(None),
            SCHEDULES.c.paused_until.is_not(None),
        ).order_by(SCHEDULES.c.user_id),
    )
    # The paused one and the blocked one have nothing due; a pause until a date is kept
    # as it was (its end is what the claim reads), and so is everyone else.
    assert rows == [
        (1, True, True, False),
        (2, False, False, False),
        (3, False, False, False),
        (4, True, True, True),
    ]
