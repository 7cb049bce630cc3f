"""Scale-out on PostgreSQL: 8,000 /logtime requests for 10 clients at concurrency 32 against 1 and
then 4 ``blocktime serve`` processes on one database. Checks: every acknowledged entry exists exactly
once, nothing else was written, balances are exact, each threshold alert exists once, and a job
started by 4 processes at once runs once."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from bench.common import SCRIPT, add_clients, base_env, free_port, load, pg_schema, start, stop, wait_port
from storage.db import Database
from storage.models import Client, Entry, OutboxMessage

CLIENTS = ",".join(f"client{n}" for n in range(10))
REQUESTS = 8000


def run_once(processes: int, slack_api: str, logs: Path, requests: int = REQUESTS) -> dict:  # type: ignore[type-arg]
    with pg_schema() as url:
        env = base_env(url, slack_api, BLOCKTIME_ALERT_CHANNEL="CALERTS", BLOCKTIME_DISPATCH_SECONDS="3600")
        add_clients(env, CLIENTS, "250")
        ports = [free_port() for _ in range(processes)]
        servers = [
            start([SCRIPT, "serve", "--port", str(p), "--threads", "16"], env, logs / f"scale-{p}.log") for p in ports
        ]
        try:
            for port in ports:
                wait_port(port)
            figures = load(
                ",".join(map(str, ports)), 32, 600, CLIENTS, f"scale{processes}", ids=True, requests=requests
            )
        finally:
            for server in servers:
                stop(server)
        checks = verify(url, figures)
        jobs = jobs_once(env) if processes > 1 else None
    acked = figures.pop("acked_ids")
    figures.pop("unanswered_ids")
    return {"processes": processes, **figures, "acked": len(acked), **checks, "jobs_ran": jobs}


def verify(url: str, figures: dict) -> dict:  # type: ignore[type-arg]
    db = Database(url)
    with db.unit_of_work(read_only=True) as uow:
        s = uow.session
        keys = Counter(k for (k,) in s.execute(select(Entry.idempotency_key)))
        acked = {f"cmd:{t}" for t in figures["acked_ids"]}
        lost = len([k for k in acked if keys.get(k, 0) == 0])
        doubled = len([k for k, n in keys.items() if n > 1])
        unexpected = len(
            [k for k in keys if k not in acked and k not in {f"cmd:{t}" for t in figures["unanswered_ids"]}]
        )
        balances_exact = True
        for client in s.scalars(select(Client)):
            used = s.scalar(
                select(func.coalesce(func.sum(Entry.billable_minutes), 0)).where(
                    Entry.client_id == client.id, Entry.voided_at.is_(None)
                )
            )
            balances_exact &= client.used_minutes == used
        levels = Counter(
            (c, json.loads(p)["level_minutes"])
            for c, p in s.execute(
                select(OutboxMessage.client_id, OutboxMessage.payload).where(OutboxMessage.kind == "threshold")
            )
        )
        alerts_once = all(n == 1 for n in levels.values())
    db.dispose()
    return {
        "lost": lost,
        "doubled": doubled,
        "unexpected": unexpected,
        "balances_exact": balances_exact,
        "threshold_alerts": len(levels),
        "alerts_exactly_once": alerts_once,
    }


def jobs_once(env: dict[str, str]) -> int:
    procs = [
        subprocess.Popen(
            [SCRIPT, "--json", "jobs", "run", "digest", "--date", "2026-11-25"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(4)
    ]
    return sum(json.loads(p.communicate(timeout=120)[0])["ran"] for p in procs)


def run(slack_api: str, logs: Path) -> list[dict]:  # type: ignore[type-arg]
    """One process with 2,000 requests (its throughput), then four with the full 8,000 (and the checks)."""
    return [run_once(1, slack_api, logs, 2000), run_once(4, slack_api, logs)]
