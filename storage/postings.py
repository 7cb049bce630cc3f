"""The one writer of changes of hours: stores a posting (``bot.domain.client_ledger.Posting``) in the
caller's transaction, with SQLAlchemy Core statements built from it (run on the driver's cursor,
``storage.driver``) and no flush in the middle.

Order: new blocks and new entries first (the database gives their ids, which replace the posting's
provisional ones), then the draws, the changed blocks, entries and client figures, and the ledger
lines. Figures are absolute values: the caller holds the client's row lock. ORM objects of the same
rows already loaded in the session are given the stored values (``set_committed_value``), so a read
after the write, in the same transaction, sees what was stored without reading it again.

Storage is a leaf: the posting is read by its attributes (``PostingLike``), not imported."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from storage.driver import Runner
from storage.models import Block, Client, Draw, Entry, LedgerLine


class PostingLike(Protocol):
    client_id: int
    new_blocks: list[dict[str, Any]]
    new_entries: list[dict[str, Any]]
    new_draws: list[dict[str, Any]]
    reversed_draws: list[int]
    reversed_at: datetime | None
    blocks: dict[int, dict[str, Any]]
    entries: dict[int, dict[str, Any]]
    totals: dict[str, Any]
    lines: list[dict[str, Any]]


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


_CLIENTS, _BLOCKS, _ENTRIES, _DRAWS, _LINES = (_table(m) for m in (Client, Block, Entry, Draw, LedgerLine))


class Ids(dict[int, int]):
    """Provisional id -> stored id."""

    def __call__(self, row_id: int | None) -> int | None:
        return None if row_id is None else self.get(row_id, row_id)


def save(session: Session, posting: PostingLike) -> Ids:
    """Store ``posting`` in ``session``'s transaction; returns the ids the database gave its new rows
    (by provisional id). The session's ORM objects of the changed rows are given the stored values."""
    ids = store(Runner.of(session), posting)
    if posting.reversed_draws:
        for draw_id in posting.reversed_draws:
            _committed(session, Draw, draw_id, {"reversed_at": posting.reversed_at})
    for block_id, changes in posting.blocks.items():
        _committed(session, Block, block_id, changes)
    for entry_id, changes in posting.entries.items():
        _committed(session, Entry, entry_id, changes, expire=("draws",))
    if posting.totals:
        _committed(
            session,
            Client,
            posting.client_id,
            {k: ids(v) if k == "last_entry_id" else v for k, v in posting.totals.items()},
        )
    return ids


def store(run: Runner, posting: PostingLike) -> Ids:
    """The one writer: ``posting``'s statements, in order, on ``run``'s connection."""
    ids = Ids()
    for row in posting.new_blocks:
        ids[row["id"]] = _new_id(run, _BLOCKS, _without_id(row))
    for row in posting.new_entries:
        values = _without_id(row)
        values["root_id"] = ids(values.get("root_id"))
        ids[row["id"]] = _new_id(run, _ENTRIES, values)
    if posting.new_draws:
        draws = [{**d, "entry_id": ids(d["entry_id"]), "block_id": ids(d["block_id"])} for d in posting.new_draws]
        run.many(_inserting(_DRAWS, frozenset(draws[0])), draws)
    if posting.reversed_draws:
        run.many(_REVERSE_DRAW, [{"row_id": d, "at": posting.reversed_at} for d in posting.reversed_draws])
    for block_id, changes in posting.blocks.items():
        run.run(_updating(_BLOCKS, frozenset(changes)), {**changes, "row_id": block_id})
    for entry_id, changes in posting.entries.items():
        run.run(_updating(_ENTRIES, frozenset(changes)), {**changes, "row_id": entry_id})
    if posting.totals:
        totals = {k: ids(v) if k == "last_entry_id" else v for k, v in posting.totals.items()}
        run.run(_updating(_CLIENTS, frozenset(totals)), {**totals, "row_id": posting.client_id})
    for line in posting.lines:
        values = {**_without_id(line), "block_id": ids(line["block_id"]), "entry_id": ids(line["entry_id"])}
        ids[line["id"]] = _new_id(run, _LINES, values)
    return ids


def _new_id(run: Runner, table: Table, values: dict[str, Any]) -> int:
    found = run.first(_inserting(table, frozenset(values)), values)
    assert found is not None
    return int(found[0])


def _without_id(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "id"}


_REVERSE_DRAW = update(_DRAWS).where(_DRAWS.c.id == bindparam("row_id")).values(reversed_at=bindparam("at"))


def _committed(
    session: Session, model: type[Any], row_id: int, changes: Mapping[str, Any], expire: Sequence[str] = ()
) -> None:
    """The stored values on the row's ORM object, when the session holds one."""
    found = session.identity_map.get(identity_key(model, row_id))
    if found is None:
        return
    for name, value in changes.items():
        set_committed_value(found, name, value)
    if expire:
        session.expire(found, list(expire))


