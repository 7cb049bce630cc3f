"""The client's page's pure parts: the state of a client's hours in words, the per-link rate limiter,
the rate setting, and the burn-down's coordinates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.config import parse_rate
from bot.domain.thresholds import HEALTHY, IN_OVERAGE, LOW, ON_HOLD, USED_UP, hours_state, parse_thresholds
from bot.services.page import BurnDown
from handlers.web.chart import burn_chart
from handlers.web.limits import MAX_KEYS, RateLimiter

DEFAULT = parse_thresholds("50%,25%,10%,0")


@pytest.mark.parametrize(
    ("remaining", "hold_left", "state"),
    [
        (600, None, HEALTHY),
        (61, None, HEALTHY),
        (60, None, LOW),  # 10% of 10h: the lowest threshold above zero
        (1, None, LOW),
        (0, None, USED_UP),
        (-30, None, IN_OVERAGE),
        (-30, 30, IN_OVERAGE),  # the hold still allows 30m more
        (-60, 0, ON_HOLD),
        (0, 0, ON_HOLD),  # hold-at 0: nothing left and no overage allowed
        (30, 0, LOW),  # hours left: never on hold
    ],
)
def test_the_state_of_a_clients_hours(remaining: int, hold_left: int | None, state: str) -> None:
    assert hours_state(remaining, 600, DEFAULT, hold_left) == state


def test_a_client_without_a_threshold_above_zero_is_never_low() -> None:
    assert hours_state(1, 600, parse_thresholds("0")) == HEALTHY
    assert hours_state(119, 600, parse_thresholds("2h,0")) == LOW


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limiter_allows_the_rate_per_key_then_refuses_until_the_window_ends() -> None:
    clock = Clock()
    limiter = RateLimiter(3, 60, clock)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b") and limiter.retry_after("a") == 60
    clock.now += 59.5
    assert not limiter.allow("a") and limiter.retry_after("a") == 1
    clock.now += 0.5
    assert limiter.allow("a")


def test_the_limiter_forgets_ended_windows_when_flooded_with_keys() -> None:
    clock = Clock()
    limiter = RateLimiter(1, 10, clock)
    for i in range(MAX_KEYS):
        limiter.allow(f"k{i}")
    clock.now += 10
    assert limiter.allow("new") and len(limiter._windows) == 1
    for i in range(MAX_KEYS + 5):  # all live: the oldest half goes, the memory stays bounded
        limiter.allow(f"j{i}")
    assert len(limiter._windows) <= MAX_KEYS


@pytest.mark.parametrize(
    ("text", "rate"), [("60/minute", (60, 60)), ("5 per second", (5, 1)), ("100/hours", (100, 3600))]
)
def test_a_rate_is_requests_per_second_minute_or_hour(text: str, rate: tuple[int, int]) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["", "0/minute", "ten/minute", "60/day", "60"])
def test_a_wrong_rate_says_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match="e.g. 60/minute"):
        parse_rate(text)


def test_the_burn_down_steps_at_each_change_and_forecasts_to_zero() -> None:
    start = date(2026, 9, 1)
    burn = BurnDown(start, start + timedelta(days=89), 0, ((start + timedelta(days=10), 600),))
    assert burn.points() == [(start, 0), (start + timedelta(days=10), 600), (start + timedelta(days=89), 600)]
    chart = burn_chart(burn, start + timedelta(days=100))
    xs = [float(p.split(",")[0]) for p in chart.line.split()]
    assert xs == sorted(xs) and chart.forecast is not None
    assert chart.forecast.split()[1].endswith(f",{chart.zero_y}")
    assert burn_chart(burn, None).forecast is None
    beyond = burn_chart(burn, start + timedelta(days=89 + 60)).forecast  # runs out 60 days on: cut at 30
    assert beyond is not None and beyond.split()[1] == f"{float(chart.right)},{(chart.zero_y + chart.top) / 2}"
    assert [t.label for t in chart.y_ticks] == ["10h", "0m"]


def test_csv_cells_a_spreadsheet_would_run_as_a_formula_are_neutralised() -> None:
    import csv
    import io
    from datetime import datetime

    from bot.reports.csvfile import client_statement_csv, entries_csv
    from bot.services.page import PageLine
    from bot.services.results import EntryView

    day = date(2026, 11, 2)
    notes = ["=1+2", "+1", "-1", "@SUM(A1)", "\t=1+2", "\r=1+2", "plain"]
    lines = [
        PageLine(day, day, "=Eve", 30, None, "standard", note, False, False, False)  # type: ignore[arg-type]
        for note in notes
    ]
    rows = list(csv.DictReader(io.StringIO(client_statement_csv(lines).decode(), newline="")))
    assert [row["note"] for row in rows] == ["'" + n for n in notes[:-2]] + ["'\n=1+2", "plain"]
    assert {row["technician"] for row in rows} == {"'=Eve"}
    entry = EntryView(
        id=1,
        client="acme",
        user_id="U1",
        user_name='=HYPERLINK("https://evil.example","x")',
        minutes=30,
        typed="30m",
        billable_minutes=30,
        overage_minutes=0,
        non_billable=False,
        work_date=day,
        note="\t=cmd",
        ticket=None,
        source="slack",
        created_at=datetime(2026, 11, 2, 9),
        voided=False,
    )
    (row,) = csv.DictReader(io.StringIO(entries_csv([entry]).decode(), newline=""))
    assert row["technician"] == "'" + entry.user_name and row["note"] == "'\t=cmd"
