"""Run each scheduled job once per due time, whatever the number of bot processes.

A run is a row in ``job_runs`` keyed by (job, due key). The process that inserts it runs the job;
the others see the unique key and skip. A run whose process died (lease expired, never finished) is
taken over by a conditional update. The jobs are idempotent themselves too (dedupe keys on what they
post, unique renewal links), so even a taken-over run changes nothing twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from bot.services import Context
from storage import jobruns

log = logging.getLogger("blocktime.jobs")
LEASE = timedelta(minutes=30)


@dataclass(frozen=True)
class RunOutcome:
    job: str
    due_key: str
    ran: bool
    summary: str


def run_once(ctx: Context, job: str, due_key: str, owner: str, work: Callable[[], str]) -> RunOutcome:
    if not _acquire(ctx, job, due_key, owner):
        with ctx.db.unit_of_work(read_only=True) as uow:
            row = jobruns.run_of(uow.session, job, due_key)
            state = "finished" if row and row.finished_at else "running elsewhere"
            summary = (row.summary or "") if row else ""
        return RunOutcome(job, due_key, False, f"already {state}: {summary}".strip())
    summary = work()
    with ctx.db.unit_of_work() as uow:
        jobruns.finish(uow.session, job, due_key, owner, ctx.now(), summary)
        uow.commit()
    log.info("job %s for %s: %s", job, due_key, summary)
    return RunOutcome(job, due_key, True, summary)


def _acquire(ctx: Context, job: str, due_key: str, owner: str) -> bool:
    now = ctx.now()
    try:
        with ctx.db.unit_of_work() as uow:
            jobruns.add_run(uow.session, job, due_key, owner, now, now + LEASE)
            uow.commit()
            return True
    except IntegrityError:
        pass
    with ctx.db.unit_of_work() as uow:
        taken = jobruns.take_over(uow.session, job, due_key, owner, now, now + LEASE)
        uow.commit()
    return taken
