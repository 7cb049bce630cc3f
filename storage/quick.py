"""The plain ``/logtime`` entry's SQL on a bare DBAPI connection from the engine's pool.

A plain entry (``bot.services.quicklog``) reads the client's row (taking its lock) and open blocks,
then writes the entry, its draws, the blocks' and client's running figures and the ledger line. Through
the ORM session, or even SQLAlchemy Core, the bookkeeping around those statements cost more CPU than
the database work (cProfile, SQLite, this bench machine: ~0.45 ms to open and commit a session and
~0.1 ms per Core statement, against ~0.02 ms per statement on the driver). So this path talks to the
driver directly, with its SQL written once here, and converts values with the same SQLAlchemy type
processors the models use, so it stores what the ORM would store (``tests/integration/
test_quicklog.py`` compares the stored values as the driver returns them).

- SQLite: ``BEGIN IMMEDIATE`` under the process's write lock, as every other write; one statement per
  write (no round trips to save).
- PostgreSQL: ``SELECT ... FOR UPDATE`` on the client's row, then the blocks in a statement of their
  own, then the five writes in one statement (data-modifying CTEs). Pipelining these (psycopg's pipeline
  mode) was tried: it saved round trips but cost more CPU than it saved.

Errors: a driver error before the commit rolls back and raises ``QuickFailed``: nothing was written,
and the caller carries on the ORM path, which reports or handles it (a repeated idempotency key, the
database being down). An error in the commit itself is raised as ``DatabaseUnavailable``: its outcome
on the server is unknown, so it is never retried here."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Engine, Table
from sqlalchemy.exc import DBAPIError

from storage.errors import DatabaseUnavailable
from storage.models import Block, Client, Draw, Entry, LedgerLine, OutboxMessage
from storage.outbox import NEW_ROW_FIELDS

Processor = Callable[[Any], Any] | None


class QuickFailed(Exception):
    """The driver failed before the commit; the transaction was rolled back and nothing is written."""


@dataclass(frozen=True)
class ClientRow:
    id: int
    handle: str
    display_name: str
    timezone: str
    archived: bool
    rounding_minutes: int
    minimum_minutes: int
    overdraft_minutes: int
    thresholds: str | None
    expiry_grace_days: int | None
    open_overage_minutes: int
    alerts_snoozed_until: datetime | None
    records_from: date | None


@dataclass(frozen=True)
class OpenBlock:
    """An open block as read here (``HeldBlock`` for the ledger rules)."""

    id: int
    minutes: int
    remaining_minutes: int
    start_on: date
    expires_on: date | None
    voided_at: datetime | None = None  # only blocks that are not voided are read


@dataclass(frozen=True)
class DrawRow:
    block_id: int
    minutes: int


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


_CLIENTS, _BLOCKS, _ENTRIES, _DRAWS, _LINES, _OUTBOX = (
    _table(m) for m in (Client, Block, Entry, Draw, LedgerLine, OutboxMessage)
)
_CLIENT_FIELDS = tuple(ClientRow.__dataclass_fields__)
_BLOCK_FIELDS = ("id", "minutes", "remaining_minutes", "start_on", "expires_on")
# What a new entry is given (every column but the id and the void's, which start NULL): the writer's
# values must name each, so a column added to the model cannot be forgotten here.
ENTRY_FIELDS = tuple(c.name for c in _ENTRIES.columns if c.name not in ("id", "voided_at", "voided_by", "void_reason"))
LINE_FIELDS = ("client_id", "at", "recorded_on", "kind", "minutes", "balance_after", "block_id", "actor", "note")


def _select_client(key: str, lock: str) -> str:
    return f"SELECT {', '.join(_CLIENT_FIELDS)} FROM clients WHERE {key} = :value{lock}"


_OPEN_BLOCKS = (
    f"SELECT {', '.join(_BLOCK_FIELDS)} FROM blocks"
    " WHERE client_id = :client_id AND voided_at IS NULL AND (remaining_minutes > 0"
    # used-up blocks that may still be current (the denominator of "% left"): repositories.open_blocks
    " OR expires_on >= :since OR (expires_on IS NULL AND start_on >= (SELECT MIN(h.start_on) FROM blocks h"
    " WHERE h.client_id = :client_id AND h.voided_at IS NULL AND h.remaining_minutes > 0)))"
)


def _insert(table: str, fields: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({', '.join(':' + f for f in fields)})"


_ADD_ENTRY = _insert("entries", ENTRY_FIELDS)
_ADD_DRAW = _insert("draws", ("entry_id", "block_id", "minutes", "created_at"))
_DRAW_BLOCK = "UPDATE blocks SET remaining_minutes = remaining_minutes - :minutes WHERE id = :block_id"
_USE_CLIENT = (
    "UPDATE clients SET used_minutes = used_minutes + :billable, last_entry_id = :entry_id WHERE id = :client_id"
)
_ADD_LINE = _insert("ledger_lines", (*LINE_FIELDS, "entry_id"))
# A new chain's PSA sync (``bot.services.psa.sync_row``), when a PSA is connected.
_ADD_SYNC = _insert("outbox", (*NEW_ROW_FIELDS, "entry_id"))
# PostgreSQL: the same five writes as one statement, one round trip.
_AT_ONCE = f"""
WITH e AS (
    {_ADD_ENTRY} RETURNING id
), taken AS (
    SELECT unnest(CAST(:block_ids AS bigint[])) AS block_id, unnest(CAST(:taken AS integer[])) AS minutes
), new_draws AS (
    INSERT INTO draws (entry_id, block_id, minutes, created_at)
    SELECT e.id, taken.block_id, taken.minutes, :created_at FROM e, taken
), drawn_blocks AS (
    UPDATE blocks SET remaining_minutes = blocks.remaining_minutes - taken.minutes
    FROM taken WHERE blocks.id = taken.block_id
), used AS (
    UPDATE clients SET used_minutes = clients.used_minutes + :billable_minutes, last_entry_id = e.id
    FROM e WHERE clients.id = :client_id
), new_line AS (
    INSERT INTO ledger_lines ({", ".join(LINE_FIELDS)}, entry_id)
    SELECT {", ".join(":line_" + f for f in LINE_FIELDS)}, e.id FROM e
)
SELECT id FROM e
"""
_AT_ONCE_WITH_SYNC = _AT_ONCE.replace(
    "\nSELECT id FROM e",
    f"""
