"""who is staff: people and channel facts from Slack; the client-safe view settings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 06:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('slack_people',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=True),
    sa.Column('standing', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_slack_people'))
    )
    op.create_table('slack_channels',
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel_id', name=op.f('pk_slack_channels'))
    )
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('client_notes', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('client_view', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('statement_channel', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('statement_channel')
        batch.drop_column('client_view')
        batch.drop_column('client_notes')
    op.drop_table('slack_channels')
    op.drop_table('slack_people')
