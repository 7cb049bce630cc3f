"""A unit of work on a bare driver connection, for the everyday ``/logtime``: the same repositories a
``UnitOfWork`` has, as far as logging an entry needs them, without the ORM session.

Why: an entry logged through a session cost ~1 ms of CPU here, and ~0.3 ms this way (cProfile, this
machine; ``bench/RESULTS.md`` has the throughput). It decides nothing: the use case is the same code
(``bot.services.hours.log_time``), the ledger aggregate decides, and the one writer
(``storage.postings.store``) stores the posting. What this unit of work cannot serve (an alias, a work
type's rate, an alert's facts, an existing outbox row, anything through the ORM session) raises
``NotHere`` before anything is committed; the caller rolls back and runs the use case again on a full
unit of work. A driver error before the commit is ``NotHere`` too (the full unit of work reports it),
and one in the commit is ``DatabaseUnavailable``: its outcome is unknown, so it is never retried."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, Table, bindparam, insert, select
from sqlalchemy.exc import DBAPIError

from storage.driver import Runner, driver_for
from storage.errors import DatabaseUnavailable, NotHere
from storage.models import Client, OutboxMessage, UserRole
from storage.postings import Ledger


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


_CLIENTS, _OUTBOX, _ROLES = _table(Client), _table(OutboxMessage), _table(UserRole)


class ClientRow:
    """A client's row, read on the driver: every column as an attribute (as the ORM's ``Client``)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:  # a relationship or anything else the ORM would load
        raise NotHere(f"a client's {name} is read through the ORM")


def _client_query(key: str, lock: bool) -> Any:
    query = select(_CLIENTS).where(_CLIENTS.c[key] == bindparam("value"))
    return query.with_for_update() if lock else query


_BY_HANDLE, _BY_HANDLE_LOCKED, _BY_ID, _BY_ID_LOCKED = (
    _client_query("handle", False),
    _client_query("handle", True),
    _client_query("id", False),
    _client_query("id", True),
)
_ROLE = select(_ROLES.c.role).where(_ROLES.c.user_id == bindparam("user_id"))
_OUTBOX_ROW = select(_OUTBOX.c.id).where(
    _OUTBOX.c.destination == bindparam("destination"), _OUTBOX.c.entry_id == bindparam("entry_id")
)
_NAMES = tuple(c.name for c in _CLIENTS.columns)


class _Clients:
    def __init__(self, run: Runner) -> None:
        self._run = run

    def _one(self, query: Any, value: Any) -> ClientRow | None:
        row = self._run.first(query, {"value": value})
        return None if row is None else ClientRow(dict(zip(_NAMES, row, strict=True)))

    def get(self, handle: str, lock: bool = False) -> ClientRow | None:
        return self._one(_BY_HANDLE_LOCKED if lock else _BY_HANDLE, handle)

    def by_id(self, client_id: int) -> ClientRow | None:
        return self._one(_BY_ID, client_id)

    def locked(self, client_id: int) -> ClientRow | None:
        return self._one(_BY_ID_LOCKED, client_id)

    def __getattr__(self, name: str) -> Any:
        raise NotHere(f"clients.{name}")


class _Roles:
    def __init__(self, run: Runner) -> None:
        self._run = run

    def stored(self, user_id: str) -> str | None:
        row = self._run.first(_ROLE, {"user_id": user_id})
        return None if row is None else str(row[0])

    def __getattr__(self, name: str) -> Any:
        raise NotHere(f"roles.{name}")


class _Outbox:
    def __init__(self, run: Runner) -> None:
        self._run = run

    def requeue(self, row: dict[str, object], entry_id: int) -> None:
        """A new chain's row; an existing one (pending again, a newer version) is the ORM's to change."""
        if self._run.first(_OUTBOX_ROW, {"destination": row["destination"], "entry_id": entry_id}) is not None:
            raise NotHere("an outbox row queued again")
        values = {**row, "entry_id": entry_id}
        self._run.run(_adding(frozenset(values)), values)

    def __getattr__(self, name: str) -> Any:
        raise NotHere(f"outbox.{name}")


_ADDING: dict[frozenset[str], Any] = {}


def _adding(columns: frozenset[str]) -> Any:
    if columns not in _ADDING:
        _ADDING[columns] = insert(_OUTBOX).values({c: bindparam(c) for c in sorted(columns)})
    return _ADDING[columns]


class BareUnitOfWork:
    """``with db.bare_unit_of_work() as uow: ...; uow.commit()`` (see the module's docstring)."""

    def __init__(self, engine: Engine, write_lock: threading.RLock | None) -> None:
        self._engine = engine
        self._write_lock = write_lock
        self._after_commit: list[Callable[[], None]] = []
        self._connection: Any = None
        self.committed = False

    def after_commit(self, hook: Callable[[], None]) -> None:
        if hook not in self._after_commit:
            self._after_commit.append(hook)

    @property
    def session(self) -> Any:
        raise NotHere("the ORM session")

    def __getattr__(self, name: str) -> Any:  # a repository this unit of work does not have
        raise NotHere(f"the {name} repository")

    @contextmanager
    def opened(self) -> Iterator[BareUnitOfWork]:
        """The transaction. A driver error before the commit (a new connection refused, the write
        lock not taken, a statement failing) is ``NotHere``: nothing was written, and the full unit of
        work runs the use case and reports it. Once committed, nothing is turned into ``NotHere``: a
        second run would write the change twice."""
        driver_error = (DBAPIError, self._engine.dialect.loaded_dbapi.Error)  # a new connection's comes unwrapped
        if self._write_lock is not None:
            self._write_lock.acquire()
        try:
            try:
                self._connection = self._engine.raw_connection()
            except driver_error as error:
                raise NotHere(str(error)) from error
            try:
                run = Runner(driver_for(self._engine.dialect), self._connection, self._on_error)
                self.run = run
                self.clients = _Clients(run)
                self.roles = _Roles(run)
                self.outbox = _Outbox(run)
                self.ledger = Ledger(run)
                if self._engine.dialect.name == "sqlite":
                    run.cursor.execute("BEGIN IMMEDIATE")
                yield self
            except driver_error as error:
                if self.committed:
                    raise
                raise NotHere(str(error)) from error
            finally:
                if not self.committed:
                    self._rollback()
                self._connection.close()  # back to the pool
        finally:
            if self._write_lock is not None:
                self._write_lock.release()

    def _on_error(self, error: Exception) -> None:
        connection = self._connection
        if self._engine.dialect.is_disconnect(error, connection.dbapi_connection, None):  # type: ignore[arg-type]
            connection.invalidate(error)

    def _rollback(self) -> None:
        connection = self._connection
        if not connection.is_valid:  # invalidated after a disconnect: nothing to roll back
            return
        try:
            connection.rollback()
        except self._engine.dialect.loaded_dbapi.Error as error:
            connection.invalidate(error)

    def commit(self) -> None:
        try:
            self._connection.commit()
        except self._engine.dialect.loaded_dbapi.Error as error:  # the outcome on the server is unknown
            self._on_error(error)
            raise DatabaseUnavailable(f"COMMIT failed: {str(error).splitlines()[0][:200]}") from error
        self.committed = True  # from here on, no error may send the change to the full unit of work
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            hook()
