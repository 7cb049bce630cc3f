"""SQLAlchemy Core statements run on the driver's cursor: compiled once per dialect, values converted
with the same type processors the models use, errors raised as SQLAlchemy's.

Why: cProfile on this machine put the cost of executing a cached Core statement through a
``Connection`` at ~0.1 ms, against ~0.02 ms on the driver; a ``/logtime`` runs about eight. The SQL is
still written once, as Core, and the driver only runs what SQLAlchemy compiled. Statements must not use
expanding (``IN``-list) parameters.

A ``Runner`` works on any DBAPI connection: the one under a session's transaction
(``Runner.of(session)``), or a bare one from the pool (``storage.postings.LedgerTransaction``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None


class Prepared:
    """One statement compiled for one dialect."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.compiled = compiled
        self.sql = str(compiled)
        self.positional: tuple[str, ...] | None = tuple(compiled.positiontup) if compiled.positiontup else None
        # An INSERT binds the table's columns with a Python-side scalar default too (SQLAlchemy fills
        # them in as it executes, which the driver does not): their defaults are the binds' own.
        table = getattr(statement, "table", None)
        defaults = {
            c.key: c.default.arg
            for c in (table.columns if getattr(statement, "is_insert", False) and table is not None else ())
            if c.default is not None and c.default.is_scalar
        }
        self.binds: dict[str, tuple[Any, Processor]] = {
            name: (defaults.get(name, bind.value), bind.type.dialect_impl(dialect).bind_processor(dialect))
            for name, bind in compiled.binds.items()
        }
        assert not any(b.expanding or b.callable for b in compiled.binds.values()), "no expanding or callable binds"
        columns = getattr(statement, "selected_columns", None)
        returning = getattr(statement, "_returning", None) or ()
        self.out: list[Processor] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in (list(columns) if columns is not None else list(returning))
        ]

    def params(self, values: Mapping[str, Any]) -> Any:
        """The driver's parameters for ``values``: each bind's value (a literal's own when not given),
        converted by its type's processor, by name or in order as the driver's style wants."""
        bound = {}
        for name, (default, process) in self.binds.items():
            value = values[name] if name in values else default
            bound[name] = value if value is None or process is None else process(value)
        if self.positional is not None:
            return tuple(bound[name] for name in self.positional)
        return bound

    def row(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None or value is None else process(value)
            for value, process in zip(row, self.out, strict=True)
        )


class Driver:
    """The prepared statements of one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._prepared: dict[int, tuple[ClauseElement, Prepared]] = {}
        self.error: type[Exception] = dialect.loaded_dbapi.Error

    def prepared(self, statement: ClauseElement) -> Prepared:
        found = self._prepared.get(id(statement))
        if found is None or found[0] is not statement:
            found = (statement, Prepared(statement, self.dialect))
            self._prepared[id(statement)] = found
        return found[1]


_DRIVERS: dict[str, Driver] = {}


def driver_for(dialect: Dialect) -> Driver:
    key = f"{dialect.name}+{dialect.driver}"
    if key not in _DRIVERS:
        _DRIVERS[key] = Driver(dialect)
    return _DRIVERS[key]


class Runner:
    """Runs prepared statements on one DBAPI connection, in whatever transaction it is in.
    ``on_error`` is told of a driver error before it is raised (to invalidate a lost connection)."""

    def __init__(self, driver: Driver, connection: Any, on_error: Callable[[Exception], None] = lambda e: None) -> None:
        self.driver = driver
        self.connection = connection
        self.cursor = connection.cursor()
        self.on_error = on_error

    @classmethod
    def of(cls, session: Session) -> Runner:
        """The DBAPI connection under ``session``'s transaction (begun if it was not)."""
        connection = session.connection()
        runner: Runner | None = session.info.get("runner")
        if runner is None or runner.connection is not connection.connection:

            def invalidate(error: Exception) -> None:
                if connection.dialect.is_disconnect(error, connection.connection.dbapi_connection, None):  # type: ignore[arg-type]
                    connection.invalidate(error)

            runner = cls(driver_for(connection.dialect), connection.connection, invalidate)
            session.info["runner"] = runner
        return runner

    def _execute(self, prepared: Prepared, params: Any, many: bool = False) -> None:
        try:
            if many:
                self.cursor.executemany(prepared.sql, params)
            else:
                self.cursor.execute(prepared.sql, params)
        except self.driver.error as error:
            self.on_error(error)
            raise DBAPIError.instance(
                prepared.sql, params, error, self.driver.error, dialect=self.driver.dialect
            ) from error

    def run(self, statement: ClauseElement, values: Mapping[str, Any] | None = None) -> None:
        prepared = self.driver.prepared(statement)
        self._execute(prepared, prepared.params(values or {}))

    def many(self, statement: ClauseElement, rows: Sequence[Mapping[str, Any]]) -> None:
        prepared = self.driver.prepared(statement)
        self._execute(prepared, [prepared.params(r) for r in rows], many=True)

    def rows(self, statement: ClauseElement, values: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        prepared = self.driver.prepared(statement)
        self._execute(prepared, prepared.params(values or {}))
        return [prepared.row(r) for r in self.cursor.fetchall()]

    def first(self, statement: ClauseElement, values: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        prepared = self.driver.prepared(statement)
        self._execute(prepared, prepared.params(values or {}))
        row = self.cursor.fetchone()
        if row is not None:
            self.cursor.fetchall()  # nothing else is expected; leave the cursor clean
        return None if row is None else prepared.row(row)
