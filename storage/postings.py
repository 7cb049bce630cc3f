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

from sqlalchemy import Integer, Table, and_, bindparam, column, func, insert, or_, select, text, update
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


class Ledger:
    """The ledger's reads and its one writer, as a unit of work's repository (``uow.ledger``): on a
    session's transaction (its ORM objects of the changed rows are given the stored values), or on a
    bare connection (``storage.bare``)."""

    def __init__(self, where: Session | Runner) -> None:
        self._session = where if isinstance(where, Session) else None
        self._runner = where if isinstance(where, Runner) else None

    @property
    def run(self) -> Runner:
        if self._runner is not None:
            return self._runner
        assert self._session is not None
        return Runner.of(self._session)

    def blocks(self, client_id: int, used_up_since: date) -> list[BlockRow]:
        """The client's live blocks with minutes left, and the used-up ones that may still be current
        on ``used_up_since`` or later (as ``storage.repositories.open_blocks``)."""
        return [
            BlockRow(*row) for row in self.run.rows(_LEDGER_BLOCKS, {"client_id": client_id, "since": used_up_since})
        ]

    def blocks_by_id(self, block_ids: Sequence[int]) -> list[BlockRow]:
        found = (self.run.first(_BLOCK_BY_ID, {"block_id": block_id}) for block_id in block_ids)
        return [BlockRow(*row) for row in found if row is not None]

    def overage_entries(self, client_id: int) -> list[EntryRow]:
        """The client's live entries with open overage, oldest first (the next block pays them off in order)."""
        return [EntryRow(*row) for row in self.run.rows(_OVERAGE_ENTRIES, {"client_id": client_id})]

    def entries_by_id(self, entry_ids: Sequence[int]) -> dict[int, EntryRow]:
        found = (self.run.first(_ENTRY_BY_ID, {"entry_id": entry_id}) for entry_id in entry_ids)
        return {row[0]: EntryRow(*row) for row in found if row is not None}

    def live_draws(self, *, entry_id: int | None = None, block_id: int | None = None) -> list[DrawRow]:
        """The draws not reversed of an entry (or of a block), in the order they were made."""
        if entry_id is not None:
            return [DrawRow(*row) for row in self.run.rows(_ENTRY_DRAWS, {"entry_id": entry_id})]
        return [DrawRow(*row) for row in self.run.rows(_BLOCK_DRAWS, {"block_id": block_id})]

    def save(self, posting: PostingLike) -> Ids:
        """Store ``posting``; returns the ids the database gave its new rows (by provisional id)."""
        ids = store(self.run, posting)
        if self._session is not None:
            _sync_session(self._session, posting, ids)
        return ids


def _sync_session(session: Session, posting: PostingLike, ids: Ids) -> None:
    """The stored values on the session's ORM objects of the changed rows, where it holds them."""
    for draw_id in posting.reversed_draws:
        _committed(session, Draw, draw_id, {"reversed_at": posting.reversed_at})
    for block_id, changes in posting.blocks.items():
        _committed(session, Block, block_id, changes)
    for entry_id, changes in posting.entries.items():
        _committed(session, Entry, entry_id, changes, expire=("draws",))
    if posting.totals:
        totals = {k: ids(v) if k == "last_entry_id" else v for k, v in posting.totals.items()}
        _committed(session, Client, posting.client_id, totals)


def store(run: Runner, posting: PostingLike) -> Ids:
    """The one writer: ``posting``'s statements, in order, on ``run``'s connection."""
    if run.driver.dialect.name == "postgresql" and _one_entry(posting):
        return _store_entry_at_once(run, posting)
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


def _one_entry(posting: PostingLike) -> bool:
    """A new entry and what it moves (its draws, the blocks' minutes left, the client's figures, its
    ledger lines), nothing else: the everyday posting, which PostgreSQL stores in one statement."""
    if len(posting.new_entries) != 1 or posting.new_blocks or posting.reversed_draws or posting.entries:
        return False
    entry_id = posting.new_entries[0]["id"]
    return (
        all(set(changes) == {"remaining_minutes"} for changes in posting.blocks.values())
        and all(
            d["entry_id"] == entry_id and d["created_at"] == posting.new_draws[0]["created_at"]
            for d in posting.new_draws
        )
        and all(line["entry_id"] == entry_id and line["block_id"] is None for line in posting.lines)
        and len(posting.lines) == 1
    )


