"""blocks numbered per client (a client's second block is its block 2)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('blocks') as batch:
        batch.add_column(sa.Column('number', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE blocks SET number = (SELECT COUNT(*) FROM blocks AS earlier "
        "WHERE earlier.client_id = blocks.client_id AND earlier.id <= blocks.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table('blocks') as batch:
        batch.drop_column('number')
