"""Timers (issue 16, part 2): one per person, in the database, logged through the same rules as any
entry, dated the day they started, with the start kept on the entry."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.errors import NotFound, ParseError, PermissionDenied, Refused
from bot.domain.roles import Standing
from bot.phrasebook import log_line
from bot.services import Actor, Context
from storage.models import Entry
from tests.helpers import balance_of, do


@pytest.fixture
def acme(ctx: Context, admin: Actor) -> str:
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "topup acme 20")
    return "acme"


def test_a_timer_logs_the_elapsed_time_with_its_start_kept(
    ctx: Context, clock: FixedClock, tech: Actor, acme: str
) -> None:
    started = clock.now()
    assert "Timer started for Acme Corp: printer fix" in do(ctx, tech, "logtime start acme printer fix").message
    clock.advance(minutes=24, seconds=10)
    shown = do(ctx, tech, "logtime timer")
    assert shown.data["minutes"] == 25 and "25m" in shown.message
    result = do(ctx, tech, "logtime stop")
    assert (result.minutes, result.note, result.work_date) == (25, "printer fix", started.date())
    with ctx.db.unit_of_work(read_only=True) as uow:
        entry = uow.session.get(Entry, result.entry_id)
        assert entry is not None and entry.started_at == started
    assert do(ctx, tech, "logtime timer").data["timer"] is None


def test_starting_another_timer_stops_and_logs_the_first_and_says_so(
    ctx: Context, clock: FixedClock, tech: Actor, acme: str, admin: Actor
) -> None:
    do(ctx, admin, "client add globex Globex")
    do(ctx, admin, "topup globex 5")
    do(ctx, tech, "logtime start acme printer")
    clock.advance(minutes=30)
    message = do(ctx, tech, "logtime start globex vpn").message
    assert "stopped and logged" in message and "30m" in message and "Timer started for Globex" in message
    assert balance_of(ctx, "acme").used_minutes == 30
    clock.advance(minutes=15)
    assert do(ctx, tech, "logtime stop done").note == "done"
    assert balance_of(ctx, "globex").used_minutes == 15


def test_a_timer_survives_a_restart(ctx: Context, clock: FixedClock, tech: Actor, acme: str) -> None:
    do(ctx, tech, "logtime start acme migration")
    clock.advance(hours=2)
    again = Context(ctx.db, Settings(), clock)  # another process, or the same one started again
    assert do(again, tech, "logtime stop").minutes == 120


def test_a_long_timer_is_logged_only_once_its_owner_confirms(
    ctx: Context, clock: FixedClock, tech: Actor, acme: str
) -> None:
    do(ctx, tech, "logtime start acme forgot to stop")
    clock.at = datetime(2026, 11, 26, 9, tzinfo=UTC)  # 18 hours later
    with pytest.raises(Refused, match="ran 18h.*stop keep.*stop 2h.*discard"):
        do(ctx, tech, "logtime stop")
    real = do(ctx, tech, "logtime stop 2h the real time")
    assert (real.minutes, real.note, real.work_date) == (120, "the real time", date(2026, 11, 25))
    do(ctx, tech, "logtime start acme overnight job")
    clock.at = datetime(2026, 11, 27, 12, tzinfo=UTC)  # 27 hours
    with pytest.raises(Refused):
        do(ctx, tech, "logtime stop")
    # more than the longest single entry even when kept: refused with the usual words, timer kept
    with pytest.raises(Refused, match="27h is more than 24h in one entry"):
        do(ctx, tech, "logtime stop keep")
    assert "Timer for Acme Corp" in do(ctx, tech, "logtime timer").message
    assert "discarded" in do(ctx, tech, "logtime discard").message
    with pytest.raises(NotFound):
        do(ctx, tech, "logtime stop")


def test_a_repeated_stop_logs_once(ctx: Context, clock: FixedClock, tech: Actor, acme: str) -> None:
    do(ctx, tech, "logtime start acme printer")
    clock.advance(minutes=10)
    do(ctx, tech, "logtime stop")
    with pytest.raises(NotFound, match="no timer running"):
        do(ctx, tech, "logtime stop")
    with ctx.db.unit_of_work(read_only=True) as uow:
        assert len(list(uow.session.scalars(select(Entry)))) == 1


def test_only_staff_start_timers(ctx: Context, acme: str) -> None:
    guest = Actor("UGUEST", "Gina", standing=Standing.GUEST)
    with pytest.raises(PermissionDenied, match="Only the MSP's staff"):
        do(ctx, guest, "logtime start acme free work")


def test_a_client_called_start_still_logs_time(ctx: Context, admin: Actor) -> None:
    do(ctx, admin, "client add start Start Ltd")
    do(ctx, admin, "topup start 5")
    assert do(ctx, admin, "logtime start 15m advice").minutes == 15


def test_start_with_a_duration_says_how_a_timer_is_started(ctx: Context, tech: Actor, acme: str) -> None:
    with pytest.raises(ParseError, match="A timer takes no duration") as caught:
        do(ctx, tech, "logtime start 2h acme")
    assert caught.value.example == "logtime acme 2h printer fix  or  logtime start acme printer fix"
    assert balance_of(ctx, "acme").used_minutes == 0


def test_a_timer_keeps_its_type_named_after_the_note(
    ctx: Context, clock: FixedClock, tech: Actor, admin: Actor, acme: str
) -> None:
    do(ctx, admin, "worktype add onsite 2")
    do(ctx, tech, "logtime start acme short as onsite")
    clock.advance(minutes=10)
    result = do(ctx, tech, "logtime stop")
    assert (result.work_type, result.note, result.billable_minutes) == ("onsite", "short", 20)


def test_a_short_timer_stopped_with_a_time_logs_it_and_says_so(
    ctx: Context, clock: FixedClock, tech: Actor, acme: str
) -> None:
    do(ctx, tech, "logtime start acme printer")
    clock.advance(seconds=20)
    result = do(ctx, tech, "logtime stop 2h")
    assert (result.minutes, result.timer_minutes) == (120, 1)
    assert "2h logged as you gave it, not the timer's 1m." in log_line(result)
    do(ctx, tech, "logtime start acme toner")
    clock.advance(minutes=5)
    assert do(ctx, tech, "logtime stop").timer_minutes is None  # as it ran: nothing to say


def test_a_timer_stopped_from_the_cli_is_stored_as_cli(ctx: Context, clock: FixedClock, tech: Actor, acme: str) -> None:
    do(ctx, tech, "logtime start acme printer")
    clock.advance(minutes=5)
    result = do(ctx, tech, "logtime stop")  # run() as the CLI and the console call it
    with ctx.db.unit_of_work(read_only=True) as uow:
        entry = uow.session.get(Entry, result.entry_id)
        assert entry is not None and entry.source == "cli"


def test_entries_show_a_timer_entrys_start(ctx: Context, clock: FixedClock, tech: Actor, acme: str) -> None:
    started = clock.now()
    do(ctx, tech, "logtime start acme printer")
    clock.advance(minutes=5)
    do(ctx, tech, "logtime stop")
    do(ctx, tech, "logtime acme 10m typed")
    views = do(ctx, tech, "entries acme").entries
    shown = [v.as_dict()["started_at"] for v in views]
    assert shown[1] is None and datetime.fromisoformat(shown[0]) == started
