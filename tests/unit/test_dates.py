"""Work dates and report periods (``bot.domain.dates``): the day each phrase names against a given
today, what is refused, and the months of reports."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.dates import (
    DatePhrase,
    Period,
    add_months,
    date_phrase_at,
    long_day,
    month_start,
    parse_iso_date,
    parse_period,
    parse_work_date,
    recorded_day,
    recorded_words,
)
from bot.domain.errors import ParseError

TODAY = date(2026, 11, 25)  # a Wednesday


def refused(text: str, today: date = TODAY) -> str:
    with pytest.raises(ParseError) as error:
        parse_work_date(text, today)
    return error.value.message


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("today", TODAY),
        ("Today", TODAY),
        ("yesterday", date(2026, 11, 24)),
        ("wednesday", TODAY),
        ("mon", date(2026, 11, 23)),
        ("thursday", date(2026, 11, 19)),
        ("last wednesday", date(2026, 11, 18)),
        ("last tuesday", date(2026, 11, 24)),
        ("last thu", date(2026, 11, 19)),
        ("a day ago", date(2026, 11, 24)),
        ("an day ago", date(2026, 11, 24)),
        ("one week ago", date(2026, 11, 18)),
        ("a week ago", date(2026, 11, 18)),
        ("3 days ago", date(2026, 11, 22)),
        ("2 weeks ago", date(2026, 11, 11)),
        ("1 day ago", date(2026, 11, 24)),
        ("2026-11-20", date(2026, 11, 20)),
        ("27 oct", date(2026, 10, 27)),
        ("oct 27th", date(2026, 10, 27)),
        ("25 nov", TODAY),
        ("26 nov", date(2025, 11, 26)),
        ("29 feb", date(2024, 2, 29)),
        ("11/20", date(2026, 11, 20)),
        ("20/11", date(2026, 11, 20)),
        ("13.11.2026", date(2026, 11, 13)),
        ("13.11.26", date(2026, 11, 13)),
        ("2026/11/20", date(2026, 11, 20)),
        ("12/31", date(2025, 12, 31)),
        ("30/11/2025", date(2025, 11, 30)),
        ("11/13/2026", date(2026, 11, 13)),
        ("1/13", date(2026, 1, 13)),
        ("31/1", date(2026, 1, 31)),
    ],
)
def test_the_day_a_phrase_names(text: str, day: date) -> None:
    assert parse_work_date(text, TODAY) == day


@pytest.mark.parametrize(
    "text",
    [
        "printer",
        "3 months ago",
        "3 days",
        "days ago",
        "1.5",
        "50/50",
        "0/1",
        "13/13",
        "1 2 3 4",
        "two days ago",
        "12/32",
    ],
)
def test_words_that_name_no_date(text: str) -> None:
    assert parse_work_date(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("tomorrow", "`tomorrow` is in the future"),
        ("next friday", "`next friday` is in the future"),
        ("last week", "`last week` names no single day"),
        ("this month", "`this month` names no single day"),
        ("next year", "`next year` names no single day"),
        ("11/12", "`11/12` could be 12 Nov or 11 Dec: use 2026-11-12 or 2026-12-11."),
        ("2026/11", "is not a date I understand"),
        ("2026/02/30", "`2026/02/30` is not a real date."),
        ("31/02", "`31/02` is not a real date."),
        ("31 feb", "`31 feb` is not a real date."),
        ("feb 31", "`feb 31` is not a real date."),
        ("2026-02-30", "`2026-02-30` is not a real date."),
        ("11/26/2026", "in the future"),
        ("2 days ago tomorrow", None),
    ],
)
def test_a_date_ahead_impossible_or_two_way_is_refused(text: str, why: str | None) -> None:
    if why is None:
        assert parse_work_date(text, TODAY) is None
        return
    assert why in refused(text)


def test_a_two_way_date_offers_the_first_day_as_the_example() -> None:
    with pytest.raises(ParseError) as error:
        parse_work_date("11/12", TODAY)
    assert error.value.example == "2026-11-12"


def test_a_future_date_is_refused_as_typed() -> None:
    assert refused(" 2026-12-01 ") == "`2026-12-01` is in the future; time is logged for work already done."


def test_a_day_and_month_ahead_this_year_is_last_years() -> None:
    assert parse_work_date("12/25", TODAY) == date(2025, 12, 25)
    assert parse_work_date("11/25", TODAY) == TODAY


def test_a_day_of_month_looks_back_up_to_eight_years() -> None:
    assert parse_work_date("29 feb", date(2031, 1, 1)) == date(2028, 2, 29)
    assert "`29 feb` is not a real date." in refused("29 feb", date(2104, 1, 1))  # 2096 is nine years back


# among a command's words


def test_a_phrase_at_the_front_with_its_width() -> None:
    assert date_phrase_at(["on", "friday", "fix"], TODAY) == DatePhrase(date(2026, 11, 20), "friday", 2)
    assert date_phrase_at(["3", "days", "ago", "fix"], TODAY) == DatePhrase(date(2026, 11, 22), "3 days ago", 3)
    assert date_phrase_at(["(yesterday),", "fix"], TODAY) == DatePhrase(date(2026, 11, 24), "yesterday", 1)
    assert date_phrase_at(["Yesterday.", "fix"], TODAY) == DatePhrase(date(2026, 11, 24), "yesterday", 1)
    assert date_phrase_at(["last", "friday"], TODAY) == DatePhrase(date(2026, 11, 20), "last friday", 2)


def test_on_alone_is_no_date() -> None:
    assert date_phrase_at(["on"], TODAY) is None
    assert date_phrase_at(["on", "site"], TODAY) is None
    assert date_phrase_at([], TODAY) is None


def test_weekday_words_and_ranges_after_the_note_are_note_words() -> None:
    assert date_phrase_at(["sat", "with", "sam"], TODAY, after_note=True) is None
    assert date_phrase_at(["1-24"], TODAY, after_note=True) is None
    assert date_phrase_at(["sat", "with", "sam"], TODAY) == DatePhrase(date(2026, 11, 21), "sat", 1)
    assert date_phrase_at(["on", "sat"], TODAY, after_note=True) == DatePhrase(date(2026, 11, 21), "sat", 2)
    assert date_phrase_at(["friday"], TODAY, after_note=True) == DatePhrase(date(2026, 11, 20), "friday", 1)


def test_a_weekday_word_ending_the_note_reads_both_ways_and_is_refused() -> None:
    with pytest.raises(ParseError) as error:
        date_phrase_at(["Sun"], TODAY, after_note=True)
    assert "`Sun` at the end could be Sunday or a word of the note" in error.value.message
    assert "write `sunday` or `on sun`" in error.value.message
    assert error.value.example == "logtime acme 1h sunday printer fix"


def test_a_date_shaped_number_where_a_date_stands_is_a_mistyped_date() -> None:
    with pytest.raises(ParseError, match="`99/99` is not a real date."):
        date_phrase_at(["99/99", "fix"], TODAY)
    with pytest.raises(ParseError, match="`99/99` is not a real date."):
        date_phrase_at(["on", "99/99"], TODAY)
    assert date_phrase_at(["99/99", "fix"], TODAY, after_note=True) is None
    assert date_phrase_at(["9.99", "fix"], TODAY) is None


# periods


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("", Period(date(2026, 11, 1), date(2026, 12, 1), "November 2026")),
        ("this month", Period(date(2026, 11, 1), date(2026, 12, 1), "November 2026")),
        ("This  Month", Period(date(2026, 11, 1), date(2026, 12, 1), "November 2026")),
        ("month", Period(date(2026, 11, 1), date(2026, 12, 1), "November 2026")),
        ("last month", Period(date(2026, 10, 1), date(2026, 11, 1), "October 2026")),
        ("2026-01", Period(date(2026, 1, 1), date(2026, 2, 1), "January 2026")),
        ("2025-12", Period(date(2025, 12, 1), date(2026, 1, 1), "December 2025")),
        ("2026-08..2026-10", Period(date(2026, 8, 1), date(2026, 11, 1), "August 2026 – October 2026")),
        ("2026-08 .. 2026-08", Period(date(2026, 8, 1), date(2026, 9, 1), "August 2026 – August 2026")),
    ],
)
def test_a_report_period(text: str, period: Period) -> None:
    assert parse_period(text, TODAY) == period


def test_last_month_in_january_is_last_years_december() -> None:
    assert parse_period("last month", date(2027, 1, 15)).label == "December 2026"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2026-10..2026-08", "ends before it starts"),
        ("2026-13", "is not a period I understand"),
        ("2026-00", "is not a period I understand"),
        ("next month", "is not a period I understand"),
        ("2026-08..", "is not a period I understand"),
        ("2026-08..2026-10..2026-12", "is not a period I understand"),
    ],
)
def test_a_report_period_refused(text: str, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        parse_period(text, TODAY)


def test_an_iso_date() -> None:
    assert parse_iso_date("2026-11-20") == date(2026, 11, 20)
    with pytest.raises(ParseError, match="`2026-11-31` is not a real date.") as error:
        parse_iso_date("2026-11-31")
    assert error.value.example == "2026-11-20"


# months and days in sentences


@pytest.mark.parametrize(
    ("day", "months", "later"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 5, 31), -3, date(2026, 2, 28)),
        (date(2026, 11, 15), 2, date(2027, 1, 15)),
        (date(2026, 12, 31), 12, date(2027, 12, 31)),
        (date(2027, 1, 30), 1, date(2027, 2, 28)),
        (date(2028, 1, 30), 1, date(2028, 2, 29)),
    ],
)
def test_a_month_later_is_clamped_to_the_months_end(day: date, months: int, later: date) -> None:
    assert add_months(day, months) == later


def test_a_months_first_day() -> None:
    assert month_start(date(2026, 11, 25)) == date(2026, 11, 1)


def test_a_long_day() -> None:
    assert long_day(date(2026, 12, 5)) == "5 Dec 2026"


def test_recorded_words_name_one_month_or_the_period() -> None:
    assert recorded_words(date(2026, 11, 1), date(2026, 12, 1)) == "recorded this month"
    assert recorded_words(date(2026, 11, 2), date(2026, 12, 2)) == "recorded in the period"
    assert recorded_words(date(2026, 10, 1), date(2026, 12, 1)) == "recorded in the period"


def test_the_recorded_day_is_the_clients_but_never_before_a_closed_month() -> None:
    moment = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert recorded_day(moment, "Europe/Berlin") == date(2026, 12, 1)
    assert recorded_day(moment, "America/New_York") == date(2026, 11, 30)
    assert recorded_day(moment, "America/New_York", records_from=date(2026, 12, 1)) == date(2026, 12, 1)
    assert recorded_day(moment, "Europe/Berlin", records_from=date(2026, 11, 1)) == date(2026, 12, 1)
