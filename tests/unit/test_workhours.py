"""Working hours and after-hours detection (pure): days, ranges past midnight, and the client's own
clock across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import ParseError
from bot.domain.fields import parse_clock
from bot.domain.grammar import parse_command
from bot.domain.workhours import after_hours, parse_work_hours, stored_work_hours

OFFICE = parse_work_hours("mon-fri", "08:00-18:00")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("local", "outside"),
    [
        (datetime(2026, 11, 30, 7, 59), True),  # Monday, before the day starts
        (datetime(2026, 11, 30, 8, 0), False),  # the first minute is in
        (datetime(2026, 11, 30, 17, 59), False),
        (datetime(2026, 11, 30, 18, 0), True),  # the end is out
        (datetime(2026, 11, 28, 11, 0), True),  # Saturday
    ],
)
def test_office_hours(local: datetime, outside: bool) -> None:
    assert after_hours(local, OFFICE) is outside


def test_a_night_shift_belongs_to_the_day_it_starts() -> None:
    nights = parse_work_hours("mon-fri", "22:00-06:00")
    assert nights.covers(datetime(2026, 11, 30, 23, 0))  # Monday night
    assert nights.covers(datetime(2026, 12, 1, 5, 59))  # the same shift, Tuesday morning
    assert not nights.covers(datetime(2026, 11, 30, 5, 0))  # Monday morning: Sunday's shift, none
    assert nights.covers(datetime(2026, 12, 5, 3, 0))  # Saturday morning: Friday's shift


def test_days_and_what_is_stored() -> None:
    assert str(parse_work_hours("Monday-Friday", "8:00-18:30")) == "mon-fri 08:00-18:30"
    assert str(parse_work_hours("mon,wed,fri", "09:00-17:00")) == "mon,wed,fri 09:00-17:00"
    assert str(parse_work_hours("daily", "00:00-00:00")) == "daily 00:00-00:00"
    assert stored_work_hours("mon-fri 08:00-18:00") == OFFICE
    assert stored_work_hours(None) is None and after_hours(datetime(2026, 11, 28, 3, 0), None) is False


@pytest.mark.parametrize(
    ("days", "hours"), [("weekdays", "08:00-18:00"), ("mon-fri", "8-18"), ("mon-fri", "25:00-26:00")]
)
def test_nonsense_is_refused_with_an_example(days: str, hours: str) -> None:
    with pytest.raises(ParseError) as refused:
        parse_work_hours(days, hours)
    assert "client set acme hours mon-fri 08:00-18:00" in str(refused.value)


def test_the_clients_clock_decides_across_daylight_saving() -> None:
    """12:30 UTC is 07:30 in New York before the clocks go forward (after hours) and 08:30 after
    (office hours); in November it is 07:30 again once they went back."""
    before = datetime(2026, 3, 6, 12, 30, tzinfo=UTC).astimezone(NEW_YORK)  # Friday, EST
    after = datetime(2026, 3, 9, 12, 30, tzinfo=UTC).astimezone(NEW_YORK)  # Monday, EDT
    back = datetime(2026, 11, 2, 12, 30, tzinfo=UTC).astimezone(NEW_YORK)  # Monday, EST again
    assert (before.hour, after.hour, back.hour) == (7, 8, 7)
    assert after_hours(before, OFFICE) and not after_hours(after, OFFICE) and after_hours(back, OFFICE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("22:00", (22, 0)),
        ("7:15", (7, 15)),
        ("10pm", (22, 0)),
        ("12am", (0, 0)),
        ("9:30am", (9, 30)),
        ("5", None),
        ("24:00", None),
    ],
)
def test_clock_words(text: str, expected: tuple[int, int] | None) -> None:
    found = parse_clock(text)
    assert (None if found is None else (found.hour, found.minute)) == expected


def test_at_is_read_with_a_date_and_a_type_in_any_order() -> None:
    today = datetime(2026, 11, 30).date()
    command = parse_command("logtime acme 1h yesterday at 22:00 server patching", today)
    assert (command.when, command.at.hour, command.note) == ("yesterday", 22, "server patching")  # type: ignore[union-attr]
    command = parse_command("logtime acme 1h as onsite at 7am swap", today)
    assert (command.work_type, command.at.hour, command.note) == ("onsite", 7, "swap")  # type: ignore[union-attr]
    assert parse_command("logtime acme 1h at the office", today).note == "at the office"  # type: ignore[union-attr]
