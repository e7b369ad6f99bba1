"""Schedules that cannot be claimed keep no due instant: paused until /resume, or blocked.

The dispatch tick reads due schedules in index order and steps over those it may not
claim; rows left due forever by a pause or a block would be stepped over on every tick.
From now on `NudgeService.pause` and `set_active` clear the instants; this clears the
ones kept so far. /resume and a user's return compute a fresh one from that moment, as
they always did, so nothing a user sees changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

schedules = sa.table(
    "nudge_schedules",
    sa.column("user_id", sa.BigInteger()),
    sa.column("paused", sa.Boolean()),
    sa.column("next_due_at", sa.DateTime(timezone=True)),
    sa.column("snooze_due_at", sa.DateTime(timezone=True)),
)
users = sa.table("users", sa.column("id", sa.BigInteger()), sa.column("is_active", sa.Boolean()))


def upgrade() -> None:
    op.execute(
        schedules.update()
        .where(
            sa.or_(
                schedules.c.paused.is_(True),
                schedules.c.user_id.in_(sa.select(users.c.id).where(users.c.is_active.is_(False))),
            )
        )
        .values(next_due_at=None, snooze_due_at=None)
    )


def downgrade() -> None:
    # Nothing to restore: the code before 0009 never claims these rows either, and
    # computes their next instant again on /resume or when the user comes back.
    pass
