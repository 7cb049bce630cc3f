"""The client's page (issue 27): server time of ``GET /c/<token>`` and of a month's CSV for a client
with 10,000 entries (about 25 a day over 400 days, late ones among them, four technicians, three
blocks), beside nine clients of 1,000 entries, on SQLite and PostgreSQL. Server time is the WSGI
app's own (Flask's test client: no socket, no client parsing), from the request's arrival to its last
byte, the link's check and the view's audit row included. The goal: under 50 ms.

python -m bench page   # writes bench/page.json and its section of bench/RESULTS.md
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text, update

from bench.common import PG_URL
from bot.clock import FixedClock
from bot.config import Settings
from bot.services import Actor, Context, run_text
from storage.db import Database
from storage.models import Block, Client, Draw, Entry, LedgerLine

ENTRIES, OTHERS, OTHER_ENTRIES = 10_000, 9, 1_000
DAYS = 400
REPEAT = 60
GOAL_MS = 50
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
TECHS = ("Tess Tech", "Bob Builder", "Ada Admin", "Max Manager")
ADMIN = Actor.local_admin()


def seed(ctx: Context, clock: FixedClock) -> str:
    """The clients and their history; returns the big client's link. Clients and blocks go through
    the services (their running figures right); the entries, draws and ledger lines are inserted in
    bulk with the figures they would have, then the running totals are set to match."""
    clock.at = NOW - timedelta(days=DAYS + 1)
    handles = ["big", *(f"small{i}" for i in range(OTHERS))]
    for handle in handles:
        run_text(ctx, ADMIN, f"client add {handle} {handle.title()} Ltd")
        run_text(ctx, ADMIN, f"topup {handle} 3000 confirm")
    run_text(ctx, ADMIN, "client set big client-notes on")
    clock.at = NOW - timedelta(days=20)
    run_text(ctx, ADMIN, "topup big 20 expires 2027-06-30 unpaid")
    clock.at = NOW
    run_text(ctx, ADMIN, "topup big 10 starts 2027-01-01")
    with ctx.db.unit_of_work(read_only=True) as uow:
        ids = {h: uow.clients.get(h).id for h in handles}  # type: ignore[union-attr]
    next_id = 1
    for handle in handles:
        count = ENTRIES if handle == "big" else OTHER_ENTRIES
        next_id = _history(ctx.db, ids[handle], ids[handle], count, next_id)  # block n of client n: its first
    link: str = run_text(ctx, ADMIN, "share big").data["link"]  # type: ignore[attr-defined]
    _analyze(ctx.db)
    return link


def _analyze(db: Database) -> None:
    """Statistics for the planner, as a database in use has them (autovacuum on PostgreSQL): without
    them, rows inserted in bulk a moment ago look like none, and the plans are a fresh install's."""
    if db.is_sqlite:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def _history(db: Database, client_id: int, block_id: int, count: int, first_id: int) -> int:
    entries, draws, lines = [], [], []
    with db.engine.connect() as conn:
        balance = int(conn.execute(text(f"SELECT remaining_minutes FROM blocks WHERE id = {block_id}")).scalar_one())
    start_balance = balance
    for n in range(count):
        i = first_id + n
        day = (NOW - timedelta(days=DAYS) + timedelta(days=DAYS * n / count)).date()
        late = n % 17 == 0
        recorded = day + timedelta(days=2) if late else day
        at = datetime.combine(recorded, datetime.min.time(), UTC) + timedelta(hours=9, minutes=n % 480)
        minutes = 15 + 15 * (n % 4)
        balance -= minutes
        tech = TECHS[n % len(TECHS)]
        entries.append(
            {
                "id": i,
                "client_id": client_id,
                "user_id": f"U{n % len(TECHS)}",
                "user_name": tech,
                "typed": f"{minutes}m",
                "minutes": minutes,
                "billable_minutes": minutes,
                "overage_minutes": 0,
                "billed_overage_minutes": 0,
                "non_billable": False,
                "note": f"work item {n}",
                "work_date": day,
                "ticket": f"#{1000 + n % 300}" if n % 3 else None,
                "source": "cli",
                "created_at": at,
            }
        )
        draws.append({"id": i, "entry_id": i, "block_id": block_id, "minutes": minutes, "created_at": at})
        lines.append(
            {
                "client_id": client_id,
                "at": at,
                "recorded_on": recorded,
                "kind": "entry",
                "minutes": -minutes,
                "balance_after": balance,
                "entry_id": i,
                "actor": "bench",
                "note": "",
            }
        )
    used = start_balance - balance
    with db.engine.begin() as conn:
        conn.execute(insert(Entry), entries)
        conn.execute(insert(Draw), draws)
        conn.execute(insert(LedgerLine), lines)
        conn.execute(update(Block).where(Block.id == block_id).values(remaining_minutes=balance))
        conn.execute(
            update(Client)
            .where(Client.id == client_id)
            .values(used_minutes=Client.used_minutes + used, last_entry_id=first_id + count - 1)
        )
    return first_id + count


def timed(work: Any, repeat: int) -> dict[str, float]:
    """Wall time (p50, p95, max) and this process's CPU time (p50) of ``work()``: on a shared machine
    the wall time waits for the CPU too; the CPU time is the server's own work (on SQLite the
    database's included, on PostgreSQL not: that is another process)."""
    samples, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        work()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 1),
        "max_ms": round(samples[-1], 1),
        "cpu_p50_ms": round(statistics.median(cpu), 1),
    }


def measure(database: str, url: str) -> dict[str, Any]:
    from handlers.web import create_web_app

    db = Database(url)
    db.migrate()
    clock = FixedClock(NOW)
    ctx = Context(db, Settings(admins=frozenset({"UADMIN"}), page_rate="1000000/second"), clock)
    started = time.perf_counter()
    link = seed(ctx, clock)
    seeded = round(time.perf_counter() - started, 1)
    client = create_web_app(ctx).test_client()

    def get(path: str) -> None:
        reply = client.get(path)
        assert reply.status_code == 200, reply.status_code
        reply.get_data()

    get(link)  # warm: templates compiled, connections open
    page = timed(lambda: get(link), REPEAT)
    past = timed(lambda: get(f"{link}?month=2026-06"), REPEAT // 2)
    csv = timed(lambda: get(f"{link}/statement/2026-11.csv"), REPEAT // 2)
    with db.unit_of_work(read_only=True) as uow:
        lines = len(uow.lines.entry_lines(uow.clients.get("big").id, ("entry", "void"), date(2026, 11, 1), NOW.date()))  # type: ignore[union-attr]
    db.dispose()
    return {
        "database": database,
        "entries": ENTRIES,
        "other_clients": OTHERS,
        "seed_s": seeded,
        "month_lines": lines,
        "page": page,
        "past_month": past,
        "csv": csv,
    }


def run() -> dict[str, Any]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows.append(measure("sqlite", f"sqlite:///{folder}/page.db"))
    schema = f"bench_page_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in PG_URL else "?"
        rows.append(measure("postgres", f"{PG_URL}{separator}options=-csearch_path%3D{schema}"))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "goal_ms": GOAL_MS,
        "load_average": [round(x, 1) for x in os.getloadavg()],  # the machine is shared: how busy it was
        "rows": rows,
    }


def write(figures: dict[str, Any], root: Path) -> None:
    (root / "bench" / "page.json").write_text(json.dumps(figures, indent=2) + "\n")
    from bench.report import refresh_page

    refresh_page(root / "bench" / "RESULTS.md")
