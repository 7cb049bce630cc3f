"""a linked channel may have its thread confirmations posted in public (internal channels only)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 07:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('channel_links') as batch:
        batch.add_column(sa.Column('public_replies', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('channel_links') as batch:
        batch.drop_column('public_replies')
