"""A person's own entries are found by index: App Home's "my day" and the recent clients read them on
every refresh, and without these indexes each read scanned every entry of every person

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 16:20:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_entries_user_id_id', 'entries', ['user_id', 'id'])
    op.create_index('ix_entries_user_id_created_at', 'entries', ['user_id', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_entries_user_id_created_at', table_name='entries')
    op.drop_index('ix_entries_user_id_id', table_name='entries')
