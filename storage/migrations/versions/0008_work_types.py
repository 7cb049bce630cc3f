"""work types with multipliers, per-client rates, and the type and multiplier on each entry

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('work_types',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('multiplier', sa.Numeric(precision=8, scale=3), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_work_types'))
    )
    op.create_table('client_work_types',
    sa.Column('client_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('work_type', sa.String(length=32), nullable=False),
    sa.Column('multiplier', sa.Numeric(precision=8, scale=3), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_client_work_types_client_id_clients')),
    sa.PrimaryKeyConstraint('client_id', 'work_type', name=op.f('pk_client_work_types'))
    )
    with op.batch_alter_table('entries') as batch:
        batch.add_column(sa.Column('work_type', sa.String(length=32), nullable=False, server_default='standard'))
        batch.add_column(
            sa.Column('multiplier', sa.Numeric(precision=8, scale=3), nullable=False, server_default='1')
        )


def downgrade() -> None:
    with op.batch_alter_table('entries') as batch:
        batch.drop_column('multiplier')
        batch.drop_column('work_type')
    op.drop_table('client_work_types')
    op.drop_table('work_types')
