"""Nudges for time not logged: staff who replied in ticket threads of linked channels but logged no
time on them are asked, once a workday, by DM. Only who replied where and when is kept (never what
they wrote), and it is forgotten once the day's nudge is decided."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bot.domain.commands import NudgesSet
from bot.domain.roles import Role, Standing
from bot.services.alerts import enqueue
from bot.services.context import Actor, Context
from bot.services.people import person_standing
from bot.services.results import Message
from storage.models import ChannelLink, Client, Entry, NudgeOptOut, ThreadActivity


def thread_ref(channel_id: str, thread_ts: str) -> str:
    """How an entry names the ticket thread it was logged on."""
    return f"{channel_id}:{thread_ts}"


def note_reply(ctx: Context, actor: Actor, channel_id: str, thread_ts: str) -> bool:
    """Remember that ``actor`` (staff) replied in a ticket thread; False when nothing was kept (nudges
    off, or not staff)."""
    with ctx.db.unit_of_work() as uow:
        session = uow.session
        if session.get(NudgeOptOut, actor.user_id) is not None or ctx.role_of(session, actor) < Role.TECHNICIAN:
            return False
        row = session.scalar(
            select(ThreadActivity).where(
                ThreadActivity.user_id == actor.user_id,
                ThreadActivity.channel_id == channel_id,
                ThreadActivity.thread_ts == thread_ts,
            )
        )
        if row is None:
            session.add(ThreadActivity(user_id=actor.user_id, channel_id=channel_id, thread_ts=thread_ts, at=ctx.now()))
        else:
            row.at = ctx.now()
        try:
            uow.commit()
        except IntegrityError:  # the same reply noted at once by another process: one row is enough
            return True
    return True


def set_nudges(ctx: Context, actor: Actor, command: NudgesSet) -> Message:
    with ctx.db.unit_of_work() as uow:
        session = uow.session
        row = session.get(NudgeOptOut, actor.user_id)
        if command.on and row is not None:
            session.delete(row)
        elif not command.on:
            if row is None:
                session.add(NudgeOptOut(user_id=actor.user_id, at=ctx.now()))
            # and forget what was kept for today's nudge
            session.execute(delete(ThreadActivity).where(ThreadActivity.user_id == actor.user_id))
        uow.commit()
    if command.on:
        return Message(
            f"Nudges are on: on workdays at {ctx.settings.nudge_time} I'll DM you about ticket threads you replied "
            "in without logging time. `/blocktime nudges off` stops them.",
            {"nudges": "on"},
        )
    return Message("Nudges are off. `/blocktime nudges on` turns them back on.", {"nudges": "off"})


def nudge(ctx: Context, day: date) -> str:
    """Queue each staff member's DM about the threads of ``day`` (workspace calendar) they replied in
    without logging time on them, once per person and day; then forget that day's replies."""
    zone = ZoneInfo(ctx.settings.timezone)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    people = threads = 0
    with ctx.db.unit_of_work() as uow:
        session = uow.session
        rows = session.scalars(
            select(ThreadActivity)
            .where(ThreadActivity.at >= start, ThreadActivity.at < end)
            .order_by(ThreadActivity.user_id, ThreadActivity.at)
        ).all()
        clients = {
            channel: (handle, name)
            for channel, handle, name in session.execute(
                select(ChannelLink.channel_id, Client.handle, Client.display_name).join(
                    Client, ChannelLink.client_id == Client.id
                )
            )
        }
        opted_out = set(session.scalars(select(NudgeOptOut.user_id)))
        waiting: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            if row.user_id in opted_out or row.channel_id not in clients:
                continue
            ref = thread_ref(row.channel_id, row.thread_ts)
            logged = session.scalar(
                select(Entry.id).where(
                    Entry.thread_ref == ref,
                    Entry.user_id == row.user_id,
                    Entry.voided_at.is_(None),
                    Entry.created_at >= start,
                )
            )
            if logged is not None:
                continue
            handle, name = clients[row.channel_id]
            started = datetime.fromtimestamp(float(row.thread_ts), zone)
            waiting.setdefault(row.user_id, []).append(
                {
                    "client": handle,
                    "display_name": name,
                    "channel": row.channel_id,
                    "thread_ts": row.thread_ts,
                    "started": f"{started:%H:%M}" if started.date() == day else f"{started:%d %b %H:%M}",
                }
            )
        for user_id, open_threads in waiting.items():
            standing = person_standing(session, user_id) or Standing.UNVERIFIED
            if ctx.role_of(session, Actor(user_id, standing=standing)) < Role.TECHNICIAN:
                continue  # no longer staff
            facts = {"user": user_id, "date": day.isoformat(), "count": len(open_threads), "threads": open_threads}
            people += enqueue(
                session, ctx, "nudge", None, facts, f"nudge:{user_id}:{day.isoformat()}", only_slack=user_id
            )
            threads += len(open_threads)
        # what was kept served this nudge only (later days' rows, if the job runs late, stay)
        session.execute(delete(ThreadActivity).where(ThreadActivity.at < end))
        uow.commit()
    return f"{people} people nudged about {threads} threads without time"
