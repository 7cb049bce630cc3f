"""The outbox's SQL: which messages are due, claiming one by conditional update (so one process
delivers it), and marking it sent, failed or due again later (the dispatcher asks; it edits no row)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from storage.models import OutboxMessage


def due(session: Session, now: datetime, destinations: Iterable[str], limit: int) -> list[tuple[int, str]]:
    """(id, destination) of pending messages due by ``now`` for these destinations and not claimed by a
    live claim, oldest first."""
    return [
        (int(row[0]), str(row[1]))
        for row in session.execute(
            select(OutboxMessage.id, OutboxMessage.destination)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at <= now,
                OutboxMessage.destination.in_(list(destinations)),
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    ]


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


def mark_sent(session: Session, outbox_id: int, worker: str, now: datetime, ref: str, version: int = 0) -> bool:
    """Sent, if ``worker`` still holds the claim and the row was not queued again meanwhile (a newer
    ``version``: then the claim is released, and the row goes out again at once)."""
    return _settle(
        session,
        outbox_id,
        worker,
        version,
        status="sent",
        sent_at=now,
        claimed_until=None,
        delivery_ref=ref[:100],
        attempts=OutboxMessage.attempts + 1,
        last_error=None,
    )


def mark_failed(session: Session, outbox_id: int, worker: str, reason: str, version: int = 0) -> bool:
    """Failed for good (the other side refused it as it stands): no more tries until queued again."""
    return _settle(
        session,
        outbox_id,
        worker,
        version,
        status="failed",
        claimed_until=None,
        attempts=OutboxMessage.attempts + 1,
        last_error=reason[:500],
    )


def _settle(session: Session, outbox_id: int, worker: str, version: int, **values: object) -> bool:
    held = (OutboxMessage.id == outbox_id, OutboxMessage.claimed_by == worker)
    done = session.execute(update(OutboxMessage).where(*held, OutboxMessage.version == version).values(**values))
    if done.rowcount == 1:  # type: ignore[attr-defined]
        return True
    session.execute(update(OutboxMessage).where(*held).values(claimed_until=None))
    return False


NEW_ROW_FIELDS = (
    "kind",
    "destination",
    "target",
    "client_id",
    "dedupe_key",
    "payload",
    "status",
    "attempts",
    "version",
    "next_attempt_at",
    "created_at",
)


def new_row(
    *, kind: str, destination: str, now: datetime, payload: str, dedupe_key: str, client_id: int | None
) -> dict[str, object]:
    """A pending row's columns (``NEW_ROW_FIELDS``), but for ``entry_id``, which both entry writers
    add: the ORM (:func:`requeue`)."""
    return {
        "kind": kind,
        "destination": destination,
        "target": "",
        "client_id": client_id,
        "dedupe_key": dedupe_key,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "version": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def requeue(session: Session, row: dict[str, object], entry_id: int) -> None:
    """Queue ``entry_id``'s row for ``row``'s destination to go (again) now: ``row`` itself when there
    is none yet, else the existing one, pending again with a newer version (its payload kept). The
    caller holds the lock that orders such changes (the client's row)."""
    found = session.scalars(
        select(OutboxMessage).where(OutboxMessage.destination == row["destination"], OutboxMessage.entry_id == entry_id)
    ).first()
    if found is None:
        session.add(OutboxMessage(**row, entry_id=entry_id))
        return
    due = row["next_attempt_at"]
    assert isinstance(due, datetime)
    if found.status != "pending":  # sent or failed: it waits from now (a waiting row keeps its place)
        found.created_at = due
    found.status, found.next_attempt_at, found.attempts, found.last_error = "pending", due, 0, None
    found.version += 1


def pending_again(now: datetime) -> dict[str, Any]:
    """The values that put a failed (or sent) message back in the queue as a newer version: due now,
    waiting from now (its age in ``/metrics``), its tries and last error forgotten, unclaimed."""
    return {
        "status": "pending",
        "next_attempt_at": now,
        "created_at": now,
        "attempts": 0,
        "last_error": None,
        "claimed_until": None,
        "version": OutboxMessage.version + 1,
    }


def requeue_failed(session: Session, destination: str, now: datetime, entry_ids: Iterable[int] | None = None) -> int:
    """Failed rows for ``destination`` (only those of ``entry_ids`` when given) pending again; how many."""
    query = (
        update(OutboxMessage)
        .where(OutboxMessage.destination == destination, OutboxMessage.status == "failed")
        .values(**pending_again(now))
    )
    if entry_ids is not None:
        query = query.where(OutboxMessage.entry_id.in_(list(entry_ids)))
    return int(session.execute(query).rowcount)  # type: ignore[attr-defined]


def status_of(session: Session, dedupe_key: str) -> str | None:
    return session.scalar(select(OutboxMessage.status).where(OutboxMessage.dedupe_key == dedupe_key))


def queue_failed_again(session: Session, dedupe_key: str, payload: str, now: datetime) -> bool:
    """The message with ``dedupe_key``, failed for good, pending again now with ``payload`` (a newer
    version, waiting from now); False when it is not failed (sent, or being tried: nothing changes)."""
    done = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.dedupe_key == dedupe_key, OutboxMessage.status == "failed")
        .values(**pending_again(now), payload=payload)
    )
    return int(done.rowcount) == 1  # type: ignore[attr-defined]


def retry_later(
    session: Session, outbox_id: int, version: int, now: datetime, reason: str, delay: Callable[[int], float]
) -> float | None:
    """A delivery failed for a reason that may pass: the claim is released and the message due again
    ``delay(attempts)`` seconds from ``now`` (the seconds returned). When the row was queued again
    meanwhile (a newer ``version``), only the claim is released (None): the newer version goes now."""
    row = session.get(OutboxMessage, outbox_id)
    assert row is not None
    row.claimed_until = None
    if row.version != version:
        return None
    row.attempts += 1
    seconds = delay(row.attempts)
    row.next_attempt_at = now + timedelta(seconds=seconds)
    row.last_error = reason[:500]
    return seconds


def mark_create_sent(session: Session, outbox_id: int) -> None:
    """Record on the row, before the call, that a create of its PSA record is being sent (a low
    balance's follow-up): a later attempt then looks for the record before creating another."""
    row = session.get(OutboxMessage, outbox_id)
    if row is not None:
        row.payload = json.dumps({**json.loads(row.payload), "create_sent": True})


def message(session: Session, outbox_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, outbox_id)
