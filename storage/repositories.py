"""Query functions on a unit of work's session: the SQL the use cases need, kept in storage. Each takes
the session (so it joins the caller's transaction) and returns models or plain values."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from storage.models import Block, Client, ClientAlias, Entry


def client_by_handle(session: Session, handle: str, lock: bool = False) -> Client | None:
    """The client whose handle is ``handle`` (re-read, so running figures are current)."""
    query = select(Client).where(Client.handle == handle).execution_options(populate_existing=True)
    return session.scalar(query.with_for_update() if lock else query)


def client_id_by_alias(session: Session, alias: str) -> int | None:
    return session.scalar(select(ClientAlias.client_id).where(ClientAlias.alias == alias))


def locked_client(session: Session, client_id: int) -> Client | None:
    """The client's row, locked for this transaction (``SELECT ... FOR UPDATE`` on PostgreSQL)."""
    return session.get(Client, client_id, with_for_update=True, populate_existing=True)


def active_handles(session: Session) -> list[str]:
    return list(session.scalars(select(Client.handle).where(Client.archived.is_(False))))


def active_clients(session: Session) -> list[Client]:
    return list(session.scalars(select(Client).where(Client.archived.is_(False)).order_by(Client.id)))


def active_client_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Client.id).where(Client.archived.is_(False)).order_by(Client.id)))


def billable_used_since(session: Session, client_id: int, start: date) -> int:
    """Billable minutes of live entries with a work date from ``start`` on."""
    total = session.scalar(
        select(func.coalesce(func.sum(Entry.billable_minutes), 0)).where(
            Entry.client_id == client_id, Entry.work_date >= start, Entry.voided_at.is_(None)
        )
    )
    return int(total or 0)


def unrenewed_blocks(session: Session) -> list[tuple[int, date, int]]:
    """``(block id, start, months)`` of live blocks with a renewal rule and no renewal yet, oldest first."""
    successor = aliased(Block)
    rows = session.execute(
        select(Block.id, Block.start_on, Block.renew_months)
        .outerjoin(successor, successor.renewal_of_id == Block.id)
        .where(Block.renew_months.is_not(None), Block.voided_at.is_(None), successor.id.is_(None))
        .order_by(Block.start_on, Block.id)
    ).all()
    return [(int(block_id), start, int(months)) for block_id, start, months in rows if months is not None]


def renewal_of(session: Session, block_id: int) -> int | None:
    """The id of the block that renewed ``block_id``, if one did."""
    return session.scalar(select(Block.id).where(Block.renewal_of_id == block_id))
