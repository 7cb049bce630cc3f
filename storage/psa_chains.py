"""The PSA sync's SQL: an entry's chain of edits, the mappings to PSA ids, and each chain's sync state
(its outbox row: destination ``psa``, one per chain, keyed by the chain's first entry)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import Client, Entry, OutboxMessage, PsaMember, PsaWorkType, SlackPerson

DESTINATION = "psa"


def chain_root(entry: Entry) -> int:
    return entry.root_id or entry.id


def chain(session: Session, root_id: int) -> list[Entry]:
    """The chain's entries, first to latest (an edit voids one and adds the next)."""
    return list(
        session.scalars(select(Entry).where(or_(Entry.id == root_id, Entry.root_id == root_id)).order_by(Entry.id))
    )


def untimed_minutes_before(session: Session, entry: Entry) -> int:
    """Minutes of the technician's entries that count, have no start of their own and fall on
    ``entry``'s work date, of chains begun before ``entry``'s (the first entry's id orders a chain, so
    an edit keeps its place)."""
    root = func.coalesce(Entry.root_id, Entry.id)
    query = select(func.coalesce(func.sum(Entry.minutes), 0)).where(
        Entry.user_id == entry.user_id,
        Entry.work_date == entry.work_date,
        Entry.started_at.is_(None),
        Entry.voided_at.is_(None),
        root < chain_root(entry),
    )
    return int(session.scalar(query) or 0)


def thread_notes(session: Session, thread_ref: str | None) -> list[str]:
    """Notes of the entries that count, logged on this ticket thread, first first."""
    if not thread_ref:
        return []
    query = select(Entry.note).where(Entry.thread_ref == thread_ref, Entry.voided_at.is_(None)).order_by(Entry.id)
    return list(session.scalars(query))


CREATE_SENT = "create_sent"  # in a sync row's payload: a create of the chain's record was sent once


def create_sent(session: Session, root_id: int) -> bool:
    """Whether a create of the chain's record was ever sent, so the PSA may hold one we have no id for.
    A row queued before this mark existed says nothing, which counts as sent (look before creating)."""
    payload = session.scalar(_sync_payload(root_id))
    return payload is None or bool(json.loads(payload).get(CREATE_SENT, True))


def mark_create_sent(session: Session, root_id: int) -> None:
    """Record, before the call, that a create is being sent: a later attempt (after a timeout, a crash,
    a requeue that reset ``attempts``) then looks for the record before creating another."""
    row = session.scalars(
        select(OutboxMessage).where(OutboxMessage.destination == DESTINATION, OutboxMessage.entry_id == root_id)
    ).first()
    if row is not None:
        row.payload = json.dumps({**json.loads(row.payload), CREATE_SENT: True})


def _sync_payload(root_id: int) -> Select[str]:
    return select(OutboxMessage.payload).where(
        OutboxMessage.destination == DESTINATION, OutboxMessage.entry_id == root_id
    )


def set_psa_id(session: Session, root_id: int, psa_id: str | None) -> None:
    """The PSA record's id on every entry of the chain (each shows where it went)."""
    session.execute(update(Entry).where(or_(Entry.id == root_id, Entry.root_id == root_id)).values(psa_id=psa_id))


@dataclass(frozen=True)
class SyncRow:
    root_id: int
    status: str  # pending | sent | failed
    attempts: int
    error: str | None
    payload: str


def sync_rows(session: Session, root_ids: Iterable[int]) -> dict[int, SyncRow]:
    wanted = sorted(set(root_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(
            OutboxMessage.entry_id,
            OutboxMessage.status,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.payload,
        ).where(OutboxMessage.destination == DESTINATION, OutboxMessage.entry_id.in_(wanted))
    )
    return {int(r[0] or 0): SyncRow(int(r[0] or 0), r[1], r[2], r[3], r[4]) for r in rows}


@dataclass(frozen=True)
class FailedSync:
    root_id: int
    entry_id: int  # the chain's latest entry
    client: str
    user_name: str
    minutes: int
    work_date: date
    error: str


def failed_syncs(session: Session, limit: int = 20) -> tuple[list[FailedSync], int]:
    """Chains whose sync failed (latest entry's facts), oldest first, and how many there are in all."""
    failed = (
        OutboxMessage.destination == DESTINATION,
        OutboxMessage.status == "failed",
        OutboxMessage.entry_id.is_not(None),  # a chain's row (a follow-up's row has no entry)
    )
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(*failed)) or 0
    rows = session.execute(
        select(OutboxMessage.entry_id, OutboxMessage.last_error).where(*failed).order_by(OutboxMessage.id).limit(limit)
    ).all()
    found = []
    for root_id, error in rows:
        latest = chain(session, int(root_id or 0))[-1]
        client = session.get(Client, latest.client_id)
        found.append(
            FailedSync(
                int(root_id or 0),
                latest.id,
                client.handle if client else "?",
                latest.user_name,
                latest.minutes,
                latest.work_date,
                error or "",
            )
        )
    return found, int(total)


def root_ids_of_client(session: Session, client_id: int) -> list[int]:
    return [
        int(r or 0)
        for r in session.scalars(
            select(OutboxMessage.entry_id).where(
                OutboxMessage.destination == DESTINATION,
                OutboxMessage.client_id == client_id,
                OutboxMessage.entry_id.is_not(None),
            )
        )
    ]


def member_of(session: Session, user_id: str) -> PsaMember | None:
    return session.get(PsaMember, user_id)


def set_member(session: Session, user_id: str, member_id: str | None, source: str, now: datetime) -> None:
    row = session.get(PsaMember, user_id)
    if member_id is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        session.add(PsaMember(user_id=user_id, member_id=member_id, source=source, updated_at=now))
    else:
        row.member_id, row.source, row.updated_at = member_id, source, now


def members(session: Session) -> dict[str, str]:
    return {row.user_id: row.member_id for row in session.scalars(select(PsaMember))}


def email_of(session: Session, user_id: str) -> str | None:
    person = session.get(SlackPerson, user_id)
    return person.email if person is not None else None


def authors(session: Session, since: datetime) -> dict[str, str]:
    """Everyone who logged time since ``since``: user id -> the name on their latest entry (one row
    per person, not one per entry)."""
    latest = select(func.max(Entry.id)).where(Entry.created_at >= since).group_by(Entry.user_id).scalar_subquery()
    rows = session.execute(select(Entry.user_id, Entry.user_name).where(Entry.id.in_(latest))).all()
    return dict(rows)


def users_named(session: Session, name: str) -> set[str]:
    """Slack user ids whose name (as Slack last said it, or as on their entries) is ``name``, or whose
    first name is: ``sam`` finds Sam Smith."""
    wanted = name.strip().lower()
    named = [
        *session.execute(select(SlackPerson.user_id, SlackPerson.name)),
        *session.execute(select(Entry.user_id, Entry.user_name).distinct()),
    ]
    return {user for user, full in named if wanted in (full.lower(), (full.split() or [""])[0].lower())}


def work_type_map(session: Session, work_type: str) -> PsaWorkType | None:
    return session.get(PsaWorkType, work_type)


def work_type_maps(session: Session) -> dict[str, PsaWorkType]:
    return {row.work_type: row for row in session.scalars(select(PsaWorkType))}


def set_work_type(session: Session, work_type: str, type_id: str | None, role_id: str | None) -> None:
    row = session.get(PsaWorkType, work_type)
    if row is None:
        session.add(PsaWorkType(work_type=work_type, psa_work_type_id=type_id, psa_work_role_id=role_id))
    else:
        row.psa_work_type_id, row.psa_work_role_id = type_id, role_id
