"""The figures ``/metrics`` reads from the database at each scrape (``bot.metrics``): a few aggregate
queries on indexed columns or small tables, in one read transaction, so every process that answers a
scrape tells the same story.

- entries logged: rows of ``entries`` (nothing is deleted: an edit adds a row, a void flags one);
- the outbox per destination: rows waiting (pending) with the oldest one's queue time, and rows
  failed for good (the destination refused them; they wait for someone to queue them again);
- each job's last success: the newest ``finished_at`` in ``job_runs`` (a run that raised never
  finishes);
- the client page's views: the sum of the share links' view counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Entry, JobRun, OutboxMessage, ShareLink


@dataclass(frozen=True)
class OutboxState:
    waiting: int
    oldest_waiting_since: datetime | None  # the oldest waiting row's queue time (``created_at``)
    failed: int


@dataclass(frozen=True)
class Figures:
    entries_logged: int
    outbox: dict[str, OutboxState]  # by destination: only destinations with a waiting or failed row
    job_last_success: dict[str, datetime]  # by job: only jobs that have finished a run
    page_views: int


def read_figures(session: Session) -> Figures:
    """The figures, read in the session's one transaction (on PostgreSQL a repeatable-read snapshot,
    so the queries agree with each other; SQLite's read transaction is a snapshot already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return Figures(
        entries_logged=int(session.scalar(select(func.count()).select_from(Entry)) or 0),
        outbox=_outbox(session),
        job_last_success=_job_last_success(session),
        page_views=int(session.scalar(select(func.coalesce(func.sum(ShareLink.views), 0))) or 0),
    )


def _outbox(session: Session) -> dict[str, OutboxState]:
    rows = session.execute(
        select(
            OutboxMessage.destination,
            OutboxMessage.status,
            func.count(),
            func.min(OutboxMessage.created_at),
        )
        .where(OutboxMessage.status.in_(("pending", "failed")))  # ix_outbox_status_next_attempt_at
        .group_by(OutboxMessage.destination, OutboxMessage.status)
    ).all()
    waiting: dict[str, tuple[int, datetime | None]] = {}
    failed: dict[str, int] = {}
    for destination, status, count, oldest in rows:
        if status == "pending":
            waiting[destination] = (int(count), oldest)
        else:
            failed[destination] = int(count)
    return {
        destination: OutboxState(
            waiting=waiting.get(destination, (0, None))[0],
            oldest_waiting_since=waiting.get(destination, (0, None))[1],
            failed=failed.get(destination, 0),
        )
        for destination in sorted(waiting.keys() | failed.keys())
    }


def _job_last_success(session: Session) -> dict[str, datetime]:
    rows = session.execute(
        select(JobRun.job, func.max(JobRun.finished_at))
        .where(JobRun.finished_at.is_not(None))
        .group_by(JobRun.job)
        .order_by(JobRun.job)
    ).all()
    return {str(job): finished for job, finished in rows if finished is not None}
