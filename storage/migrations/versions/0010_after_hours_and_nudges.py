"""after hours and nudges: a client's working hours; the ticket thread an entry was logged on; who
replied in which ticket thread and when (never what); who turned nudges off

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('work_hours', sa.String(length=64), nullable=True))
    with op.batch_alter_table('entries') as batch:
        batch.add_column(sa.Column('thread_ref', sa.String(length=64), nullable=True))
        batch.create_index(batch.f('ix_entries_thread_ref'), ['thread_ref'], unique=False)
    op.create_table('thread_activity',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('thread_ts', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thread_activity')),
    sa.UniqueConstraint('user_id', 'channel_id', 'thread_ts', name=op.f('uq_thread_activity_user_id'))
    )
    with op.batch_alter_table('thread_activity') as batch:
        batch.create_index(batch.f('ix_thread_activity_at'), ['at'], unique=False)
    op.create_table('nudge_optouts',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_nudge_optouts'))
    )


def downgrade() -> None:
    op.drop_table('nudge_optouts')
    with op.batch_alter_table('thread_activity') as batch:
        batch.drop_index(batch.f('ix_thread_activity_at'))
    op.drop_table('thread_activity')
    with op.batch_alter_table('entries') as batch:
        batch.drop_index(batch.f('ix_entries_thread_ref'))
        batch.drop_column('thread_ref')
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('work_hours')
