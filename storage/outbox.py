"""The outbox's SQL: which messages are due, claiming one by conditional update (so one process
delivers it), and marking it sent or due again."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from storage.models import OutboxMessage


def due_ids(session: Session, now: datetime, destinations: Iterable[str], limit: int) -> list[int]:
    """Pending messages due by ``now`` for these destinations and not claimed by a live claim, oldest first."""
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at <= now,
                OutboxMessage.destination.in_(list(destinations)),
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )


def claim(session: Session, outbox_id: int, worker: str, now: datetime, until: datetime) -> OutboxMessage | None:
    """Claim the message for ``worker`` until ``until`` if it is still pending and unclaimed (a
    conditional update: of several processes, one wins); the claimed row, or None."""
    changed = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == outbox_id,
            OutboxMessage.status == "pending",
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(claimed_by=worker, claimed_until=until)
    ).rowcount  # type: ignore[attr-defined]
    return session.get(OutboxMessage, outbox_id) if changed == 1 else None


def mark_sent(session: Session, outbox_id: int, worker: str, now: datetime, ref: str) -> None:
    """Sent, if ``worker`` still holds the claim."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.claimed_by == worker)
        .values(
            status="sent",
            sent_at=now,
            claimed_until=None,
            delivery_ref=ref[:100],
            attempts=OutboxMessage.attempts + 1,
            last_error=None,
        )
    )


def message(session: Session, outbox_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, outbox_id)
