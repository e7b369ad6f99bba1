"""Nudge schedules and their sends.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('nudge_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('weekdays', sa.JSON(), nullable=False),
    sa.Column('local_time', sa.String(length=5), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('quiet_start', sa.String(length=5), nullable=False),
    sa.Column('quiet_end', sa.String(length=5), nullable=False),
    sa.Column('next_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('snooze_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('paused_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_idea', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_nudge_schedules_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nudge_schedules')),
    sa.UniqueConstraint('user_id', 'kind', name=op.f('uq_nudge_schedules_user_id'))
    )
    with op.batch_alter_table('nudge_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nudge_schedules_next_due_at'), ['next_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_nudge_schedules_snooze_due_at'), ['snooze_due_at'], unique=False)

    op.create_table('nudge_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('idea', sa.String(length=32), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['schedule_id'], ['nudge_schedules.id'], name=op.f('fk_nudge_sends_schedule_id_nudge_schedules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_nudge_sends_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nudge_sends')),
    sa.UniqueConstraint('schedule_id', 'due_at', name=op.f('uq_nudge_sends_schedule_id'))
    )
    with op.batch_alter_table('nudge_sends', schema=None) as batch_op:
        batch_op.create_index('ix_nudge_sends_status_claimed', ['status', 'claimed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_nudge_sends_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('nudge_sends', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nudge_sends_user_id'))
        batch_op.drop_index('ix_nudge_sends_status_claimed')

    op.drop_table('nudge_sends')
    with op.batch_alter_table('nudge_schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nudge_schedules_snooze_due_at'))
        batch_op.drop_index(batch_op.f('ix_nudge_schedules_next_due_at'))

    op.drop_table('nudge_schedules')
