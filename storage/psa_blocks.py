"""The SQL of blocks' writes to the PSA (issue 26, part 2): each block's outbox row (destination
``psa``, kind ``psa_block``, ``block_id`` set: one row per block, queued again with a newer version on
each change, like an entry's chain), the PSA id kept on the block, and which blocks failed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.models import Block, Client, OutboxMessage
from storage.outbox import pending_again

DESTINATION = "psa"
KIND = "psa_block"
CREATE_SENT = "create_sent"  # in the row's payload: a create of the block's record was sent once


def _row_of(block_id: int) -> tuple[object, ...]:
    return (
        OutboxMessage.destination == DESTINATION,
        OutboxMessage.kind == KIND,
        OutboxMessage.block_id == block_id,
    )


def requeue(session: Session, row: dict[str, object], block_id: int) -> None:
    """Queue ``block_id``'s write to go (again) now: ``row`` when the block has none yet, else its row,
    pending again with a newer version (its payload, and so our reference, kept). The caller holds the
    client's row lock, which orders such changes."""
    found = session.scalars(select(OutboxMessage).where(*_row_of(block_id))).first()  # type: ignore[arg-type]
    if found is None:
        session.add(OutboxMessage(**row, block_id=block_id))
        return
    due = row["next_attempt_at"]
    assert isinstance(due, datetime)
    if found.status != "pending":  # sent or failed: it waits from now (a waiting row keeps its place)
        found.created_at = due
    found.status, found.next_attempt_at, found.attempts, found.last_error = "pending", due, 0, None
    found.version += 1


def create_sent(session: Session, block_id: int) -> bool:
    """Whether a create of the block's record was ever sent (so the PSA may hold one we have no id for)."""
    payload = session.scalar(select(OutboxMessage.payload).where(*_row_of(block_id)))  # type: ignore[arg-type]
    return payload is None or bool(json.loads(payload).get(CREATE_SENT, True))


def mark_create_sent(session: Session, block_id: int) -> None:
    """Record, before the call, that a create is being sent: a later attempt (after a timeout, a crash,
    a retry) then looks for the record by our reference before creating another."""
    row = session.scalars(select(OutboxMessage).where(*_row_of(block_id))).first()  # type: ignore[arg-type]
    if row is not None:
        row.payload = json.dumps({**json.loads(row.payload), CREATE_SENT: True})


def set_psa_id(session: Session, block_id: int, psa_id: str | None) -> None:
    session.execute(update(Block).where(Block.id == block_id).values(psa_id=psa_id))


@dataclass(frozen=True)
class BlockRow:
    block_id: int
    status: str  # pending | sent | failed
    error: str | None


def rows(session: Session, block_ids: Iterable[int]) -> dict[int, BlockRow]:
    """Block id -> its write's outbox row (blocks never queued have none)."""
    wanted = sorted(set(block_ids))
    if not wanted:
        return {}
    found = session.execute(
        select(OutboxMessage.block_id, OutboxMessage.status, OutboxMessage.last_error).where(
            OutboxMessage.destination == DESTINATION,
            OutboxMessage.kind == KIND,
            OutboxMessage.block_id.in_(wanted),
        )
    )
    return {int(r[0] or 0): BlockRow(int(r[0] or 0), r[1], r[2]) for r in found}


@dataclass(frozen=True)
class FailedBlock:
    block_id: int
    number: int | None
    client: str
    minutes: int
    voided: bool
    error: str


def failed(session: Session, limit: int = 20) -> tuple[list[FailedBlock], int]:
    """Blocks whose write the PSA refused (or that miss a mapping), oldest first, and how many in all."""
    where = (OutboxMessage.destination == DESTINATION, OutboxMessage.kind == KIND, OutboxMessage.status == "failed")
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(*where)) or 0
    found = session.execute(
        select(Block.id, Block.number, Client.handle, Block.minutes, Block.voided_at, OutboxMessage.last_error)
        .join(Block, Block.id == OutboxMessage.block_id)
        .join(Client, Client.id == Block.client_id)
        .where(*where)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    return [FailedBlock(r[0], r[1], r[2], r[3], r[4] is not None, r[5] or "") for r in found], int(total)


def requeue_failed(session: Session, now: datetime, client_id: int | None = None) -> int:
    """Failed block writes (of one client, when given) pending again; how many."""
    query = (
        update(OutboxMessage)
        .where(OutboxMessage.destination == DESTINATION, OutboxMessage.kind == KIND, OutboxMessage.status == "failed")
        .values(**pending_again(now))
    )
    if client_id is not None:
        query = query.where(OutboxMessage.client_id == client_id)
    return int(session.execute(query).rowcount)  # type: ignore[attr-defined]


def by_psa_id(session: Session, client_id: int, psa_ids: Iterable[str]) -> set[str]:
    """Which of ``psa_ids`` a block of the client already carries (imported, or written by us)."""
    wanted = sorted(set(psa_ids))
    if not wanted:
        return set()
    return set(session.scalars(select(Block.psa_id).where(Block.client_id == client_id, Block.psa_id.in_(wanted))))


class PsaBlocks:
    """The unit of work's repository of blocks' PSA writes (``uow.psa_blocks``)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def requeue(self, row: dict[str, object], block_id: int) -> None:
        requeue(self._session, row, block_id)

    def create_sent(self, block_id: int) -> bool:
        return create_sent(self._session, block_id)

    def mark_create_sent(self, block_id: int) -> None:
        mark_create_sent(self._session, block_id)

    def set_psa_id(self, block_id: int, psa_id: str | None) -> None:
        set_psa_id(self._session, block_id, psa_id)

    def rows(self, block_ids: Iterable[int]) -> dict[int, BlockRow]:
        return rows(self._session, block_ids)

    def failed(self, limit: int = 20) -> tuple[list[FailedBlock], int]:
        return failed(self._session, limit)

    def requeue_failed(self, now: datetime, client_id: int | None = None) -> int:
        return requeue_failed(self._session, now, client_id)

    def by_psa_id(self, client_id: int, psa_ids: Iterable[str]) -> set[str]:
        return by_psa_id(self._session, client_id, psa_ids)
