"""ledger lines: the (client, recorded on) index carries the minutes too, so the sums of a period
(an opening balance, the client's page's burn-down) are read from the index alone (issue 27)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_ledger_lines_client_id_recorded_on_minutes', 'ledger_lines', ['client_id', 'recorded_on', 'minutes']
    )
    op.drop_index('ix_ledger_lines_client_id_recorded_on', table_name='ledger_lines')


def downgrade() -> None:
    op.create_index('ix_ledger_lines_client_id_recorded_on', 'ledger_lines', ['client_id', 'recorded_on'])
    op.drop_index('ix_ledger_lines_client_id_recorded_on_minutes', table_name='ledger_lines')
