"""The SQL of time capture: running timers, who replied in which ticket thread (never what), and
whether time was logged on a thread."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import Client, Entry, NudgeOptOut, ThreadActivity, Timer


def timers_started_before(session: Session, moment: datetime) -> list[tuple[Timer, Client]]:
    rows = session.execute(
        select(Timer, Client).join(Client, Timer.client_id == Client.id).where(Timer.started_at < moment)
    ).all()
    return [(timer, client) for timer, client in rows]


def remove_timer(session: Session, user_id: str, started_at: datetime | None = None) -> None:
    """Remove the person's timer (only the one started at ``started_at``, when given)."""
    query = delete(Timer).where(Timer.user_id == user_id)
    if started_at is not None:
        query = query.where(Timer.started_at == started_at)
    session.execute(query)


def thread_activity(session: Session, user_id: str, channel_id: str, thread_ts: str) -> ThreadActivity | None:
    return session.scalar(
        select(ThreadActivity).where(
            ThreadActivity.user_id == user_id,
            ThreadActivity.channel_id == channel_id,
            ThreadActivity.thread_ts == thread_ts,
        )
    )


def activity_before(session: Session, end: datetime) -> list[ThreadActivity]:
    """What was kept of replies before ``end``, by person, oldest first."""
    return list(
        session.scalars(
            select(ThreadActivity).where(ThreadActivity.at < end).order_by(ThreadActivity.user_id, ThreadActivity.at)
        )
    )


def forget_activity(session: Session, before: datetime | None = None, user_id: str | None = None) -> None:
    """Delete what was kept: everything before ``before``, or everything of ``user_id``."""
    query = delete(ThreadActivity)
    if before is not None:
        query = query.where(ThreadActivity.at < before)
    if user_id is not None:
        query = query.where(ThreadActivity.user_id == user_id)
    session.execute(query)


def nudges_off(session: Session) -> set[str]:
    return set(session.scalars(select(NudgeOptOut.user_id)))


def time_logged_on_thread(session: Session, user_id: str, thread_ref: str, since: datetime) -> bool:
    """Whether ``user_id`` logged time (a live entry) on the thread since ``since``."""
    found = session.scalar(
        select(Entry.id)
        .where(
            Entry.thread_ref == thread_ref,
            Entry.user_id == user_id,
            Entry.voided_at.is_(None),
            Entry.created_at >= since,
        )
        .limit(1)
    )
    return found is not None
