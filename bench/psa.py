"""``python -m bench psa``: time logged here reaching each PSA, against the local fake of its API (the
same fakes the tests use: every request validated and recorded). Per vendor, on a SQLite file:

- **drain**: 200 entries queued, then delivered by one dispatcher: entries per second and HTTP
  requests per entry (what a sync costs the PSA's rate limit);
- **outage**: the PSA down (503) while 100 entries are logged, then back: every entry synced once,
  none doubled, and the failed attempts it took (each pass leaves a failing PSA alone after one try).

Figures go to ``bench/psa.json`` and the "Time into the PSA" section of ``bench/RESULTS.md``."""

from __future__ import annotations

import json
import os
import platform
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.bootstrap import transports_for
from bot.clock import FixedClock
from bot.config import Settings
from bot.jobs.dispatcher import Dispatcher
from bot.services import Actor, Context
from storage.db import Database
from tests.fakes.psa_base import FAKES, started
from tests.helpers import do
from tests.psa_helpers import TECH, linked

DRAIN, OUTAGE = 200, 100


def run() -> dict[str, Any]:
    servers: dict[str, Any] = {}
    rows = []
    try:
        for vendor in FAKES:
            fake = started(servers, vendor)
            rows.append({"vendor": fake.label, **_drain(fake), **_outage(fake)})
    finally:
        for fake in servers.values():
            fake.stop()
    return {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "rows": rows,
    }


def _context(fake: Any, folder: Path, clock: FixedClock) -> Context:
    db = Database(f"sqlite:///{folder / 'psa.db'}")
    db.migrate()
    settings = Settings(admins=frozenset({"UADMIN"}), psa_timeout_seconds=5.0, **fake.settings_values())
    ctx = linked(Context(db, settings, clock))
    do(ctx, Actor.local_admin(), "topup acme 1000")
    return ctx


def _drain_all(ctx: Context, clock: FixedClock, step_seconds: float = 0) -> tuple[int, int]:
    """Dispatcher passes until nothing is due: (delivered, passes)."""
    dispatcher = Dispatcher(ctx, transports_for(ctx), rng=random.Random(0))
    delivered = passes = 0
    while True:
        sent = dispatcher.run_once()
        passes += 1
        delivered += sent
        if not sent:
            return delivered, passes
        clock.advance(seconds=step_seconds)


def _drain(fake: Any) -> dict[str, Any]:
    fake.seed()
    clock = FixedClock(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as folder:
        ctx = _context(fake, Path(folder), clock)
        for number in range(DRAIN):
            do(ctx, TECH, f"logtime acme 15m drain {number} #1234")
        transports_for(ctx)  # imports done before the clock starts
        fake.requests.clear()
        started = time.perf_counter()
        delivered, _ = _drain_all(ctx, clock)
        seconds = time.perf_counter() - started
        ctx.db.dispose()
    assert delivered == DRAIN and len(fake.records()) == DRAIN, (delivered, len(fake.records()))
    return {
        "drain_entries": DRAIN,
        "drain_seconds": round(seconds, 2),
        "entries_per_s": round(DRAIN / seconds, 1),
        "requests_per_entry": round(len(fake.requests) / DRAIN, 2),
    }


def _outage(fake: Any) -> dict[str, Any]:
    fake.seed()
    clock = FixedClock(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as folder:
        ctx = _context(fake, Path(folder), clock)
        fake.faults.down = True
        for number in range(OUTAGE):
            do(ctx, TECH, f"logtime acme 15m outage {number} #1234")
            if number % 10 == 9:
                _drain_all(ctx, clock)  # a pass now and then while it is down
                clock.advance(seconds=30)
        failed_attempts = len([r for r in fake.requests if r.status == 503])
        fake.faults.down = False
        clock.advance(minutes=10)  # every backoff has run out
        delivered, passes = _drain_all(ctx, clock)
        ctx.db.dispose()
    references = [r.reference for r in fake.records()]
    return {
        "outage_entries": OUTAGE,
        "outage_synced": len(references),
        "outage_doubled": len(references) - len(set(references)),
        "outage_failed_attempts": failed_attempts,
        "outage_passes_after": passes,
        "outage_delivered_after": delivered,
    }


def write(figures: dict[str, Any], root: Path) -> None:
    (root / "bench" / "psa.json").write_text(json.dumps(figures, indent=2))
    from bench.report import refresh_psa

    refresh_psa(root / "bench" / "RESULTS.md")
