"""stripe: the offers a client may buy on its page, purchases through Stripe Checkout and the Stripe
events handled (issue 27)

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0019'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('buy_offers', sa.Text(), nullable=True))
    op.create_table('purchases',
    sa.Column('id', ID, nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('client_id', ID, nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('session_id', sa.String(length=255), nullable=True),
    sa.Column('payment_intent', sa.String(length=255), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('block_id', ID, nullable=True),
    sa.Column('news', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['block_id'], ['blocks.id'], name=op.f('fk_purchases_block_id_blocks')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_purchases_client_id_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchases')),
    sa.UniqueConstraint('reference', name=op.f('uq_purchases_reference')),
    sa.UniqueConstraint('session_id', name=op.f('uq_purchases_session_id'))
    )
    op.create_index(op.f('ix_purchases_client_id'), 'purchases', ['client_id'], unique=False)
    op.create_index(op.f('ix_purchases_payment_intent'), 'purchases', ['payment_intent'], unique=False)
    op.create_table('stripe_events',
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('purchase_id', ID, nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchases.id'], name=op.f('fk_stripe_events_purchase_id_purchases')),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_stripe_events'))
    )


def downgrade() -> None:
    op.drop_table('stripe_events')
    op.drop_index(op.f('ix_purchases_payment_intent'), table_name='purchases')
    op.drop_index(op.f('ix_purchases_client_id'), table_name='purchases')
    op.drop_table('purchases')
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('buy_offers')