def _store_entry_at_once(run: Runner, posting: PostingLike) -> Ids:
    """``_one_entry``'s posting as one statement of data-modifying CTEs: one round trip. The same
    rows as the statements one by one (``tests/integration/test_bare_unit_of_work.py`` compares)."""
    entry = _without_id(posting.new_entries[0])
    line = {k: v for k, v in _without_id(posting.lines[0]).items() if k != "entry_id"}
    totals = {k: v for k, v in posting.totals.items() if k != "last_entry_id"}
    shape = (
        frozenset(entry),
        frozenset(line),
        frozenset(totals),
        "last_entry_id" in posting.totals,
        bool(posting.new_draws),
        bool(posting.blocks),
    )
    values: dict[str, Any] = {f"e_{k}": v for k, v in entry.items()}
    values |= {f"l_{k}": v for k, v in line.items()}
    values |= {f"c_{k}": v for k, v in totals.items()}
    values["client_id"] = posting.client_id
    if posting.new_draws:
        values["d_created_at"] = posting.new_draws[0]["created_at"]
        values["d_block_ids"] = [d["block_id"] for d in posting.new_draws]
        values["d_minutes"] = [d["minutes"] for d in posting.new_draws]
    if posting.blocks:
        values["b_ids"] = list(posting.blocks)
        values["b_remaining"] = [c["remaining_minutes"] for c in posting.blocks.values()]
    found = run.first(_at_once(*shape), values)
    assert found is not None
    return Ids({posting.new_entries[0]["id"]: found[0], posting.lines[0]["id"]: found[1]})


@lru_cache(maxsize=32)
def _at_once(
    entry: frozenset[str],
    line: frozenset[str],
    totals: frozenset[str],
    last_entry: bool,
    draws: bool,
    blocks: bool,
) -> Any:
    def columns(table: Table, names: frozenset[str], prefix: str) -> tuple[str, str, list[Any]]:
        ordered = sorted(names)
        binds = [bindparam(f"{prefix}{n}", type_=table.c[n].type) for n in ordered]
        return ", ".join(ordered), ", ".join(f":{prefix}{n}" for n in ordered), binds

    e_cols, e_vals, binds = columns(_ENTRIES, entry, "e_")
    l_cols, l_vals, line_binds = columns(_LINES, line, "l_")
    binds += line_binds
    parts = [f"e AS (INSERT INTO entries ({e_cols}) VALUES ({e_vals}) RETURNING id)"]
    if draws:
        parts.append(
            "d AS (INSERT INTO draws (entry_id, block_id, minutes, created_at)"
            " SELECT e.id, v.block_id, v.minutes, :d_created_at FROM e,"
            " unnest(CAST(:d_block_ids AS bigint[]), CAST(:d_minutes AS integer[])) AS v(block_id, minutes))"
        )
        binds.append(bindparam("d_created_at", type_=_DRAWS.c.created_at.type))
    if blocks:
        parts.append(
            "b AS (UPDATE blocks SET remaining_minutes = v.remaining"
            " FROM unnest(CAST(:b_ids AS bigint[]), CAST(:b_remaining AS integer[])) AS v(id, remaining)"
            " WHERE blocks.id = v.id)"
        )
    sets = [f"{n} = :c_{n}" for n in sorted(totals)]
    binds += [bindparam(f"c_{n}", type_=_CLIENTS.c[n].type) for n in sorted(totals)]
    if last_entry:
        sets.append("last_entry_id = (SELECT id FROM e)")
    if sets:
        parts.append(f"c AS (UPDATE clients SET {', '.join(sets)} WHERE id = :client_id)")
    parts.append(f"l AS (INSERT INTO ledger_lines ({l_cols}, entry_id) SELECT {l_vals}, e.id FROM e RETURNING id)")
    sql = "WITH " + ",\n".join(parts) + "\nSELECT (SELECT id FROM e), (SELECT id FROM l)"
    return text(sql).bindparams(*binds).columns(column("entry_id", Integer), column("line_id", Integer))


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
    paid: bool = True
    source: str = "topup"
    psa_id: str | None = None
    period_start: date | None = None
    rolled_in_minutes: int = 0
    rolled_out_minutes: int = 0


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
    _B.paid,
    _B.source,
    _B.psa_id,
    _B.period_start,
    _B.rolled_in_minutes,
    _B.rolled_out_minutes,
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
_BLOCK_BY_ID = select(*_BLOCK_COLUMNS).where(_B.id == bindparam("block_id"))


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


@dataclass(frozen=True)
class DrawRow:
    id: int
    entry_id: int
    block_id: int
    minutes: int


_D = _DRAWS.c
_ENTRY_BY_ID = select(*_ENTRY_COLUMNS).where(_E.id == bindparam("entry_id"))
_LIVE_DRAWS = select(_D.id, _D.entry_id, _D.block_id, _D.minutes).where(_D.reversed_at.is_(None)).order_by(_D.id)
_ENTRY_DRAWS = _LIVE_DRAWS.where(_D.entry_id == bindparam("entry_id"))
_BLOCK_DRAWS = _LIVE_DRAWS.where(_D.block_id == bindparam("block_id"))
