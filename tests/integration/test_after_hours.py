"""After hours (issue 16, part 4): outside a client's working hours, in the client's time zone, work
whose time of day is known (``at 22:00``, a timer, a thread message) is billed as
BLOCKTIME_AFTER_HOURS_TYPE; a type named on the entry wins."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.commands import LogTime
from bot.domain.errors import ParseError, Refused
from bot.phrasebook import log_line
from bot.services import Actor, Context, hours
from tests.helpers import balance_of, do

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def settings() -> Settings:
    return Settings(admins=frozenset({"UADMIN"}), after_hours_type="afterhours")


@pytest.fixture
def acme(ctx: Context, admin: Actor) -> str:
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "topup acme 20")
    do(ctx, admin, "worktype add afterhours 2")
    do(ctx, admin, "worktype add onsite 1.5")
    do(ctx, admin, "client set acme timezone Europe/Berlin hours mon-fri 08:00-18:00")
    return "acme"


def test_at_outside_the_clients_hours_bills_the_after_hours_type(ctx: Context, tech: Actor, acme: str) -> None:
    # the clock: Wednesday 2026-11-25 15:00 UTC = 16:00 in Berlin
    late = do(ctx, tech, "logtime acme 1h yesterday at 22:00 server patching")
    assert (late.work_type, late.minutes, late.billable_minutes) == ("afterhours", 60, 120)
    assert late.after_hours == "after hours (Tue 22:00, outside mon-fri 08:00-18:00)"
    assert "after hours" in log_line(late)
    office = do(ctx, tech, "logtime acme 1h at 09:30 printer")
    assert (office.work_type, office.billable_minutes, office.after_hours) == ("standard", 60, None)
    unknown = do(ctx, tech, "logtime acme 30m printer")  # no time of day: never guessed
    assert unknown.work_type == "standard"
    named = do(ctx, tech, "logtime acme 1h yesterday at 22:00 as onsite cabling")  # a named type wins
    assert (named.work_type, named.billable_minutes, named.after_hours) == ("onsite", 90, None)
    assert balance_of(ctx, "acme").used_minutes == 120 + 60 + 30 + 90


def test_a_time_still_to_come_is_refused(ctx: Context, tech: Actor, acme: str) -> None:
    with pytest.raises(Refused) as refused:
        do(ctx, tech, "logtime acme 1h at 22:00 server patching")  # 22:00 today in Berlin is hours away
    assert "still to come" in str(refused.value)
    assert balance_of(ctx, "acme").used_minutes == 0


def test_a_timer_started_after_hours_is_after_hours_work(
    ctx: Context, clock: FixedClock, tech: Actor, acme: str
) -> None:
    clock.at = datetime(2026, 11, 28, 10, 0, tzinfo=BERLIN)  # a Saturday
    do(ctx, tech, "logtime start acme weekend outage")
    clock.advance(minutes=45)
    stopped = do(ctx, tech, "logtime stop")
    assert (stopped.work_type, stopped.minutes, stopped.billable_minutes) == ("afterhours", 45, 90)


def test_a_slack_message_time_is_read_on_the_clients_clock(ctx: Context, tech: Actor, acme: str) -> None:
    # 17:30 UTC is 18:30 in Berlin (after hours) but within hours in London
    moment = datetime(2026, 11, 24, 17, 30, tzinfo=UTC)
    logged = hours.log_time(ctx, tech, LogTime("acme", 30, "30m", None, "vpn", moment=moment), source="thread")
    assert (logged.work_type, logged.billable_minutes) == ("afterhours", 60)
    do(ctx, Actor.local_admin(), "client set acme timezone Europe/London")
    logged = hours.log_time(ctx, tech, LogTime("acme", 30, "30m", None, "vpn", moment=moment), source="thread")
    assert (logged.work_type, logged.billable_minutes) == ("standard", 30)


def test_an_after_hours_type_that_does_not_exist_refuses_rather_than_bills_standard(
    ctx: Context, tech: Actor, acme: str
) -> None:
    ctx.settings = replace(ctx.settings, after_hours_type="nights")
    with pytest.raises(Refused) as refused:
        do(ctx, tech, "logtime acme 1h yesterday at 22:00 patching")
    assert "BLOCKTIME_AFTER_HOURS_TYPE" in str(refused.value) and "as standard" in str(refused.value)
    assert do(ctx, tech, "logtime acme 1h yesterday at 22:00 as standard patching").billable_minutes == 60


def test_without_the_setting_the_time_of_day_changes_nothing(ctx: Context, tech: Actor, acme: str) -> None:
    ctx.settings = replace(ctx.settings, after_hours_type=None)
    assert do(ctx, tech, "logtime acme 1h yesterday at 22:00 patching").work_type == "standard"
    with pytest.raises(Refused):  # a time still to come is refused whichever writer would store it
        do(ctx, tech, "logtime acme 1h at 23:59 patching")


def test_working_hours_are_a_client_setting(ctx: Context, admin: Actor, acme: str) -> None:
    shown = do(ctx, admin, "client show acme")
    assert shown.work_hours == "mon-fri 08:00-18:00"
    assert do(ctx, admin, "client set acme hours none").work_hours is None
    with pytest.raises(ParseError):
        do(ctx, admin, "client set acme hours weekdays 8-18")
    with pytest.raises(ParseError):
        do(ctx, admin, "edit 1 1h at 22:00")


def test_the_same_utc_time_is_office_hours_only_once_the_clocks_went_forward(
    ctx: Context, tech: Actor, admin: Actor, acme: str
) -> None:
    """New York: 12:30 UTC is 07:30 on Friday 6 March (EST, after hours) and 08:30 on Monday 9 March
    (EDT, office hours)."""
    do(ctx, admin, "client set acme timezone America/New_York")
    friday = datetime(2026, 3, 6, 12, 30, tzinfo=UTC)
    monday = datetime(2026, 3, 9, 12, 30, tzinfo=UTC)
    for moment, expected in ((friday, "afterhours"), (monday, "standard")):
        logged = hours.log_time(ctx, tech, LogTime("acme", 30, "30m", None, "patching", moment=moment), source="thread")
        assert logged.work_type == expected, moment
