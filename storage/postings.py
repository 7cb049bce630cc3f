"""The one writer of changes of hours: stores a posting (``bot.domain.client_ledger.Posting``) in the
caller's transaction, with SQLAlchemy Core statements built from it and no flush in the middle.

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
from typing import Any, Protocol

from sqlalchemy import Table, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

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
    """Store ``posting``; returns the ids the database gave its new rows (by provisional id)."""
    ids = Ids()
    for row in posting.new_blocks:
        ids[row["id"]] = _insert_one(session, _BLOCKS, {k: v for k, v in row.items() if k != "id"})
    for row in posting.new_entries:
        values = {k: v for k, v in row.items() if k != "id"}
        values["root_id"] = ids(values.get("root_id"))
        ids[row["id"]] = _insert_one(session, _ENTRIES, values)
    if posting.new_draws:
        session.execute(
            insert(_DRAWS),
            [{**d, "entry_id": ids(d["entry_id"]), "block_id": ids(d["block_id"])} for d in posting.new_draws],
        )
    if posting.reversed_draws:
        session.execute(
            update(_DRAWS).where(_DRAWS.c.id.in_(posting.reversed_draws)).values(reversed_at=posting.reversed_at)
        )
        for draw_id in posting.reversed_draws:
            _committed(session, Draw, draw_id, {"reversed_at": posting.reversed_at})
    for block_id, changes in posting.blocks.items():
        session.execute(update(_BLOCKS).where(_BLOCKS.c.id == block_id).values(**changes))
        _committed(session, Block, block_id, changes)
    for entry_id, changes in posting.entries.items():
        session.execute(update(_ENTRIES).where(_ENTRIES.c.id == entry_id).values(**changes))
        _committed(session, Entry, entry_id, changes, expire=("draws",))
    if posting.totals:
        totals = {k: ids(v) if k == "last_entry_id" else v for k, v in posting.totals.items()}
        session.execute(update(_CLIENTS).where(_CLIENTS.c.id == posting.client_id).values(**totals))
        _committed(session, Client, posting.client_id, totals)
    if posting.lines:
        rows = [
            {
                **{k: v for k, v in line.items() if k != "id"},
                "block_id": ids(line["block_id"]),
                "entry_id": ids(line["entry_id"]),
            }
            for line in posting.lines
        ]
        if len(rows) == 1:
            ids[posting.lines[0]["id"]] = _insert_one(session, _LINES, rows[0])
        else:
            stored = session.execute(insert(_LINES).returning(_LINES.c.id, sort_by_parameter_order=True), rows)
            for line, line_id in zip(posting.lines, stored.scalars(), strict=True):
                ids[line["id"]] = line_id
    return ids


def _insert_one(session: Session, table: Table, values: Mapping[str, Any]) -> int:
    return int(session.execute(insert(table).values(**values).returning(table.c.id)).scalar_one())


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


_BLOCK_COLUMNS = (
    Block.id,
    Block.number,
    Block.minutes,
    Block.remaining_minutes,
    Block.forfeited_minutes,
    Block.start_on,
    Block.expires_on,
    Block.reference,
)


def ledger_blocks(session: Session, client_id: int, used_up_since: date) -> list[BlockRow]:
    """The client's live blocks with minutes left, and the used-up ones that may still be current on
    ``used_up_since`` or later (as ``storage.repositories.open_blocks``), as plain rows."""
    holding = aliased(Block)
    run_start = (
        select(func.min(holding.start_on))
        .where(holding.client_id == client_id, holding.voided_at.is_(None), holding.remaining_minutes > 0)
        .scalar_subquery()
    )
    query = select(*_BLOCK_COLUMNS).where(
        Block.client_id == client_id,
        Block.voided_at.is_(None),
        or_(
            Block.remaining_minutes > 0,
            Block.expires_on >= used_up_since,
            and_(Block.expires_on.is_(None), Block.start_on >= run_start),
        ),
    )
    return [BlockRow(*row) for row in session.execute(query)]


def blocks_by_id(session: Session, block_ids: Sequence[int]) -> list[BlockRow]:
    return [BlockRow(*row) for row in session.execute(select(*_BLOCK_COLUMNS).where(Block.id.in_(block_ids)))]


@dataclass(frozen=True)
class EntryRow:
    id: int
    work_date: date
    billable_minutes: int
    overage_minutes: int
    billed_overage_minutes: int


_ENTRY_COLUMNS = (
    Entry.id,
    Entry.work_date,
    Entry.billable_minutes,
    Entry.overage_minutes,
    Entry.billed_overage_minutes,
)


def overage_entries(session: Session, client_id: int) -> list[EntryRow]:
    """The client's live entries with open overage, oldest first (the next block pays them off in order)."""
    query = (
        select(*_ENTRY_COLUMNS)
        .where(Entry.client_id == client_id, Entry.overage_minutes > 0, Entry.voided_at.is_(None))
        .order_by(Entry.id)
    )
    return [EntryRow(*row) for row in session.execute(query)]


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
