"""Shared fixtures. ``database`` runs a test once on SQLite (a fresh file) and once on PostgreSQL
(when ``TEST_DATABASE_URL`` is set): a schema of its own per test session, emptied between tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bot.clock import FixedClock
from bot.config import Settings
from bot.services import Actor, Context
from storage.db import Database
from storage.models import Base
from tests.fakes.connectwise import FakeConnectWise
from tests.fakes.psa_base import FAKES, started
from tests.fakes.slack_api import FakeSlack
from tests.fakes.stripe_api import FakeStripe

BROWSER_RING = "tests/browser/"


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: unknown (and unused) under -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` (``make test``): every test of the browser ring to one worker, as one unit
    (one Chromium, one server a module), the others one by one to whichever worker is free. pytest 9.2
    no longer lets xdist 3.8 add the ``xdist_group`` name to a test's id, which is how loadgroup finds
    the groups, so the ring is told by its path here."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class RingTogether(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "browser" if nodeid.startswith(BROWSER_RING) else super()._split_scope(nodeid)

    return RingTogether(config, log)


PG_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday


def pg_schema_url(schema: str) -> str:
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[Database]:
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    schema = f"bt_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(pg_schema_url(schema), pool_size=40)
    db.migrate()
    yield db
    db.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "blocktime.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    db.dispose()
    return path


def _empty_pg(db: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        path = tmp_path / "blocktime.db"
        path.write_bytes(sqlite_template.read_bytes())
        db = Database(f"sqlite:///{path}")
        db.migrate()
        yield db
        db.dispose()
    else:
        db = request.getfixturevalue("pg_database")
        _empty_pg(db)
        yield db


class FreshDatabases:
    """New empty databases on demand, one per example of a property test: a copy of the migrated
    SQLite template, or the session's PostgreSQL schema emptied (identities restarted, so ids line up
    between runs)."""

    def __init__(self, backend: str, request: pytest.FixtureRequest, template: Path, folders: Any) -> None:
        self.backend, self.request, self.template, self.folders = backend, request, template, folders

    @contextmanager
    def open(self) -> Iterator[Database]:
        if self.backend == "postgres":
            db = self.request.getfixturevalue("pg_database")
            _empty_pg(db)
            yield db
            return
        path = self.folders.mktemp("fresh") / "ledger.db"
        path.write_bytes(self.template.read_bytes())
        db = Database(f"sqlite:///{path}")
        try:
            yield db
        finally:
            db.dispose()


@pytest.fixture(params=BACKENDS)
def fresh_databases(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> FreshDatabases:
    return FreshDatabases(request.param, request, sqlite_template, tmp_path_factory)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings() -> Settings:
    return Settings(admins=frozenset({"UADMIN"}))


@pytest.fixture
def ctx(database: Database, settings: Settings, clock: FixedClock) -> Context:
    return Context(database, settings, clock)


@pytest.fixture
def admin() -> Actor:
    return Actor.local_admin()


@pytest.fixture
def tech() -> Actor:
    return Actor("UTECH", "Tess Tech")


@pytest.fixture(scope="session")
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[FakeStripe]:
    fake = FakeStripe().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_stripe(stripe_server: FakeStripe, clock: FixedClock) -> FakeStripe:
    """The session's fake Stripe, emptied, dating its objects and signatures by the test's clock."""
    stripe_server.reset()
    stripe_server.clock = clock.now
    return stripe_server


PSA_VENDORS = tuple(FAKES)


@pytest.fixture(scope="session")
def psa_servers() -> Iterator[dict[str, Any]]:
    """One local fake of each PSA's API for the whole session, started when first asked for."""
    started: dict[str, Any] = {}
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture
def connectwise(psa_servers: dict[str, Any]) -> FakeConnectWise:
    """The fake ConnectWise PSA with one MSP's records (``FakeConnectWise.seed``)."""
    fake: FakeConnectWise = started(psa_servers, "connectwise").seed()
    return fake


@pytest.fixture(params=PSA_VENDORS)
def psa_fake(request: pytest.FixtureRequest, psa_servers: dict[str, Any]) -> Any:
    """Each PSA's fake in turn, with the same MSP's records under the same ids: Acme Corp (company
    250, agreement 30 with 20 prepaid hours, tickets 1234 and 5000), Globex (300, agreement 40, tickets
    4321 and 6000), Acme Logistics (251); technicians 17 (tess@msp.example) and 18 (max@msp.example);
    work type 5."""
    return started(psa_servers, request.param).seed()


def psa_settings(fake: Any, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "admins": frozenset({"UADMIN"}),
        **fake.settings_values(),
        "psa_timeout_seconds": 2.0,
    }
    return Settings(**{**values, **changes})
