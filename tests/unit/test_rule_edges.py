"""The edges of the small rules: thresholds, working hours, block allocation and closing, durations as
shown and billed. Each case sits on a boundary, where an off-by-one would change what a client is told
or billed."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from bot.domain.allocation import BlockState, Draw, allocate, closed_on, closing_day, in_grace
from bot.domain.commands import Help, LogTime, fingerprint
from bot.domain.durations import (
    as_recorded,
    billable_causes,
    billable_minutes,
    elapsed_minutes,
    format_duration,
    format_hours,
    hours_column,
    looks_like_duration,
    parse_duration,
    take_duration,
)
from bot.domain.errors import DomainError, ParseError
from bot.domain.thresholds import (
    Crossing,
    Threshold,
    alert_crossing,
    crossing,
    lowest_above_zero,
    parse_thresholds,
    percent_left,
)
from bot.domain.workhours import WorkHours, parse_work_hours, stored_work_hours

TODAY = date(2026, 11, 25)

# thresholds


def test_a_percentage_threshold_sits_at_whole_minutes_rounded_down() -> None:
    assert Threshold(percent=25).level(90) == 22
    assert Threshold(percent=10).level(5) == 0


@pytest.mark.parametrize(
    ("text", "thresholds"),
    [
        ("0%,100%", (Threshold(percent=0), Threshold(percent=100))),
        ("0, 0h ,0m", (Threshold(minutes=0),) * 3),
        ("50%,,2h", (Threshold(percent=50), Threshold(minutes=120))),
        ("166666h", (Threshold(minutes=9_999_960),)),
    ],
)
def test_thresholds_as_typed(text: str, thresholds: tuple[Threshold, ...]) -> None:
    assert parse_thresholds(text) == thresholds


@pytest.mark.parametrize(
    ("text", "why"), [("101%", "is not a percentage"), ("٥٠%", "is not a percentage"), (",", "No thresholds given.")]
)
def test_thresholds_refused(text: str, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        parse_thresholds(text)


def test_the_low_mark_is_the_lowest_level_above_zero() -> None:
    thresholds = (Threshold(percent=50), Threshold(minutes=1), Threshold(minutes=0))
    assert lowest_above_zero(thresholds, 600) == Threshold(minutes=1)
    assert lowest_above_zero((Threshold(minutes=0),), 600) is None


def test_reaching_a_threshold_exactly_crosses_it() -> None:
    thresholds = (Threshold(minutes=60),)
    assert crossing(61, 60, thresholds, 600) == Crossing(Threshold(minutes=60), 60, 61, 60)
    assert crossing(60, 59, thresholds, 600) is None
    assert crossing(60, 60, thresholds, 600) is None


def test_every_overdraft_step_below_zero_is_a_level_reached_exactly() -> None:
    thresholds = (Threshold(minutes=0),)
    assert crossing(0, -60, thresholds, 600, overdraft_step=60) == Crossing(Threshold(minutes=-60), -60, 0, -60)
    assert crossing(-60, -119, thresholds, 600, overdraft_step=60) is None
    assert crossing(-119, -181, thresholds, 600, overdraft_step=60) == Crossing(
        Threshold(minutes=-180), -180, -119, -181
    )
    assert crossing(30, -30, thresholds, 600, overdraft_step=60) == Crossing(Threshold(minutes=0), 0, 30, -30)
    assert crossing(0, -1, thresholds, 600, overdraft_step=1) == Crossing(Threshold(minutes=-1), -1, 0, -1)
    assert crossing(0, -59, thresholds, 600, overdraft_step=0) is None


# working hours

OFFICE = WorkHours(frozenset(range(5)), time(8, 0), time(18, 0))
NIGHTS = WorkHours(frozenset({0}), time(22, 0), time(6, 0))  # Monday night


@pytest.mark.parametrize(
    ("local", "covered"),
    [
        (datetime(2026, 11, 23, 8, 0), True),  # Monday at the start
        (datetime(2026, 11, 23, 7, 59, 59), False),
        (datetime(2026, 11, 23, 17, 59, 59), True),  # seconds do not count
        (datetime(2026, 11, 23, 18, 0, 0, 1), False),
        (datetime(2026, 11, 28, 10, 0), False),  # Saturday
    ],
)
def test_office_hours_start_inclusive_end_exclusive(local: datetime, covered: bool) -> None:
    assert OFFICE.covers(local) is covered


@pytest.mark.parametrize(
    ("local", "covered"),
    [
        (datetime(2026, 11, 23, 22, 0), True),  # Monday 22:00
        (datetime(2026, 11, 23, 21, 59), False),
        (datetime(2026, 11, 24, 5, 59), True),  # Tuesday morning, Monday's shift
        (datetime(2026, 11, 24, 6, 0), False),
        (datetime(2026, 11, 24, 22, 0), False),  # Tuesday night: no shift
        (datetime(2026, 11, 23, 3, 0), False),  # Monday morning: Sunday's shift, none
    ],
)
def test_a_night_shift_runs_past_midnight(local: datetime, covered: bool) -> None:
    assert NIGHTS.covers(local) is covered


def test_a_sunday_night_shift_ends_on_monday() -> None:
    sunday = WorkHours(frozenset({6}), time(22, 0), time(6, 0))
    assert sunday.covers(datetime(2026, 11, 23, 5, 0))  # Monday 05:00


def test_a_range_from_midnight_to_midnight_is_the_whole_day() -> None:
    whole = WorkHours(frozenset({2}), time(0, 0), time(0, 0))
    assert whole.covers(datetime(2026, 11, 25, 23, 59)) and not whole.covers(datetime(2026, 11, 26, 0, 0))


@pytest.mark.parametrize(
    ("days", "stored"),
    [
        ("daily", "daily 08:00-18:00"),
        ("ALL", "daily 08:00-18:00"),
        ("*", "daily 08:00-18:00"),
        ("mon,tue", "mon,tue 08:00-18:00"),
        ("mon-wed", "mon-wed 08:00-18:00"),
        ("sat-mon", "mon,sat,sun 08:00-18:00"),
        ("fri-thu", "daily 08:00-18:00"),
        ("tue-thu,sat", "tue,wed,thu,sat 08:00-18:00"),
    ],
)
def test_working_days_as_stored(days: str, stored: str) -> None:
    hours = parse_work_hours(days, "08:00-18:00")
    assert str(hours) == stored
    assert stored_work_hours(stored) == hours


@pytest.mark.parametrize(
    ("days", "hours"), [("mon-xyz", "08:00-18:00"), ("mon", "08:00"), ("mon", "-18:00"), ("mon", "08:00-")]
)
def test_working_hours_refused(days: str, hours: str) -> None:
    with pytest.raises(ParseError):
        parse_work_hours(days, hours)


def test_no_stored_hours() -> None:
    assert stored_work_hours(None) is None and stored_work_hours("") is None


# blocks


def test_a_block_closes_after_its_grace_days() -> None:
    expiry = date(2026, 11, 20)
    assert closing_day(expiry, 3) == date(2026, 11, 23)
    assert not closed_on(expiry, date(2026, 11, 23), 3) and closed_on(expiry, date(2026, 11, 24), 3)
    assert not closed_on(None, TODAY, 0)
    assert in_grace(expiry, date(2026, 11, 21), 3) and not in_grace(expiry, expiry, 3)
    assert not in_grace(expiry, date(2026, 11, 24), 3) and not in_grace(None, TODAY, 3)


def test_late_work_draws_from_its_dates_block_then_todays_counted_as_from_later_blocks() -> None:
    old = BlockState(1, 30, date(2026, 10, 1), date(2026, 10, 31))
    current = BlockState(2, 60, date(2026, 11, 1), None)
    newer = BlockState(3, 60, date(2026, 11, 2), None)
    allocation = allocate(120, [current, old, newer], TODAY, work_date=date(2026, 10, 15))
    assert allocation.draws == (Draw(1, 30), Draw(2, 60), Draw(3, 30))
    assert (allocation.overage, allocation.from_later_blocks) == (0, 90)
    today = allocate(30, [old, current], TODAY)
    assert (today.draws, today.from_later_blocks) == ((Draw(2, 30),), 0)


def test_work_of_no_minutes_draws_nothing() -> None:
    allocation = allocate(0, [BlockState(1, 30, date(2026, 11, 1), None)], TODAY)
    assert (allocation.draws, allocation.overage, allocation.from_later_blocks) == ((), 0, 0)


def test_negative_minutes_are_not_allocated() -> None:
    with pytest.raises(ValueError):
        allocate(-1, [], TODAY)


# durations


def test_a_long_duration_is_refused_with_the_longest_as_the_example() -> None:
    with pytest.raises(ParseError) as refused:
        parse_duration("10h", 9 * 60)
    assert refused.value.example == "8h"
    with pytest.raises(ParseError) as refused:
        parse_duration("3h", 90)
    assert refused.value.example == "1h 30m"


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("12", "12h or 12m"),
        ("13", "13m"),
        ("90", "90m or 1.5h"),
        ("120", "120m or 2h"),
        ("100", "100m"),
        ("28", "28m"),
        ("12.5", "12.5m"),
    ],
)
def test_a_bare_number_suggests_its_likelier_unit(typed: str, hint: str) -> None:
    with pytest.raises(ParseError) as refused:
        parse_duration(typed)
    assert f"add a unit: {hint}." in refused.value.message


@pytest.mark.parametrize(("typed", "minutes"), [("+15m", 15), ("+ 1h", 60), ("1:59", 119), ("2h59", 179)])
def test_durations_at_the_edges(typed: str, minutes: int) -> None:
    assert parse_duration(typed) == minutes


@pytest.mark.parametrize("typed", ["1:60", "2h60"])
def test_sixty_minutes_is_no_minute_part(typed: str) -> None:
    assert not looks_like_duration(typed)


def test_looks_like_a_duration_after_a_plus() -> None:
    assert looks_like_duration(" +15m ") and not looks_like_duration("15m+")


def test_a_duration_of_up_to_four_words_at_the_front() -> None:
    assert take_duration(["1", "hr", "15", "mins", "x"]) == (75, "1 hr 15 mins", ["x"])
    assert take_duration(["1", "h", "15", "m", "5", "x"]) == (75, "1 h 15 m", ["5", "x"])
    assert take_duration(["25h"], 25 * 60) == (1500, "25h", [])
    assert take_duration(["25", "h"], 25 * 60) == (1500, "25 h", [])
    with pytest.raises(ParseError, match="A duration is missing."):
        take_duration([])


@pytest.mark.parametrize(
    ("typed", "minutes", "shown"),
    [
        ("0.33h", 20, "0.33h → 20m"),
        ("+0.33h", 20, "+0.33h → 20m"),
        ("1.5h", 90, "1.5h"),
        ("1h 0.5m", 61, "1h 0.5m → 1h 1m"),
        ("0.5m", 1, "0.5m → 1m"),
        ("90m", 90, "90m"),
        ("2h", 125, "2h"),
        ("1:30", 90, "1:30"),
    ],
)
def test_a_reply_shows_what_was_recorded(typed: str, minutes: int, shown: str) -> None:
    assert as_recorded(typed, minutes) == shown


@pytest.mark.parametrize(("minutes", "text"), [(-15, "-15m"), (-90, "-1h 30m"), (0, "0m"), (120, "2h")])
def test_a_duration_as_shown(minutes: int, text: str) -> None:
    assert format_duration(minutes) == text


def test_an_hours_column_rounds_half_up_and_keeps_the_total() -> None:
    assert hours_column([1, 2]) == ["0.02", "0.03"]  # 0.0167 -> 0.02, then 0.05 in all
    assert hours_column([3] * 20) == ["0.05"] * 20
    assert hours_column([600]) == ["10"]
    assert hours_column([30, 30], groups=["a", "b"]) == ["0.5", "0.5"]
    with pytest.raises(ValueError):
        hours_column([30, 30], groups=["a"])


@pytest.mark.parametrize(
    ("minutes", "rounding", "multiplier", "billed"),
    [
        (10, 0, Decimal("1.5"), 15),
        (10, 1, Decimal("1.05"), 11),  # a part of a minute counts as a minute
        (10, 2, Decimal(1), 10),
        (11, 2, Decimal(1), 12),
        (7, 15, Decimal("0.5"), 15),
    ],
)
def test_billing_weights_then_rounds_up(minutes: int, rounding: int, multiplier: Decimal, billed: int) -> None:
    assert billable_minutes(minutes, rounding, 0, multiplier=multiplier) == billed


def test_the_causes_of_a_bill_other_than_the_time_worked() -> None:
    assert billable_causes(10, 20, 30, multiplier=Decimal("1.5")) == (
        "the ×1.5 rate",
        "rounding up to 20m",
        "the 30m minimum",
    )
    assert billable_causes(15, 15, 15) == ()
    assert billable_causes(10, 15, 30, non_billable=True) == ()


# figures shown to people


def test_the_share_of_hours_left() -> None:
    assert percent_left(150, 600) == 25
    assert percent_left(1, 600) == 0  # rounded down: 1 minute of 10h is not yet 1 %
    assert percent_left(700, 600) == 100  # never more than all
    assert percent_left(0, 600) == 0 and percent_left(-30, 600) == 0
    assert percent_left(1, 1) == 100
    assert percent_left(30, 0) is None  # no current block to be a share of


def test_a_snoozed_client_is_not_alerted_until_the_snooze_ends() -> None:
    thresholds = (Threshold(minutes=0),)
    now = datetime(2026, 11, 25, 12, 0)
    expected = Crossing(Threshold(minutes=-60), -60, 30, -60)
    assert alert_crossing(30, -60, thresholds, 600, 60, None, now) == expected
    assert alert_crossing(30, -60, thresholds, 600, 60, now, now) == expected
    assert alert_crossing(30, -60, thresholds, 600, 60, datetime(2026, 11, 25, 12, 1), now) is None


@pytest.mark.parametrize(
    ("minutes", "hours"), [(90, "1.5"), (60, "1"), (20, "0.33"), (1, "0.02"), (0, "0"), (-45, "-0.75")]
)
def test_minutes_as_decimal_hours(minutes: int, hours: str) -> None:
    assert format_hours(minutes) == hours


def test_a_timer_counts_each_begun_minute_and_at_least_one() -> None:
    start = datetime(2026, 11, 25, 9, 0)
    assert elapsed_minutes(start, start) == 1
    assert elapsed_minutes(start, datetime(2026, 11, 25, 9, 0, 1)) == 1
    assert elapsed_minutes(start, datetime(2026, 11, 25, 9, 1, 0)) == 1
    assert elapsed_minutes(start, datetime(2026, 11, 25, 9, 1, 1)) == 2
    assert elapsed_minutes(start, datetime(2026, 11, 25, 11, 30)) == 150


def test_a_block_is_expired_the_day_after_its_expiry() -> None:
    block = BlockState(1, 60, date(2026, 11, 1), date(2026, 11, 25))
    assert not block.expired_on(date(2026, 11, 25)) and block.expired_on(date(2026, 11, 26))
    assert not BlockState(2, 60, date(2026, 11, 1), None).expired_on(date(2099, 1, 1))


def test_a_used_up_block_pays_nothing_and_a_block_with_one_minute_pays_it() -> None:
    used, one, other = (
        BlockState(1, 0, date(2026, 11, 1), date(2026, 11, 30)),
        BlockState(2, 1, date(2026, 11, 1), date(2026, 12, 30)),
        BlockState(3, 60, date(2026, 11, 1), None),
    )
    assert allocate(30, [used, one, other], TODAY).draws == (Draw(2, 1), Draw(3, 29))


def test_the_same_command_has_the_same_fingerprint_and_another_another() -> None:
    assert fingerprint(LogTime("acme", 15, "15m", None, "fix")) == fingerprint(LogTime("acme", 15, "15m", None, "fix"))
    assert fingerprint(LogTime("acme", 15, "15m", None, "fix")) != fingerprint(LogTime("acme", 30, "30m", None, "fix"))
    assert len(fingerprint(Help())) == 64


def test_an_error_without_an_example_reads_as_its_message() -> None:
    assert str(DomainError("No hours left.")) == "No hours left."
    assert str(DomainError("No hours left.", "topup acme 10")) == "No hours left.\nExample: topup acme 10"


@pytest.mark.parametrize(("typed", "minutes", "shown"), [("0.5h 30m", 60, "0.5h 30m"), ("1.0m", 1, "1.0m")])
def test_decimal_hours_that_come_out_whole_show_as_typed(typed: str, minutes: int, shown: str) -> None:
    assert as_recorded(typed, minutes) == shown
