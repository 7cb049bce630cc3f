"""The SQL of statements and reports: ledger lines summed by kind and by period, the entries and voids
they record, the balance after each line, usage by work date, and what the hours used cost."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from storage.models import Block, Client, Draw, Entry, LedgerLine


def totals_by_kind(session: Session, client_id: int, start: date, end: date) -> dict[str, int]:
    """The client's ledger lines recorded on days in [start, end), summed by kind."""
    rows = session.execute(
        select(LedgerLine.kind, func.sum(LedgerLine.minutes))
        .where(LedgerLine.client_id == client_id, LedgerLine.recorded_on >= start, LedgerLine.recorded_on < end)
        .group_by(LedgerLine.kind)
    ).all()
    return {kind: int(total or 0) for kind, total in rows}


def rolled_over(session: Session, client_id: int, start: date, end: date) -> int:
    """Minutes rolled over from one allotment period into the next by the ``rollover`` lines recorded on
    days in [start, end) (each line names the block the minutes went into; it moves no balance)."""
    total = session.scalar(
        select(func.coalesce(func.sum(Block.rolled_in_minutes), 0))
        .join(LedgerLine, LedgerLine.block_id == Block.id)
        .where(
            LedgerLine.client_id == client_id,
            LedgerLine.kind == "rollover",
            LedgerLine.recorded_on >= start,
            LedgerLine.recorded_on < end,
        )
    )
    return int(total or 0)


def balance_before(session: Session, client_id: int, day: date) -> int:
    """The sum of every line recorded before ``day``: a period's opening balance."""
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerLine.minutes), 0)).where(
            LedgerLine.client_id == client_id, LedgerLine.recorded_on < day
        )
    )
    return int(total or 0)


def has_lines_before(session: Session, client_id: int, day: date) -> bool:
    found = session.scalar(
        select(LedgerLine.id).where(LedgerLine.client_id == client_id, LedgerLine.recorded_on < day).limit(1)
    )
    return found is not None


def timezones(session: Session, client_ids: list[int]) -> dict[int, str]:
    """The clients' time zones by id."""
    return dict(session.execute(select(Client.id, Client.timezone).where(Client.id.in_(client_ids))).all())


def handles(session: Session) -> dict[int, str]:
    """Every client's handle by id, archived ones included."""
    return dict(session.execute(select(Client.id, Client.handle).order_by(Client.id)).all())


def entry_lines(
    session: Session, client_id: int, kinds: Iterable[str], start: date, end: date
) -> list[tuple[str, date, Entry]]:
    """``(kind, recorded on, entry)`` of the client's entry and void lines recorded on days in
    [start, end), in order."""
    rows = session.execute(
        select(LedgerLine.kind, LedgerLine.recorded_on, Entry)
        .join(Entry, Entry.id == LedgerLine.entry_id)
        .where(
            LedgerLine.client_id == client_id,
            LedgerLine.kind.in_(list(kinds)),
            LedgerLine.recorded_on >= start,
            LedgerLine.recorded_on < end,
        )
        .order_by(LedgerLine.id)
    ).all()
    return [(kind, day, entry) for kind, day, entry in rows]


def covered_at(session: Session, entry_ids: list[int], moment: datetime) -> dict[int, int]:
    """Minutes the blocks covered of each entry at ``moment``: its draws made before then and not
    given back by then (a carry's draws from a later top-up included)."""
    found: dict[int, int] = {}
    for chunk in (entry_ids[i : i + 500] for i in range(0, len(entry_ids), 500)):
        rows = session.execute(
            select(Draw.entry_id, func.sum(Draw.minutes))
            .where(
                Draw.entry_id.in_(chunk),
                Draw.created_at < moment,
                or_(Draw.reversed_at.is_(None), Draw.reversed_at >= moment),
            )
            .group_by(Draw.entry_id)
        )
        found.update({entry_id: int(total) for entry_id, total in rows})
    return found


def corrections_of(session: Session, entry_ids: list[int], moment: datetime) -> dict[int, tuple[bool, int | None]]:
    """``{entry id: (voided, id of the entry that replaced it)}`` of the given entries as they stood
    at ``moment`` (a period's end): a correction made later is its own period's."""
    found: dict[int, tuple[bool, int | None]] = {}
    for chunk in (entry_ids[i : i + 500] for i in range(0, len(entry_ids), 500)):
        voided = session.execute(
            select(Entry.id).where(Entry.id.in_(chunk), Entry.voided_at.is_not(None), Entry.voided_at < moment)
        )
        found.update({entry_id: (True, None) for (entry_id,) in voided})
        replaced = session.execute(
            select(Entry.replaces_id, Entry.id).where(Entry.replaces_id.in_(chunk), Entry.created_at < moment)
        )
        for old_id, new_id in replaced:
            assert old_id is not None
            found[old_id] = (True, new_id)
    return found


