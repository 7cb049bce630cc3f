"""Timers: ``/logtime start acme printer fix`` ... ``/logtime stop``. One runs per person, kept in the
database so it survives restarts and several processes. Stopping logs the elapsed time through the
same ``log_time`` as any entry (the client's policy, roles and rules apply), dated the day it started,
with its start time kept on the entry. A timer that ran longer than ``BLOCKTIME_TIMER_CONFIRM_HOURS``
is logged only once its owner confirms the time (``stop keep``) or gives the real one (``stop 2h``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.commands import LogTime, TimerDiscard, TimerShow, TimerStart, TimerStop
from bot.domain.durations import elapsed_minutes, format_duration
from bot.domain.errors import NotFound, Refused
from bot.domain.notices import TimerCheck
from bot.domain.roles import Role, require
from bot.services.alerts import queue
from bot.services.context import Actor, Context, client_named
from bot.services.dispatch import serves
from bot.services.hours import log_time
from bot.services.results import LogResult, Message
from storage.db import UnitOfWork
from storage.repos import Client, Timer


def start_timer(
    ctx: Context, actor: Actor, command: TimerStart, client_id: int | None, source: str = "slack"
) -> Message:
    """Start a timer; one already running is stopped and logged first, and the answer says so."""
    stopped = None
    with ctx.db.unit_of_work(read_only=True) as uow:
        require(ctx.role(uow, actor), Role.TECHNICIAN, "start timers")
        running = uow.timers.of(actor.user_id)
        client: Client | None = None
        if command.client is not None:
            client = client_named(uow, command.client, allow_archived=False)
        elif client_id is not None:
            client = uow.clients.by_id(client_id)
        if client is None:
            raise Refused("Say which client the timer is for.", "logtime start acme printer fix")
        target = (client.id, client.display_name)
    if running is not None:
        stopped = stop_timer(ctx, actor, TimerStop(), source)
    started = ctx.now()
    with ctx.db.unit_of_work() as uow:
        uow.timers.start(actor.user_id, actor.label, target[0], command.note, command.work_type, started)
        uow.commit()
    text = f"Timer started for {target[1]}" + (f": {command.note}" if command.note else "") + "."
    if stopped is not None:
        text = f"Your running timer was stopped and logged: #{stopped.entry_id}, {stopped.typed}. " + text
    return Message(
        text + " Stop it with `/logtime stop`.",
        {"client_id": target[0], "timer": "running", "started_at": started.isoformat()},
    )


class TimerGone(NotFound):
    """The timer a button (or a stop) was for is no longer running: stopped, logged or discarded."""


def _running(uow: UnitOfWork, actor: Actor, started_at: datetime | None) -> Timer:
    """The actor's running timer; from a button, only the one that button was for."""
    timer = uow.timers.of(actor.user_id)
    if timer is None or (started_at is not None and timer.started_at != started_at):
        if started_at is None:
            raise NotFound("You have no timer running.", "logtime start acme printer fix")
        raise TimerGone("That timer is no longer running: it was stopped or discarded already.")
    return timer


def _timer_key(user_id: str, started: datetime) -> str:
    # keyed by the timer: a stop that is repeated (or retried after a crash) logs it once
    return f"timer:{user_id}:{started.isoformat()}"


