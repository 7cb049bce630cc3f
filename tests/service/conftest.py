"""The service ring: use cases run against the in-memory unit of work (``tests.fakes.memory``), no
database, so their decisions (refusals, roles, idempotency, alerts, outbox and PSA rows) are checked
in milliseconds, the ledger's among them (its postings stored by the fake ``Ledger``). What SQL itself
decides (statements' queries, locks, races, the bare unit of work) is the integration ring's."""

from __future__ import annotations

from typing import Any

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.services import Actor, Context
from tests.conftest import NOW
from tests.fakes.memory import MemoryDatabase, Row


@pytest.fixture
def memory() -> MemoryDatabase:
    return MemoryDatabase()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def ctx(memory: MemoryDatabase, clock: FixedClock) -> Context:
    return Context(memory, Settings(admins=frozenset({"UADMIN"})), clock)  # type: ignore[arg-type]


@pytest.fixture
def admin() -> Actor:
    return Actor.local_admin()


@pytest.fixture
def tech() -> Actor:
    return Actor("UTECH", "Tess Tech")


def add_client(ctx: Context, handle: str = "acme", name: str = "Acme Corp", **columns: Any) -> Row:
    """A client as ``client add`` stores it (with ``columns`` changed)."""
    with ctx.db.unit_of_work() as uow:
        client = uow.clients.add(
            **{
                "handle": handle,
                "display_name": name,
                "timezone": ctx.settings.timezone,
                "archived": False,
                "rounding_minutes": ctx.settings.rounding_minutes,
                "minimum_minutes": ctx.settings.minimum_minutes,
                "overdraft_minutes": ctx.settings.overdraft_minutes,
                "overage_policy": ctx.settings.overage_policy,
                "created_at": ctx.now(),
                **columns,
            }
        )
        uow.commit()
    return client  # type: ignore[no-any-return]


def add_entry(ctx: Context, client_id: int, **columns: Any) -> Row:
    """An entry as the ledger stores it (60 minutes by Tess today, unless ``columns`` say otherwise)."""
    values: dict[str, Any] = {
        "client_id": client_id,
        "user_id": "UTECH",
        "user_name": "Tess Tech",
        "typed": "1h",
        "minutes": 60,
        "billable_minutes": 60,
        "work_date": ctx.today(),
        "created_at": ctx.now(),
        **columns,
    }
    with ctx.db.unit_of_work() as uow:
        entry = uow.entries.add(**values)
        uow.commit()
    return entry  # type: ignore[no-any-return]
