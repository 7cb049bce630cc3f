"""Durations as technicians type them (``15m``, ``1h30m``, ``1 hr 15 mins``, ``1:30``) and the billing
rules that turn typed minutes into billable minutes. Minutes are always whole integers."""

from __future__ import annotations

import math
import re
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

from bot.domain.errors import ParseError
from bot.domain.worktypes import multiplier_label

DEFAULT_MAX_MINUTES = 24 * 60
EXAMPLE = "15m, 1h30m, 1.5h or 1:30"

_HOUR_UNITS = r"h|hr|hrs|hour|hours"
_MINUTE_UNITS = r"m|min|mins|minute|minutes"
_NUMBER = r"\d+(?:\.\d+)?"
_UNIT_FORM = re.compile(
    rf"^(?:(?P<h>{_NUMBER})\s*(?:{_HOUR_UNITS}))?\s*(?:(?P<m>{_NUMBER})\s*(?:{_MINUTE_UNITS}))?$",
    re.IGNORECASE | re.ASCII,
)
_CLOCK_FORM = re.compile(r"^(?P<h>\d{1,2}):(?P<m>\d{2})$", re.ASCII)
_HOURS_THEN_MINUTES = re.compile(
    rf"^(?P<h>\d+)\s*(?:{_HOUR_UNITS})\s*(?P<m>\d{{1,2}})$", re.IGNORECASE | re.ASCII
)  # 1h30
_BARE_NUMBER = re.compile(rf"^[+-]?{_NUMBER}$", re.ASCII)
_LOOKS_NEGATIVE = re.compile(r"^\s*-\s*\d", re.ASCII)


def parse_duration(text: str, max_minutes: int = DEFAULT_MAX_MINUTES) -> int:
    """Return the whole minutes in ``text`` or raise :class:`ParseError` saying what is wrong."""
    raw = text.strip()
    cleaned = raw.lstrip("+").strip()
    if not cleaned:
        raise ParseError("A duration is missing.", f"logtime acme {EXAMPLE.split(',')[0]} laptop advice")
    if _LOOKS_NEGATIVE.match(cleaned):
        raise ParseError(f"`{raw}` is negative; time logged must be more than zero.", "15m")
    if _BARE_NUMBER.match(cleaned):
        raise ParseError(f"`{raw}` has no unit: add a unit: {_unit_hint(cleaned)}.", "logtime acme 90m laptop advice")
    minutes = _minutes_of(cleaned)
    if minutes is None:
        raise ParseError(f"`{raw}` is not a duration I understand.", EXAMPLE)
    if minutes <= 0:
        raise ParseError(f"`{raw}` is zero; time logged must be more than zero.", "15m")
    if minutes > max_minutes:
        raise ParseError(
            f"`{raw}` is more than {format_duration(max_minutes)} in one entry; split it into several entries.",
            f"{format_duration(min(max_minutes, 8 * 60))}",
        )
    return minutes


def _unit_hint(number: str) -> str:
    """``90`` -> ``90m or 1.5h``; ``2`` -> ``2h or 2m``: the likelier reading first."""
    value = Decimal(number)
    if value <= 12:
        return f"{number}h or {number}m"
    hours = value / 60
    try:
        as_hours = format(hours.normalize(), "f") if hours == hours.quantize(Decimal("0.01")) else None
    except InvalidOperation:  # more digits than hours can show (28): a typo, so no hours reading
        as_hours = None
    return f"{number}m or {as_hours}h" if as_hours else f"{number}m"


def _minutes_of(text: str) -> int | None:
    clock = _CLOCK_FORM.match(text) or _HOURS_THEN_MINUTES.match(text)
    if clock:
        mins = int(clock["m"])
        return None if mins >= 60 else int(clock["h"]) * 60 + mins
    unit = _UNIT_FORM.match(text)
    if not unit or (unit["h"] is None and unit["m"] is None):
        return None
    try:
        total = Decimal(unit["h"] or 0) * 60 + Decimal(unit["m"] or 0)
    except InvalidOperation:  # pragma: no cover - the regex admits only decimals
        return None
    # Decimal hours as Harvest and ConnectWise take them: 0.33h is recorded as the nearest minute, 20m.
    return int(total.to_integral_value(rounding=ROUND_HALF_UP))


def take_duration(tokens: list[str], max_minutes: int = DEFAULT_MAX_MINUTES) -> tuple[int, str, list[str]]:
    """Read a duration from the front of ``tokens`` (it may span up to four words, as in
    ``1 hr 15 mins``) and return ``(minutes, text as typed, remaining tokens)``."""
    for width in range(min(4, len(tokens)), 1, -1):
        typed = " ".join(tokens[:width])
        if _minutes_of_quietly(typed) is not None:
            return parse_duration(typed, max_minutes), typed, tokens[width:]
    if not tokens:
        raise ParseError("A duration is missing.", "logtime acme 15m laptop advice")
    return parse_duration(tokens[0], max_minutes), tokens[0], tokens[1:]


