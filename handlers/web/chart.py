"""The burn-down chart as inline SVG coordinates (no script, no image request): the balance at each
day's end as a step line, zero as a line, and the forecast from today to the run-out date as a dashed
line. Pure: it turns the page's figures into numbers for ``page.html`` to draw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.durations import format_duration
from bot.services.page import BurnDown

WIDTH, HEIGHT = 520, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28  # room for the axis labels
AHEAD_DAYS = 30  # the chart reaches this far past today, for the forecast


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    label: str
    anchor: str = "middle"  # SVG text-anchor: the first x label starts at the axis, the last ends at the edge


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    line: str  # the balance's polyline points
    zero_y: float
    forecast: str | None  # the forecast's polyline points toward the run-out date (cut at the chart's edge)
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    today_x: float
    left: int
    right: float
    top: int
    bottom: float


def burn_chart(burn: BurnDown, run_out_on: date | None) -> Chart:
    points = burn.points()
    end = burn.end + timedelta(days=AHEAD_DAYS)
    balances = [b for _, b in points]
    high, low = max([*balances, 60]), min([*balances, 0])
    span_days = max((end - burn.start).days, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        return round(LEFT + plot_w * (day - burn.start).days / span_days, 1)

    def y(minutes: int) -> float:
        return round(TOP + plot_h * (high - minutes) / (high - low), 1)

    steps: list[str] = []
    previous: int | None = None
    for day, balance in points:
        if previous is not None:
            steps.append(f"{x(day)},{y(previous)}")  # the balance holds until the day it changes
        steps.append(f"{x(day)},{y(balance)}")
        previous = balance
    forecast = None
    last = balances[-1]
    if run_out_on is not None and last > 0 and run_out_on > burn.end:
        if run_out_on <= end:
            forecast = f"{x(burn.end)},{y(last)} {x(run_out_on)},{y(0)}"
        else:  # beyond the chart: the line toward it, cut at the right edge
            left_at_end = last - last * (end - burn.end).days // (run_out_on - burn.end).days
            forecast = f"{x(burn.end)},{y(last)} {x(end)},{y(left_at_end)}"
    y_ticks = tuple(Tick(LEFT - 6, y(m), format_duration(m), "end") for m in sorted({high, 0, low}, reverse=True))
    x_ticks = tuple(
        Tick(x(day), HEIGHT - 8, f"{day.day} {day:%b}", anchor)
        for day, anchor in ((burn.start, "start"), (burn.end, "middle"), (end, "end"))
    )
    return Chart(
        WIDTH,
        HEIGHT,
        " ".join(steps),
        y(0),
        forecast,
        y_ticks,
        x_ticks,
        x(burn.end),
        LEFT,
        WIDTH - RIGHT,
        TOP,
        HEIGHT - BOTTOM,
    )
