"""expiry grace per client, request fingerprints for idempotency keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('expiry_grace_days', sa.Integer(), nullable=True))
    with op.batch_alter_table('entries') as batch:
        batch.add_column(sa.Column('request_fingerprint', sa.String(length=64), nullable=True))
    with op.batch_alter_table('blocks') as batch:
        batch.add_column(sa.Column('request_fingerprint', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('blocks') as batch:
        batch.drop_column('request_fingerprint')
    with op.batch_alter_table('entries') as batch:
        batch.drop_column('request_fingerprint')
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('expiry_grace_days')
