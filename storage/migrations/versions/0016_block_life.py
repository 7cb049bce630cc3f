"""A block's life (issue 26): paid or unpaid, where it came from, its record in the PSA, the hours it
rolled over; a client's pay-first rule, refill policy, recurring allotment, PSA follow-up and overage
hold; the outbox row of a block's PSA write (its block)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # literal defaults ("0", "1"), not sa.false(): on SQLite an expression default makes Alembic copy the
    # table, and a copy of clients is refused while ledger rows refer to it
    with op.batch_alter_table('blocks') as batch:
        batch.add_column(sa.Column('paid', sa.Boolean(), server_default='1', nullable=False))
        batch.add_column(sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('paid_by', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('source', sa.String(length=16), server_default='topup', nullable=False))
        batch.add_column(sa.Column('psa_id', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('period_start', sa.Date(), nullable=True))
        batch.add_column(sa.Column('rolled_in_minutes', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('rolled_out_minutes', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('pay_first', sa.Boolean(), server_default='0', nullable=False))
        batch.add_column(sa.Column('psa_product_id', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('refill_mode', sa.String(length=8), nullable=True))
        batch.add_column(sa.Column('refill_minutes', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('refill_paid', sa.Boolean(), server_default='0', nullable=False))
        batch.add_column(sa.Column('refill_cap', sa.Integer(), server_default='1', nullable=False))
        batch.add_column(sa.Column('refill_armed', sa.Boolean(), server_default='1', nullable=False))
        batch.add_column(sa.Column('recurring_period', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('recurring_minutes', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('rollover_minutes', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('recurring_last_start', sa.Date(), nullable=True))
        batch.add_column(sa.Column('psa_alert', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('hold_at_minutes', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('hold_at_percent', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('hold_approved_minutes', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('client_approves', sa.Boolean(), server_default='0', nullable=False))
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('block_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_outbox_block_id'), ['block_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.drop_index(batch.f('ix_outbox_block_id'))
        batch.drop_column('block_id')
    with op.batch_alter_table('clients') as batch:
        for name in (
            'client_approves', 'hold_approved_minutes', 'hold_at_percent', 'hold_at_minutes', 'psa_alert',
            'recurring_last_start', 'rollover_minutes', 'recurring_minutes', 'recurring_period', 'refill_armed',
            'refill_cap', 'refill_paid', 'refill_minutes', 'refill_mode', 'psa_product_id', 'pay_first',
        ):
            batch.drop_column(name)
    with op.batch_alter_table('blocks') as batch:
        for name in (
            'rolled_out_minutes', 'rolled_in_minutes', 'period_start', 'psa_id', 'source', 'paid_by', 'paid_at',
            'paid',
        ):
            batch.drop_column(name)
