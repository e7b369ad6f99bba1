"""Profiles and the results of posts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('profiles',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('role', sa.String(length=200), nullable=True),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('platforms', sa.JSON(), nullable=False),
    sa.Column('main_platform', sa.String(length=16), nullable=True),
    sa.Column('weekly_goal', sa.Integer(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('nudge_days', sa.JSON(), nullable=False),
    sa.Column('nudge_time', sa.String(length=5), nullable=True),
    sa.Column('onboarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_profiles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_profiles'))
    )
    op.create_table('post_results',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('reactions', sa.Integer(), nullable=True),
    sa.Column('comments', sa.Integer(), nullable=True),
    sa.Column('contacts', sa.Integer(), nullable=True),
    sa.Column('opportunity', sa.Boolean(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_results_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_post_results_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', name=op.f('pk_post_results'))
    )
    with op.batch_alter_table('post_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_results_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('results_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('results_asked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_posts_results_due_at'), ['results_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_posts_draft_id'), ['draft_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_posts_review_id'), ['review_id'], unique=False)

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index('ix_reviews_user_created', ['user_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_reviews_user_created')

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_posts_review_id'))
        batch_op.drop_index(batch_op.f('ix_posts_draft_id'))
        batch_op.drop_index(batch_op.f('ix_posts_results_due_at'))
        batch_op.drop_column('results_asked_at')
        batch_op.drop_column('results_due_at')

    with op.batch_alter_table('post_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_results_user_id'))

    op.drop_table('post_results')
    op.drop_table('profiles')
