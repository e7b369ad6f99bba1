"""Index the end of a pause, so the dispatch tick finds due schedules without a scan.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nudge_schedules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_nudge_schedules_paused_until"), ["paused_until"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("nudge_schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nudge_schedules_paused_until"))
