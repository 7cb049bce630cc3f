"""The application cycle of a ConnectWise agreement that holds a day (``bot.domain.psa_records.cycle_holding``)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.psa_records import cycle_holding

START, END = date(2026, 1, 31), date(2027, 1, 30)


@pytest.mark.parametrize(
    ("cycle", "today", "span"),
    [
        ("CalendarMonth", date(2026, 11, 25), (date(2026, 11, 1), date(2026, 11, 30))),
        ("CalendarMonth", date(2026, 1, 2), (date(2026, 1, 31), date(2026, 1, 31))),  # before the start
        ("CalendarQuarter", date(2026, 11, 25), (date(2026, 10, 1), date(2026, 12, 31))),
        ("CalendarYear", date(2027, 1, 5), (date(2027, 1, 1), END)),  # cut at the agreement's end
        ("CalendarWeek", date(2026, 11, 25), (date(2026, 11, 23), date(2026, 11, 29))),
        ("ContractQuarter", date(2026, 5, 1), (date(2026, 4, 30), date(2026, 7, 30))),
        ("ContractYear", date(2026, 11, 25), (START, END)),
        ("Contract2Weeks", date(2026, 2, 14), (date(2026, 2, 14), date(2026, 2, 27))),
        ("Contract4Weeks", date(2026, 2, 27), (date(2026, 1, 31), date(2026, 2, 27))),
        ("Fortnightly", date(2026, 2, 27), None),
    ],
)
def test_the_cycle_holding_a_day(cycle: str, today: date, span: tuple[date, date] | None) -> None:
    assert cycle_holding(cycle, START, END, today) == span
