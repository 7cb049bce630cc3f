"""Ledger size: /balance, the App Home dashboard and the daily digest with 10 clients and 1,000
entries versus 1,000 clients and 1,000,000 entries (seeded in bulk, straight into the tables, with
running figures that agree with the rows)."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bot.clock import SystemClock
from bot.config import Settings
from bot.jobs.tasks import digest_facts
from bot.services import Actor, Context, run_text
from bot.services.queries import dashboard
from storage.db import Database
from storage.models import Block, Client, Draw, Entry, LedgerLine

BLOCK_MINUTES = 10**6


def seed(db: Database, clients: int, entries: int) -> None:
    """``entries`` spread over ``clients`` and over the last 400 days, each drawn from one big block."""
    now = datetime.now(UTC)
    today = now.date()
    per_client = entries // clients
    with db.engine.begin() as conn:
        conn.execute(
            insert(Client),
            [
                {
                    "id": c,
                    "handle": f"c{c:04d}",
                    "display_name": f"Client {c}",
                    "timezone": "UTC",
                    "archived": False,
                    "rounding_minutes": 0,
                    "minimum_minutes": 0,
                    "overdraft_minutes": 0,
                    "overage_policy": "carry",
                    "purchased_minutes": BLOCK_MINUTES,
                    "used_minutes": per_client * 15,
                    "forfeited_minutes": 0,
                    "open_overage_minutes": 0,
                    "billed_overage_minutes": 0,
                    "last_entry_id": c * per_client,
                    "created_at": now - timedelta(days=400),
                }
                for c in range(1, clients + 1)
            ],
        )
        conn.execute(
            insert(Block),
            [
                {
                    "id": c,
                    "client_id": c,
                    "minutes": BLOCK_MINUTES,
                    "remaining_minutes": BLOCK_MINUTES - per_client * 15,
                    "forfeited_minutes": 0,
                    "start_on": today - timedelta(days=400),
                    "expires_on": None,
                    "note": "",
                    "created_at": now - timedelta(days=400),
                }
                for c in range(1, clients + 1)
            ],
        )
        batch_entries: list[dict] = []  # type: ignore[type-arg]
        batch_draws: list[dict] = []  # type: ignore[type-arg]
        batch_lines: list[dict] = []  # type: ignore[type-arg]
        for c in range(1, clients + 1):
            for i in range(per_client):
                entry_id = (c - 1) * per_client + i + 1
                day = today - timedelta(days=(per_client - i) * 400 // per_client)
                at = datetime.combine(day, datetime.min.time(), UTC)
                batch_entries.append(
                    {
                        "id": entry_id,
                        "client_id": c,
                        "user_id": "UB",
                        "user_name": "Bench",
                        "typed": "15m",
                        "minutes": 15,
                        "billable_minutes": 15,
                        "overage_minutes": 0,
                        "billed_overage_minutes": 0,
                        "non_billable": False,
                        "note": "bench",
                        "work_date": day,
                        "source": "cli",
                        "created_at": at,
                    }
                )
                batch_draws.append(
                    {"id": entry_id, "entry_id": entry_id, "block_id": c, "minutes": 15, "created_at": at}
                )
                batch_lines.append(
                    {
                        "id": entry_id,
                        "client_id": c,
                        "at": at,
                        "kind": "entry",
                        "minutes": -15,
                        "balance_after": BLOCK_MINUTES - (i + 1) * 15,
                        "entry_id": entry_id,
                        "actor": "UB",
                        "note": "",
                    }
                )
                if len(batch_entries) >= 20000:
                    _flush(conn, batch_entries, batch_draws, batch_lines)
        _flush(conn, batch_entries, batch_draws, batch_lines)


def _flush(conn, entries: list, draws: list, lines: list) -> None:  # type: ignore[no-untyped-def,type-arg]
    if entries:
        conn.execute(insert(Entry), entries)
        conn.execute(insert(Draw), draws)
        conn.execute(insert(LedgerLine), lines)
    entries.clear(), draws.clear(), lines.clear()


def timed(work, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """Median milliseconds of ``work()``."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 2)


def measure(url: str, clients: int, entries: int) -> dict:  # type: ignore[type-arg]
    db = Database(url)
    db.migrate()
    started = time.perf_counter()
    seed(db, clients, entries)
    seeded = round(time.perf_counter() - started, 1)
    ctx = Context(db, Settings(), SystemClock())
    actor = Actor("UADMIN", "Bench")
    handles = [f"c{c:04d}" for c in range(1, clients + 1)]
    counter = iter(range(10**9))
    balance_ms = timed(lambda: run_text(ctx, actor, f"balance {handles[next(counter) % clients]}"), 200)
    dashboard_ms = timed(lambda: dashboard(ctx), 5)

    def digest() -> None:
        with db.unit_of_work(read_only=True) as uow:
            digest_facts(ctx, uow.session, date.today())

    digest_ms = timed(digest, 3)
    db.dispose()
    return {
        "clients": clients,
        "entries": entries,
        "seed_s": seeded,
        "balance_p50_ms": balance_ms,
        "dashboard_ms": dashboard_ms,
        "digest_ms": digest_ms,
    }


def run(folder: Path) -> list[dict]:  # type: ignore[type-arg]
    small = measure(f"sqlite:///{folder}/small.db", 10, 1000)
    large = measure(f"sqlite:///{folder}/large.db", 1000, 1_000_000)
    return [small, large]
