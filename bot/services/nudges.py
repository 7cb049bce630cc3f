"""Nudges for time not logged: staff who replied in ticket threads of linked channels but logged no
time on them are asked, once a workday, by DM. Only who replied where and when is kept (never what
they wrote), and it is forgotten once the day's nudge is decided."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.commands import NudgesSet
from bot.domain.errors import DomainError
from bot.domain.notices import Nudge, NudgeThread
from bot.domain.roles import Role
from bot.services.alerts import queue
from bot.services.channels import message_ref
from bot.services.context import Actor, Context
from bot.services.dispatch import serves
from bot.services.people import person_standing
from bot.services.results import Message
from storage.db import UnitOfWork
from storage.errors import Conflict


def note_reply(ctx: Context, actor: Actor, channel_id: str, thread_ts: str) -> bool:
    """Remember that ``actor`` (staff) replied in a ticket thread; False when nothing was kept (nudges
    off, or not staff)."""
    with ctx.db.unit_of_work() as uow:
        if uow.nudges.off_for(actor.user_id) or ctx.role(uow, actor) < Role.TECHNICIAN:
            return False
        uow.nudges.note_reply(actor.user_id, channel_id, thread_ts, ctx.now())
        try:
            uow.commit()
        except Conflict:  # the same reply noted at once by another process: one row is enough
            return True
    return True


@serves(NudgesSet)
def set_nudges(ctx: Context, actor: Actor, command: NudgesSet) -> Message:
    with ctx.db.unit_of_work() as uow:
        if command.on:
            uow.nudges.turn_on(actor.user_id)
        else:
            uow.nudges.turn_off(actor.user_id, ctx.now())
            uow.nudges.forget(user_id=actor.user_id)  # and what was kept for today's nudge
        uow.commit()
    if command.on:
        return Message(
            f"Nudges are on: on workdays at {ctx.settings.nudge_time} I'll DM you about ticket threads you replied "
            "in without logging time. `/blocktime nudges off` stops them.",
            {"nudges": "on"},
        )
    return Message("Nudges are off. `/blocktime nudges on` turns them back on.", {"nudges": "off"})


def _still_staff(ctx: Context, uow: UnitOfWork, user_id: str) -> bool:
    """As Slack last said (stored when the reply came in): a guest promoted away or a deactivated user is
    not nudged, nor anyone Slack never confirmed."""
    standing = person_standing(uow, user_id)
    if standing is None:
        return False
    try:
        return ctx.role(uow, Actor(user_id, standing=standing)) >= Role.TECHNICIAN
    except DomainError:  # Slack could not confirm them
        return False


def nudge(ctx: Context, day: date) -> str:
    """Queue each staff member's DM about the threads of ``day`` (workspace calendar) they replied in
    without logging time on them, once per person and day; then forget that day's replies."""
    zone = ZoneInfo(ctx.settings.timezone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    people = threads = 0
    with ctx.db.unit_of_work() as uow:
        # every reply not asked about yet: the day's, and an earlier day's after that day's nudge
        rows = uow.nudges.replies_before(end)
        clients = {channel: (handle, name) for channel, _, handle, name, _ in uow.channels.links()}
        opted_out = uow.nudges.everyone_off()
        waiting: dict[str, list[NudgeThread]] = {}
        for row in rows:
            if row.user_id in opted_out or row.channel_id not in clients:
                continue
            replied_on = datetime.combine(row.at.astimezone(zone).date(), time(0), zone)
            if uow.entries.logged_on_thread(row.user_id, message_ref(row.channel_id, row.thread_ts), replied_on):
                continue
            handle, name = clients[row.channel_id]
            started = datetime.fromtimestamp(float(row.thread_ts), zone)
            waiting.setdefault(row.user_id, []).append(
                NudgeThread(
                    client=handle,
                    display_name=name,
                    channel=row.channel_id,
                    thread_ts=row.thread_ts,
                    started=f"{started:%H:%M}" if started.date() == day else f"{started:%d %b %H:%M}",
                )
            )
        for user_id, open_threads in waiting.items():
            if not _still_staff(ctx, uow, user_id):
                continue
            reminder = Nudge(user=user_id, date=day.isoformat(), count=len(open_threads), threads=tuple(open_threads))
            people += queue(uow, ctx, reminder, None, f"nudge:{user_id}:{day.isoformat()}", only_slack=user_id)
            threads += len(open_threads)
        # what was kept served this nudge only (later days' rows, if the job runs late, stay)
        uow.nudges.forget(before=end)
        uow.commit()
    return f"{people} people nudged about {threads} threads without time"