@lru_cache(maxsize=64)
def _inserting(table: Table, columns: frozenset[str]) -> Any:
    """An INSERT of ``columns`` (returning the new id, but for draws), built once per shape."""
    statement = insert(table).values({c: bindparam(c) for c in sorted(columns)})
    return statement if table is _DRAWS else statement.returning(table.c.id)


@lru_cache(maxsize=64)
def _updating(table: Table, columns: frozenset[str]) -> Any:
    """An UPDATE of ``columns`` of the row ``:row_id``, built once per shape."""
    return update(table).where(table.c.id == bindparam("row_id")).values({c: bindparam(c) for c in sorted(columns)})


# -- what the ledger reads -------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockRow:
    id: int
    number: int | None
    minutes: int
    remaining_minutes: int
    forfeited_minutes: int
    start_on: date
    expires_on: date | None
    reference: str | None


_B = _BLOCKS.c
_BLOCK_COLUMNS = (
    _B.id,
    _B.number,
    _B.minutes,
    _B.remaining_minutes,
    _B.forfeited_minutes,
    _B.start_on,
    _B.expires_on,
    _B.reference,
)
_HOLDING = _BLOCKS.alias("holding")
_LEDGER_BLOCKS = select(*_BLOCK_COLUMNS).where(
    _B.client_id == bindparam("client_id"),
    _B.voided_at.is_(None),
    or_(
        _B.remaining_minutes > 0,
        _B.expires_on >= bindparam("since"),
        and_(
            _B.expires_on.is_(None),
            _B.start_on
            >= select(func.min(_HOLDING.c.start_on))
            .where(
                _HOLDING.c.client_id == bindparam("client_id"),
                _HOLDING.c.voided_at.is_(None),
                _HOLDING.c.remaining_minutes > 0,
            )
            .scalar_subquery(),
        ),
    ),
)
_BLOCKS_BY_ID = select(*_BLOCK_COLUMNS).where(_B.id.in_(bindparam("ids", expanding=True)))


def ledger_blocks(session: Session | Runner, client_id: int, used_up_since: date) -> list[BlockRow]:
    """The client's live blocks with minutes left, and the used-up ones that may still be current on
    ``used_up_since`` or later (as ``storage.repositories.open_blocks``), as plain rows."""
    run = session if isinstance(session, Runner) else Runner.of(session)
    return [BlockRow(*row) for row in run.rows(_LEDGER_BLOCKS, {"client_id": client_id, "since": used_up_since})]


def blocks_by_id(session: Session, block_ids: Sequence[int]) -> list[BlockRow]:
    return [BlockRow(*row) for row in session.connection().execute(_BLOCKS_BY_ID, {"ids": list(block_ids)})]


@dataclass(frozen=True)
class EntryRow:
    id: int
    work_date: date
    billable_minutes: int
    overage_minutes: int
    billed_overage_minutes: int


_E = _ENTRIES.c
_ENTRY_COLUMNS = (_E.id, _E.work_date, _E.billable_minutes, _E.overage_minutes, _E.billed_overage_minutes)
_OVERAGE_ENTRIES = (
    select(*_ENTRY_COLUMNS)
    .where(_E.client_id == bindparam("client_id"), _E.overage_minutes > 0, _E.voided_at.is_(None))
    .order_by(_E.id)
)


def overage_entries(session: Session | Runner, client_id: int) -> list[EntryRow]:
    """The client's live entries with open overage, oldest first (the next block pays them off in order)."""
    run = session if isinstance(session, Runner) else Runner.of(session)
    return [EntryRow(*row) for row in run.rows(_OVERAGE_ENTRIES, {"client_id": client_id})]


@dataclass(frozen=True)
class DrawRow:
    id: int
    entry_id: int
    block_id: int
    minutes: int


def live_draws(session: Session, *, entry_id: int | None = None, block_id: int | None = None) -> list[DrawRow]:
    """The draws not reversed of an entry (or of a block), in the order they were made."""
    query = select(Draw.id, Draw.entry_id, Draw.block_id, Draw.minutes).where(Draw.reversed_at.is_(None))
    if entry_id is not None:
        query = query.where(Draw.entry_id == entry_id)
    if block_id is not None:
        query = query.where(Draw.block_id == block_id)
    return [DrawRow(*row) for row in session.execute(query.order_by(Draw.id))]


def entries_of_draws(session: Session, entry_ids: Sequence[int]) -> dict[int, EntryRow]:
    return {row[0]: EntryRow(*row) for row in session.execute(select(*_ENTRY_COLUMNS).where(Entry.id.in_(entry_ids)))}
