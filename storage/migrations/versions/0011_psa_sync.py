"""PSA sync: a client's PSA company and agreement; an entry's chain and its PSA record; the outbox row
of a chain (its entry and version); technicians' PSA members; work types' PSA counterparts; the
e-mail Slack shares of a person

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('psa_company_id', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('psa_agreement_id', sa.String(length=32), nullable=True))
    with op.batch_alter_table('entries') as batch:
        batch.add_column(sa.Column('root_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('psa_id', sa.String(length=40), nullable=True))
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('entry_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('version', sa.Integer(), server_default='0', nullable=False))
        batch.create_index(batch.f('ix_outbox_entry_id'), ['entry_id'], unique=False)
    with op.batch_alter_table('slack_people') as batch:
        batch.add_column(sa.Column('email', sa.String(length=200), nullable=True))
    op.create_table('psa_members',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_psa_members'))
    )
    op.create_table('psa_work_types',
    sa.Column('work_type', sa.String(length=32), nullable=False),
    sa.Column('psa_work_type_id', sa.String(length=32), nullable=True),
    sa.Column('psa_work_role_id', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('work_type', name=op.f('pk_psa_work_types'))
    )


def downgrade() -> None:
    op.drop_table('psa_work_types')
    op.drop_table('psa_members')
    with op.batch_alter_table('slack_people') as batch:
        batch.drop_column('email')
    with op.batch_alter_table('outbox') as batch:
        batch.drop_index(batch.f('ix_outbox_entry_id'))
        batch.drop_column('version')
        batch.drop_column('entry_id')
    with op.batch_alter_table('entries') as batch:
        batch.drop_column('psa_id')
        batch.drop_column('root_id')
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('psa_agreement_id')
        batch.drop_column('psa_company_id')
