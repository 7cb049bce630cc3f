"""A client's ledger never records a line on a day before ``records_from``: a time zone change that
moves the client's calendar back (Auckland to UTC early on the 1st) never puts a new line into a month
that is over

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('records_from', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('records_from')
