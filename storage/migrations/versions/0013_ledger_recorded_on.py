"""Each ledger line keeps the day it was recorded on in the client's calendar, so a later change of the
client's time zone never moves a line into another month (a statement already sent never changes)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence
from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LINES = sa.table(
    'ledger_lines',
    sa.column('id', sa.Integer()),
    sa.column('client_id', sa.Integer()),
    sa.column('at', sa.DateTime(timezone=True)),
    sa.column('recorded_on', sa.Date()),
)
_CLIENTS = sa.table('clients', sa.column('id', sa.Integer()), sa.column('timezone', sa.String()))


def upgrade() -> None:
    with op.batch_alter_table('ledger_lines') as batch:
        batch.add_column(sa.Column('recorded_on', sa.Date(), nullable=True))
    bind = op.get_bind()
    # the day each line was recorded on, in the time zone its client has now (the one its statements used)
    zones = {cid: ZoneInfo(zone) for cid, zone in bind.execute(sa.select(_CLIENTS.c.id, _CLIENTS.c.timezone))}
    rows = bind.execute(sa.select(_LINES.c.id, _LINES.c.client_id, _LINES.c.at)).all()
    days = []
    for line_id, client_id, moment in rows:
        aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        days.append({'line_id': line_id, 'day': aware.astimezone(zones[client_id]).date()})
    if days:
        bind.execute(
            sa.update(_LINES).where(_LINES.c.id == sa.bindparam('line_id')).values(recorded_on=sa.bindparam('day')),
            days,
        )
    with op.batch_alter_table('ledger_lines') as batch:
        batch.alter_column('recorded_on', existing_type=sa.Date(), nullable=False)
        batch.create_index('ix_ledger_lines_client_id_recorded_on', ['client_id', 'recorded_on'])


def downgrade() -> None:
    with op.batch_alter_table('ledger_lines') as batch:
        batch.drop_index('ix_ledger_lines_client_id_recorded_on')
        batch.drop_column('recorded_on')