def _gone_if_logged(ctx: Context, actor: Actor, started: datetime) -> None:
    """Raise ``TimerGone`` when this timer's entry exists already: another stop with other figures (a
    **Keep** racing **Enter the real time**, or one whose clean-up did not happen) logged it; the timer
    is cleared. The same stop repeated is answered by ``log_time`` with the first entry instead."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        logged = uow.entries.by_key(_timer_key(actor.user_id, started))
        entry_id = logged.id if logged is not None else None
    if entry_id is None:
        return
    with ctx.db.unit_of_work() as uow:
        uow.timers.remove(actor.user_id, started)
        uow.commit()
    raise TimerGone(f"That timer is no longer running: it was stopped and logged already (entry #{entry_id}).")


def stop_timer(ctx: Context, actor: Actor, command: TimerStop, source: str = "slack") -> LogResult:
    """Log the running timer's time: as it ran, or the real time given (``stop 2h``), which the reply
    then sets beside the timer's own (a short timer's override is taken, and said, never silent)."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        timer = _running(uow, actor, command.started_at)
        client = uow.clients.by_id(timer.client_id)
        assert client is not None
        started, note, work_type, handle, zone = (
            timer.started_at,
            timer.note,
            timer.work_type,
            client.handle,
            client.timezone,
        )
    ran = elapsed_minutes(started, ctx.now())
    limit = ctx.settings.timer_confirm_hours * 60
    if ran > limit and command.minutes is None and not command.keep:
        raise Refused(
            f"This timer ran {format_duration(ran)}, more than {format_duration(limit)}: was it left running? "
            "Log it as it ran with `/logtime stop keep`, give the real time with `/logtime stop 2h`, or "
            "throw it away with `/logtime discard`.",
            "logtime stop 2h",
        )
    minutes = command.minutes or ran
    longest = ctx.settings.max_entry_minutes
    if minutes > longest:
        raise Refused(
            f"{format_duration(minutes)} is more than {format_duration(longest)} in one entry: give the real time "
            "(`/logtime stop 8h`), or discard the timer and log the work in several entries.",
            "logtime stop 8h",
        )
    entry = LogTime(
        handle,
        minutes,
        format_duration(minutes),
        started.astimezone(ZoneInfo(zone)).date().isoformat(),  # the day the work started
        note if command.note is None else command.note,
        work_type=work_type,
        started_at=started,
    )
    try:
        result = log_time(ctx, actor, entry, source=source, idempotency_key=_timer_key(actor.user_id, started))
    except Refused:
        _gone_if_logged(ctx, actor, started)  # logged meanwhile with other figures, not "request id used"
        raise
    with ctx.db.unit_of_work() as uow:
        uow.timers.remove(actor.user_id, started)
        uow.commit()
    return result if minutes == ran else replace(result, timer_minutes=ran)


@serves(TimerShow)
def show_timer(ctx: Context, actor: Actor, command: TimerShow) -> Message:
    with ctx.db.unit_of_work(read_only=True) as uow:
        timer = uow.timers.of(actor.user_id)
        if timer is None:
            return Message("No timer running. Start one with `/logtime start acme printer fix`.", {"timer": None})
        client = uow.clients.by_id(timer.client_id)
        assert client is not None
        ran = elapsed_minutes(timer.started_at, ctx.now())
        since = timer.started_at.astimezone(ZoneInfo(client.timezone))
        return Message(
            f"Timer for {client.display_name}: {format_duration(ran)} since {since:%H:%M}"
            + (f" ({timer.note})" if timer.note else "")
            + ". Stop it with `/logtime stop`.",
            {"timer": "running", "client": client.handle, "minutes": ran, "started_at": timer.started_at.isoformat()},
        )


@serves(TimerDiscard)
def discard_timer(ctx: Context, actor: Actor, command: TimerDiscard) -> Message:
    with ctx.db.unit_of_work() as uow:
        timer = _running(uow, actor, command.started_at)
        uow.timers.remove(actor.user_id, timer.started_at)
        uow.commit()
    return Message("Timer discarded; nothing was logged.", {"timer": None})


def ask_about_long_timers(ctx: Context) -> int:
    """DM the owner of each timer that ran past ``BLOCKTIME_TIMER_CONFIRM_HOURS``: keep it, give the real
    time, or discard it. Once per timer, across processes (the outbox's key); returns DMs queued."""
    limit = ctx.settings.timer_confirm_hours * 60
    now = ctx.now()
    asked = 0
    with ctx.db.unit_of_work() as uow:
        rows = uow.timers.started_before(now - timedelta(minutes=limit))
        for timer, client in rows:
            since = timer.started_at.astimezone(ZoneInfo(client.timezone))
            check = TimerCheck(
                user=timer.user_id,
                client=client.handle,
                display_name=client.display_name,
                minutes=elapsed_minutes(timer.started_at, now),
                since=f"{since:%a %d %b %H:%M}",
                started_at=timer.started_at.isoformat(),
            )
            key = f"timer_check:{timer.user_id}:{timer.started_at.isoformat()}"
            asked += queue(uow, ctx, check, client, key, only_slack=timer.user_id)
        uow.commit()
    return asked