, new_sync AS (
    INSERT INTO outbox ({", ".join(NEW_ROW_FIELDS)}, entry_id)
    SELECT {", ".join(":sync_" + f for f in NEW_ROW_FIELDS)}, e.id FROM e
)
SELECT id FROM e""",
)


class QuickStore:
    """The plain entry's statements for one engine, with its dialect's value conversions."""

    def __init__(self, engine: Engine, write_lock: threading.RLock | None) -> None:
        self.engine = engine
        self.write_lock = write_lock
        dialect = engine.dialect
        self.postgres = dialect.name == "postgresql"
        self._dbapi_error: type[Exception] = dialect.loaded_dbapi.Error

        def bind(column: Column[Any]) -> Processor:
            return column.type.dialect_impl(dialect).bind_processor(dialect)

        def result(column: Column[Any]) -> Processor:
            return column.type.dialect_impl(dialect).result_processor(dialect, None)

        self._client_out = [result(_CLIENTS.c[f]) for f in _CLIENT_FIELDS]
        self._block_out = [result(_BLOCKS.c[f]) for f in _BLOCK_FIELDS]
        self._entry_in = {f: bind(_ENTRIES.c[f]) for f in ENTRY_FIELDS}
        self._line_in = {f: bind(_LINES.c[f]) for f in LINE_FIELDS}
        self._sync_in = {f: bind(_OUTBOX.c[f]) for f in NEW_ROW_FIELDS}
        self._moment_in = bind(_DRAWS.c.created_at)
        self._day_in = bind(_BLOCKS.c.expires_on)
        lock = " FOR UPDATE" if self.postgres else ""
        self._sql = {
            name: self._paramstyle(sql)
            for name, sql in {
                "by_handle": _select_client("handle", lock),
                "by_id": _select_client("id", lock),
                "open_blocks": _OPEN_BLOCKS,
                "add_entry": _ADD_ENTRY,
                "add_draw": _ADD_DRAW,
                "draw_block": _DRAW_BLOCK,
                "use_client": _USE_CLIENT,
                "add_line": _ADD_LINE,
                "add_sync": _ADD_SYNC,
                "at_once": _AT_ONCE,
                "at_once_with_sync": _AT_ONCE_WITH_SYNC,
            }.items()
        }

    def _paramstyle(self, sql: str) -> str:
        """``:name`` (sqlite3's named style) or ``%(name)s`` (psycopg's)."""
        if not self.postgres:
            return sql
        return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql)

    @contextmanager
    def transaction(self) -> Iterator[QuickTransaction]:
        """A write transaction; it commits only in ``QuickTransaction.write_and_commit``."""
        if self.write_lock is not None:
            self.write_lock.acquire()
        try:
            connection = self._checkout()
            try:
                cursor = connection.cursor()
                if not self.postgres:
                    self._run(connection, cursor.execute, "BEGIN IMMEDIATE")
                quick = QuickTransaction(self, connection, cursor)
                try:
                    yield quick
                finally:
                    if not quick.committed:
                        self._rollback(connection)
                    cursor.close()
            finally:
                connection.close()  # back to the pool
        finally:
            if self.write_lock is not None:
                self.write_lock.release()

    def _checkout(self) -> Any:
        try:
            return self.engine.raw_connection()
        except (DBAPIError, self._dbapi_error) as error:  # a new connection's failure comes unwrapped
            raise QuickFailed(str(error)) from error

    def _run(self, connection: Any, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return call(*args)
        except self._dbapi_error as error:
            if self.disconnected(error, connection):
                connection.invalidate(error)
            raise QuickFailed(str(error)) from error

    def disconnected(self, error: Any, connection: Any) -> bool:
        return bool(self.engine.dialect.is_disconnect(error, connection.dbapi_connection, None))

    def _rollback(self, connection: Any) -> None:
        if not connection.is_valid:  # invalidated after a disconnect: nothing to roll back
            return
        try:
            connection.rollback()
        except self._dbapi_error as error:
            connection.invalidate(error)


class QuickTransaction:
    def __init__(self, store: QuickStore, connection: Any, cursor: Any) -> None:
        self.store, self.connection, self.cursor = store, connection, cursor
        self.committed = False

    def _execute(self, name: str, params: dict[str, Any]) -> Any:
        return self.store._run(self.connection, self.cursor.execute, self.store._sql[name], params)

    def read(
        self, handle: str | None, client_id: int | None, used_up_since: date
    ) -> tuple[ClientRow | None, list[OpenBlock]]:
        """The client (by handle, else by id), its row locked for this transaction (SQLite: the whole
        database already is), and its open blocks (and the used-up ones that may still be current on
        ``used_up_since``, as ``repositories.open_blocks``), read by a statement that starts after the
        lock is ours (on PostgreSQL, one that waited for the lock would see the blocks as of its start)."""
        if handle is None and client_id is None:
            return None, []
        key, value = ("by_handle", handle) if handle is not None else ("by_id", client_id)
        self._execute(key, {"value": value})
        row = self.cursor.fetchone()
        if row is None:
            return None, []
        client = ClientRow(*_convert(row, self.store._client_out))
        self._execute("open_blocks", {"client_id": client.id, "since": _bound(used_up_since, self.store._day_in)})
        return client, [OpenBlock(*_convert(r, self.store._block_out)) for r in self.cursor.fetchall()]

    def write_and_commit(
        self, entry: dict[str, Any], draws: Sequence[DrawRow], line: dict[str, Any], sync: dict[str, Any] | None = None
    ) -> int:
        """The entry (a repeated idempotency key fails here, on the unique index, and raises
        ``QuickFailed``), its draws, the running figures, the ledger line and, with ``sync``, its
        PSA sync's outbox row; then the commit. Returns the entry's id."""
        store = self.store
        values = {f: _bound(entry[f], store._entry_in[f]) for f in ENTRY_FIELDS}
        line_values = {f: _bound(line[f], store._line_in[f]) for f in LINE_FIELDS}
        sync_values = {f: _bound(sync[f], store._sync_in[f]) for f in NEW_ROW_FIELDS} if sync else None
        if store.postgres:  # one round trip: the writes in one statement
            params = {
                **values,
                "block_ids": [d.block_id for d in draws],
                "taken": [d.minutes for d in draws],
                **{f"line_{f}": v for f, v in line_values.items()},
                **{f"sync_{f}": v for f, v in (sync_values or {}).items()},
            }
            self._execute("at_once_with_sync" if sync_values else "at_once", params)
            entry_id: int = self.cursor.fetchone()[0]
            self._commit()
            return entry_id
        self._execute("add_entry", values)
        entry_id = self.cursor.lastrowid
        moment = _bound(entry["created_at"], store._moment_in)
        for draw in draws:
            self._execute(
                "add_draw",
                {"entry_id": entry_id, "block_id": draw.block_id, "minutes": draw.minutes, "created_at": moment},
            )
            self._execute("draw_block", {"block_id": draw.block_id, "minutes": draw.minutes})
        self._execute(
            "use_client", {"client_id": entry["client_id"], "billable": entry["billable_minutes"], "entry_id": entry_id}
        )
        self._execute("add_line", {**line_values, "entry_id": entry_id})
        if sync_values:
            self._execute("add_sync", {**sync_values, "entry_id": entry_id})
        self._commit()
        return entry_id

    def _commit(self) -> None:
        try:
            self.connection.commit()
        except self.store._dbapi_error as error:  # its outcome on the server is unknown: no retry here
            disconnected = self.store.disconnected(error, self.connection)
            if disconnected:
                self.connection.invalidate(error)
            raise DatabaseUnavailable(f"COMMIT failed: {str(error).splitlines()[0][:200]}") from error
        self.committed = True


def _convert(row: Sequence[Any], processors: list[Processor]) -> list[Any]:
    return [
        value if process is None or value is None else process(value)
        for value, process in zip(row, processors, strict=True)
    ]


def _bound(value: Any, process: Processor) -> Any:
    return value if process is None or value is None else process(value)
