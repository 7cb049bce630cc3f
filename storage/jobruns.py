"""The SQL of ``job_runs``: a row per job and due time, so each job runs once across processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import JobRun


def add_run(session: Session, job: str, due_key: str, owner: str, now: datetime, lease_until: datetime) -> None:
    """Insert the run; a second insert for the same job and due key fails at commit (the unique key)."""
    session.add(JobRun(job=job, due_key=due_key, owner=owner, started_at=now, lease_until=lease_until))


def take_over(session: Session, job: str, due_key: str, owner: str, now: datetime, lease_until: datetime) -> bool:
    """Take an unfinished run whose lease ran out (its process died); True when this owner got it."""
    taken = session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.due_key == due_key, JobRun.finished_at.is_(None), JobRun.lease_until < now)
        .values(owner=owner, started_at=now, lease_until=lease_until)
    ).rowcount  # type: ignore[attr-defined]
    return bool(taken == 1)


def finish(session: Session, job: str, due_key: str, owner: str, now: datetime, summary: str) -> None:
    session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.due_key == due_key, JobRun.owner == owner)
        .values(finished_at=now, summary=summary[:2000])
    )


def run_of(session: Session, job: str, due_key: str) -> JobRun | None:
    return session.scalar(select(JobRun).where(JobRun.job == job, JobRun.due_key == due_key))
