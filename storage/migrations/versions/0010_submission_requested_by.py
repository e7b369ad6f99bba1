"""A group review asked by one member for another's draft: who asked.

A member who replies /review to a colleague's message asks for a review of the
colleague's draft: the submission is the author's, and `requested_by` keeps the member
who asked (NULL when the author asked themselves), so the leaderboard counts the reviews
asked for others apart. Erasing the member who asked only clears the reference.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("requested_by", sa.BigInteger(), nullable=True))
        batch.create_foreign_key(
            "fk_submissions_requested_by_users",
            "users",
            ["requested_by"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_submissions_requested_by", ["requested_by"])


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_index("ix_submissions_requested_by")
        batch.drop_constraint("fk_submissions_requested_by_users", type_="foreignkey")
        batch.drop_column("requested_by")
