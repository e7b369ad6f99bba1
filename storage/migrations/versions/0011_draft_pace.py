"""How fast a user sends drafts: an index to count their last minute's drafts, and until
when the bot has told them to slow down.

A user over DRAFTS_PER_MINUTE gets one short "slow down" answer saying until when drafts
are not reviewed (`users.slowed_until`); the drafts they send meanwhile are not reviewed
and get no second answer. Counting uses drafts (user_id, created_at).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("slowed_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_drafts_user_created", "drafts", ["user_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_drafts_user_created", table_name="drafts")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("slowed_until")