def latest_lines(session: Session, client_id: int, limit: int) -> list[LedgerLine]:
    """The client's latest ``limit`` ledger lines, oldest first."""
    lines = session.scalars(
        select(LedgerLine).where(LedgerLine.client_id == client_id).order_by(LedgerLine.id.desc()).limit(limit)
    )
    return list(reversed(list(lines)))


def billable_by_work_date(session: Session, client_id: int, start: date, end: date) -> list[tuple[date, int]]:
    """``(work date, billable minutes)`` of the client's live entries dated in [start, end)."""
    rows = session.execute(
        select(Entry.work_date, Entry.billable_minutes).where(
            Entry.client_id == client_id,
            Entry.work_date >= start,
            Entry.work_date < end,
            Entry.voided_at.is_(None),
        )
    )
    return [(work_date, int(minutes)) for work_date, minutes in rows]


def priced_draws(session: Session, client_id: int, start: date, end: date) -> list[tuple[int, Decimal, int]]:
    """``(minutes drawn, block price, block size)`` of live draws for work dated in [start, end) from
    blocks with a price."""
    rows = session.execute(
        select(Draw.minutes, Block.price, Block.minutes)
        .join(Entry, Entry.id == Draw.entry_id)
        .join(Block, Block.id == Draw.block_id)
        .where(
            Entry.client_id == client_id,
            Entry.work_date >= start,
            Entry.work_date < end,
            Draw.reversed_at.is_(None),
            Block.price.is_not(None),
        )
    )
    return [(int(drawn), price, int(size)) for drawn, price, size in rows if price is not None]


def changes_by_day(session: Session, client_id: int, start: date, end: date) -> list[tuple[date, int]]:
    """``(day, sum of minutes)`` of the client's lines recorded on days in [start, end), by day, in
    order: with ``balance_before(start)``, the balance at each day's end (the page's burn-down)."""
    rows = session.execute(
        select(LedgerLine.recorded_on, func.sum(LedgerLine.minutes))
        .where(LedgerLine.client_id == client_id, LedgerLine.recorded_on >= start, LedgerLine.recorded_on < end)
        .group_by(LedgerLine.recorded_on)
        .order_by(LedgerLine.recorded_on)
    ).all()
    return [(day, int(total or 0)) for day, total in rows]


def first_recorded_on(session: Session, client_id: int) -> date | None:
    """The day the client's first ledger line was recorded (its first statement's month)."""
    found: date | None = session.scalar(
        select(func.min(LedgerLine.recorded_on)).where(LedgerLine.client_id == client_id)
    )
    return found


class StatementRow(NamedTuple):
    """An entry or void line of a statement, as plain columns (no ORM object: the client's page reads
    a month of them per view)."""

    kind: str  # entry | void
    recorded_on: date
    work_date: date
    user_name: str
    billable_minutes: int  # the entry's own (the caller negates a void's)
    ticket: str | None
    work_type: str
    note: str
    non_billable: bool


def _entry_lines_recorded(client_id: int, start: date, end: date) -> tuple[ColumnElement[bool], ...]:
    """The client's entry and void lines recorded on days in [start, end): a statement's lines."""
    return (
        LedgerLine.client_id == client_id,
        LedgerLine.kind.in_(("entry", "void")),
        LedgerLine.recorded_on >= start,
        LedgerLine.recorded_on < end,
    )


def statement_rows(
    session: Session, client_id: int, start: date, end: date, latest: int | None = None
) -> list[StatementRow]:
    """The client's entry and void lines recorded on days in [start, end), in order, with the columns
    of their entries that a client-safe statement shows; only the ``latest`` of them when given."""
    query = (
        select(
            LedgerLine.kind,
            LedgerLine.recorded_on,
            Entry.work_date,
            Entry.user_name,
            Entry.billable_minutes,
            Entry.ticket,
            Entry.work_type,
            Entry.note,
            Entry.non_billable,
        )
        .join(Entry, Entry.id == LedgerLine.entry_id)
        .where(*_entry_lines_recorded(client_id, start, end))
    )
    if latest is None:
        return [StatementRow(*row) for row in session.execute(query.order_by(LedgerLine.id))]
    rows = session.execute(query.order_by(LedgerLine.id.desc()).limit(latest)).all()
    return [StatementRow(*row) for row in reversed(rows)]


def statement_by_person(session: Session, client_id: int, start: date, end: date) -> list[tuple[str, int, int]]:
    """``(user name, billable minutes, lines)`` of the client's entry and void lines recorded on days in
    [start, end), summed by person (a void's minutes taken back): a statement's "by technician"."""
    signed = case((LedgerLine.kind == "void", -Entry.billable_minutes), else_=Entry.billable_minutes)
    rows = session.execute(
        select(Entry.user_name, func.sum(signed), func.count())
        .select_from(LedgerLine)
        .join(Entry, Entry.id == LedgerLine.entry_id)
        .where(*_entry_lines_recorded(client_id, start, end))
        .group_by(Entry.user_name)
    ).all()
    return [(name, int(minutes or 0), int(count)) for name, minutes, count in rows]
