"""Two real OS processes at once on one database (a shared SQLite file, and PostgreSQL): each runs the
``blocktime`` command's ``main`` in a process of its own (``multiprocessing`` with ``spawn``: nothing
shared but the database), with its own connection and an injected clock. Two entries crossing the
lowest threshold at the same moment add exactly one refill block; ``jobs run allotments`` twice at once
adds exactly one period block."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.clock import FixedClock
from bot.services import Actor, Context
from storage.db import Database
from storage.models import Block, LedgerLine
from tests.e2e.processes import Cli
from tests.helpers import balance_of, do

DEC_1 = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)


def _cli_in_a_process(
    url: str, cwd: str, moment: str, args: tuple[str, ...], start: Barrier, results: Any
) -> None:  # pragma: no cover - runs in the child process
    """One process: the CLI at ``moment``, started when every process is ready (imports done)."""
    import bot.cli  # noqa: F401  - loaded before the start, so the processes meet at the command itself

    cli = Cli(url, Path(cwd), clock=FixedClock(datetime.fromisoformat(moment)))
    start.wait(timeout=120)
    done = cli.run(*args)
    results.put((done.returncode, done.stdout + done.stderr))


def at_once(database: Database, cwd: Path, moment: datetime, *commands: tuple[str, ...]) -> list[tuple[int, str]]:
    """Each command in a process of its own, all at once; their exit codes and output."""
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(len(commands)), spawn.SimpleQueue()
    processes = [
        spawn.Process(target=_cli_in_a_process, args=(database.url, str(cwd), moment.isoformat(), c, start, results))
        for c in commands
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=180)
    assert [p.exitcode for p in processes] == [0] * len(commands)
    return [results.get() for _ in commands]


def blocks(ctx: Context, source: str) -> list[Block]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        found = list(uow.session.scalars(select(Block).where(Block.source == source).order_by(Block.id)))
        uow.session.expunge_all()
        return found


def test_two_processes_crossing_at_once_add_one_refill(
    database: Database, ctx: Context, admin: Actor, tmp_path: Path
) -> None:
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "client set acme overdraft unlimited refill auto 10h max 9 per month")
    do(ctx, admin, "topup acme 10")
    do(ctx, admin, "logtime acme 8h30m earlier work")  # 1h30m left: either next entry crosses 10%
    done = at_once(
        database,
        tmp_path,
        ctx.now(),
        ("logtime", "acme", "1h", "first at once"),
        ("logtime", "acme", "1h", "second at once"),
    )
    assert [code for code, _ in done] == [0, 0], done
    assert [b.minutes for b in blocks(ctx, "refill")] == [600]
    assert sum("Refill: 10h added" in said for _, said in done) == 1  # the entry that crossed says so
    assert balance_of(ctx, "acme").remaining_minutes == 90 - 120 + 600


def test_the_allotments_job_run_by_two_processes_at_once_adds_one_period_block(
    database: Database, ctx: Context, clock: FixedClock, admin: Actor, tmp_path: Path
) -> None:
    clock.at = datetime(2026, 11, 25, 15, tzinfo=UTC)
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "client set acme grace 0d monthly 10h rollover 2h")
    do(ctx, admin, "logtime acme 1h server")
    done = at_once(database, tmp_path, DEC_1, ("jobs", "run", "allotments"), ("jobs", "run", "allotments"))
    assert [code for code, _ in done] == [0, 0], done
    assert [b.period_start.isoformat() for b in blocks(ctx, "recurring") if b.period_start] == [
        "2026-11-01",
        "2026-12-01",
    ]
    with ctx.db.unit_of_work(read_only=True) as uow:
        rollovers = list(uow.session.scalars(select(LedgerLine.block_id).where(LedgerLine.kind == "rollover")))
        forfeits = list(uow.session.scalars(select(LedgerLine.minutes).where(LedgerLine.kind == "forfeit")))
    assert rollovers == [blocks(ctx, "recurring")[1].id]
    assert forfeits == [-(600 - 60 - 120)]
    clock.at = DEC_1
    assert balance_of(ctx, "acme").remaining_minutes == 600 + 120
