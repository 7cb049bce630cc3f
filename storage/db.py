"""Engines, the unit of work, and applying migrations.

SQLite: WAL mode, foreign keys on, and every write transaction starts with ``BEGIN IMMEDIATE`` so two
writers queue on the database lock instead of both reading the same balance. PostgreSQL: the services
lock the client's row (``SELECT ... FOR UPDATE``) at the start of every write."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage.bare import BareUnitOfWork
from storage.errors import DatabaseUnavailable, unavailable
from storage.postings import Ledger
from storage.psa_blocks import PsaBlocks
from storage.purchases import Purchases
from storage.repos import (
    Audit,
    Blocks,
    Channels,
    Clients,
    Entries,
    LedgerLines,
    Nudges,
    Outbox,
    People,
    PsaLinks,
    Roles,
    Timers,
    WorkTypes,
)
from storage.share_links import ShareLinks

__all__ = ["Database", "DatabaseUnavailable", "UnitOfWork", "unavailable"]

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^revision: str = '([0-9]+)'$", re.MULTILINE)
_READ_ONLY = "blocktime_read_only"
_MIGRATE_LOCK_ID = 7_240_311  # PostgreSQL advisory lock: one process migrates at a time


def make_engine(url: str, pool_size: int = 10) -> Engine:
    """An engine for ``url`` with the settings each database needs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _prepare_sqlite(engine)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_timeout=10)


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


log = logging.getLogger("blocktime.storage")


class Database:
    """An engine plus session factories for writes and reads."""

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size)
        self._writes = sessionmaker(self.engine, expire_on_commit=False)
        self._reads = sessionmaker(self.engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False)
        self._migrated = False
        self._migrate_lock = threading.Lock()
        # Told after a commit that wrote outbox rows (the scheduler kicks its dispatcher this way).
        self.outbox_subscribers: list[Callable[[], None]] = []
        # SQLite allows one writer at a time. Threads of this process queue on a lock instead of on
        # SQLite's busy handler, which sleeps in growing steps (up to 100 ms) and wrecks latency;
        # other processes still wait on the database lock (busy_timeout).
        self._write_lock: threading.RLock | None = threading.RLock() if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.engine)

    def unit_of_work(self, read_only: bool = False) -> UnitOfWork:
        lock = None if read_only else self._write_lock
        return UnitOfWork((self._reads if read_only else self._writes)(), lock)

    def bare_unit_of_work(self) -> AbstractContextManager[BareUnitOfWork]:
        """A write on a bare driver connection, for the everyday ``/logtime`` (``storage.bare``)."""
        return BareUnitOfWork(self.engine, self._write_lock).opened()

    def outbox_written(self) -> None:
        """A commit wrote outbox rows: tell the subscribers (a unit of work's post-commit hook)."""
        for subscriber in list(self.outbox_subscribers):
            subscriber()

    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent; safe from several processes)."""
        with self._migrate_lock:
            if not self._migrated:
                try:
                    if stored_revision(self.engine) != newest_revision():  # else Alembic has nothing to do
                        upgrade(self.engine)
                except Exception as error:
                    if unavailable(error):
                        raise DatabaseUnavailable(str(error).splitlines()[0][:200]) from error
                    raise
                self._migrated = True

    def reachable(self) -> bool:
        """Whether the database answers a ``SELECT 1`` now (the health check)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            log.warning("health check: database unavailable", exc_info=True)
            return False

    def safe_url(self) -> str:
        """The URL with its password hidden (for logs and output)."""
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    """One command's transaction: ``with uow: ...; uow.commit()``. Leaving the block without a commit
    rolls everything back, so an error half-way writes nothing. The use cases read and write through
    its repositories (``uow.clients.get(handle, lock=True)``, ``uow.outbox.requeue(...)``:
    ``storage.repos``); no service touches ``session`` (tests read rows back with it)."""

    def __init__(self, session: Session, write_lock: threading.RLock | None = None) -> None:
        self.session = session
        self._write_lock = write_lock
        self._after_commit: list[Callable[[], None]] = []
        self.clients = Clients(session)
        self.blocks = Blocks(session)
        self.entries = Entries(session)
        self.lines = LedgerLines(session)
        self.outbox = Outbox(session)
        self.audit = Audit(session)
        self.roles = Roles(session)
        self.people = People(session)
        self.channels = Channels(session)
        self.timers = Timers(session)
        self.worktypes = WorkTypes(session)
        self.nudges = Nudges(session)
        self.psa = PsaLinks(session)
        self.ledger = Ledger(session)
        self.psa_blocks = PsaBlocks(session)  # blocks' writes to the PSA (issue 26)
        self.shares = ShareLinks(session)  # clients' private page links (issue 27)
        self.purchases = Purchases(session)  # blocks bought on the page through Stripe (issue 27)

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once this unit of work has committed (never if it rolls back); once per hook."""
        if hook not in self._after_commit:
            self._after_commit.append(hook)

    def __enter__(self) -> UnitOfWork:
        if self._write_lock is not None:
            self._write_lock.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.session.rollback()
            self.session.close()
        except Exception as cleanup:
            if exc is None or not unavailable(cleanup):
                raise
        finally:
            if self._write_lock is not None:
                self._write_lock.release()
        if exc is not None and unavailable(exc) and not isinstance(exc, DatabaseUnavailable):
            raise DatabaseUnavailable(str(exc).splitlines()[0][:200]) from exc

    def commit(self) -> None:
        self.session.commit()  # a failure here leaves by __exit__, which names it
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            hook()

    def rollback(self) -> None:
        self.session.rollback()


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    with _migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


def newest_revision() -> str:
    """The head of our linear, zero-padded revisions (``0011``), read from the migration files
    without loading Alembic (it costs a third of a CLI command's start); a test checks it is
    Alembic's head."""
    found = (_REVISION.search(path.read_text(encoding="utf-8")) for path in (MIGRATIONS / "versions").glob("*.py"))
    return max(match.group(1) for match in found if match)


def stored_revision(engine: Engine) -> str | None:
    """The revision the database is at; None before the first migration."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if is_sqlite(engine):
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATE_LOCK_ID})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _MIGRATE_LOCK_ID})
            connection.commit()
