"""One claim mechanism for every scheduled send: nudges count their attempts, and the
group challenges, channel tips and results questions get a ledger of their own sends
(claimed with a lease, sent, confirmed), so a crash between a send and its confirmation
sends it again once, not never and not twice.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nudge_sends") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "scheduled_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("variant", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_scheduled_sends_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_sends")),
        sa.UniqueConstraint(
            "kind", "subject_id", "due_at", name=op.f("uq_scheduled_sends_kind")
        ),
    )
    with op.batch_alter_table("scheduled_sends") as batch:
        batch.create_index("ix_scheduled_sends_status_claimed", ["status", "claimed_at"])
        batch.create_index(batch.f("ix_scheduled_sends_user_id"), ["user_id"])


def downgrade() -> None:
    op.drop_table("scheduled_sends")
    with op.batch_alter_table("nudge_sends") as batch:
        batch.drop_column("attempts")