def looks_like_duration(text: str) -> bool:
    """True when ``text`` is shaped like a duration, even an invalid one (``0m``, ``25h``)."""
    return _minutes_of_quietly(text.strip().lstrip("+")) is not None


def _minutes_of_quietly(text: str) -> int | None:
    try:
        return _minutes_of(text.strip())
    except ParseError:
        return None


def as_recorded(typed: str, minutes: int) -> str:
    """``typed`` as it reads in a reply, with what was recorded when that is not what was typed
    exactly (``0.33h → 20m``)."""
    exact = _UNIT_FORM.match(typed.strip().lstrip("+"))
    if exact and any(part and "." in part for part in (exact["h"], exact["m"])):
        total = Decimal(exact["h"] or 0) * 60 + Decimal(exact["m"] or 0)
        if total != minutes:
            return f"{typed} → {format_duration(minutes)}"
    return typed


def format_duration(minutes: int) -> str:
    """``90`` -> ``1h 30m``; negative values keep their sign (``-15m``)."""
    sign = "-" if minutes < 0 else ""
    hours, mins = divmod(abs(minutes), 60)
    if hours and mins:
        return f"{sign}{hours}h {mins}m"
    if hours:
        return f"{sign}{hours}h"
    return f"{sign}{mins}m"


def format_hours(minutes: int) -> str:
    """Minutes as decimal hours for reports: ``90`` -> ``1.5``; exact to two places."""
    value = (Decimal(minutes) / 60).quantize(Decimal("0.01"))
    text = format(value.normalize(), "f")
    return text


def hours_column(minutes: list[int], groups: list[str] | None = None) -> list[str]:
    """Decimal hours (two places) for rows of minutes that add up, in a spreadsheet, to the hours of
    their total: each row shows the change of the rounded running total, so twelve 5-minute rows show
    0.08 or 0.09 and sum to 1.00, not 0.96. The minutes themselves stay exact in their own column.

    With ``groups`` (each row's client), each group keeps a running total of its own, so one client's
    rows show the same hours, and sum to the same total, in its own file and in a file of every client,
    whatever rows come before them."""
    keys = groups if groups is not None else [""] * len(minutes)
    shown: dict[str, Decimal] = {}
    running: dict[str, int] = {}
    column: list[str] = []
    for key, value in zip(keys, minutes, strict=True):
        running[key] = running.get(key, 0) + value
        target = (Decimal(running[key]) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        column.append(format((target - shown.get(key, Decimal(0))).normalize(), "f"))
        shown[key] = target
    return column


def _billing_steps(minutes: int, rounding: int, multiplier: Decimal) -> tuple[int, int]:
    """Worked minutes x the work type's multiplier (an exact decimal; a part of a minute counts as a
    minute), then that rounded up to the increment: ``(weighted, rounded)``."""
    weighted = int((Decimal(minutes) * multiplier).to_integral_value(rounding=ROUND_CEILING))
    return weighted, weighted if rounding <= 1 else -(-weighted // rounding) * rounding


def billable_minutes(
    minutes: int, rounding: int, minimum: int, non_billable: bool = False, multiplier: Decimal = Decimal(1)
) -> int:
    """Apply the work type and the client's billing policy: worked minutes x the work type's multiplier
    (an exact decimal; a part of a minute counts as a minute), rounded up to the increment, then at
    least the minimum."""
    if non_billable:
        return 0
    _, rounded = _billing_steps(minutes, rounding, multiplier)
    return max(rounded, minimum)


def billable_causes(
    minutes: int, rounding: int, minimum: int, non_billable: bool = False, multiplier: Decimal = Decimal(1)
) -> tuple[str, ...]:
    """What made ``billable_minutes`` differ from the minutes worked, in its order: the work type's
    rate, the rounding, the minimum (none when they are equal)."""
    if non_billable:
        return ()
    causes: list[str] = []
    weighted, rounded = _billing_steps(minutes, rounding, multiplier)
    if weighted != minutes:
        causes.append(f"the {multiplier_label(multiplier)} rate")
    if rounded != weighted:
        causes.append(f"rounding up to {format_duration(rounding)}")
    if minimum > rounded:
        causes.append(f"the {format_duration(minimum)} minimum")
    return tuple(causes)


def elapsed_minutes(started_at: datetime, now: datetime) -> int:
    """Whole minutes a timer ran (a begun minute counts), at least one."""
    return max(1, math.ceil((now - started_at).total_seconds() / 60))
