"""A client's working hours (``mon-fri 08:00-18:00``) and whether a moment of work falls outside them
(after hours), in the client's own time zone. Pure: the caller gives the local time of the work."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

from bot.domain.errors import ParseError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EXAMPLE = "client set acme hours mon-fri 08:00-18:00"
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class WorkHours:
    """Working days (0 = Monday) and the working time on each, ``start`` inclusive, ``end`` exclusive.
    A range that ends before it starts runs past midnight (``22:00-06:00``, a night shift): it belongs
    to the day it starts on."""

    days: frozenset[int]
    start: time
    end: time

    def __str__(self) -> str:
        return f"{_format_days(self.days)} {self.start:%H:%M}-{self.end:%H:%M}"

    def covers(self, local: datetime) -> bool:
        """Whether work at ``local`` (wall time in the client's zone) is within working hours."""
        moment, day = local.time().replace(second=0, microsecond=0, tzinfo=None), local.weekday()
        if self.start < self.end:
            return day in self.days and self.start <= moment < self.end
        if self.start == self.end:  # 00:00-00:00: the whole day
            return day in self.days
        yesterday = (day - 1) % 7
        return (day in self.days and moment >= self.start) or (yesterday in self.days and moment < self.end)


def parse_work_hours(days_text: str, range_text: str) -> WorkHours:
    """``mon-fri`` (or ``mon,wed,fri``, ``mon-sat``, ``daily``) and ``08:00-18:00``."""
    days = _parse_days(days_text)
    start_text, sep, end_text = range_text.partition("-")
    start, end = _clock(start_text), _clock(end_text) if sep else None
    if start is None or end is None:
        raise ParseError(f"`{range_text}` is not a time range; give it as HH:MM-HH:MM.", EXAMPLE)
    return WorkHours(days, start, end)


def stored_work_hours(text: str | None) -> WorkHours | None:
    """A client's stored working hours (as ``str(WorkHours)`` wrote them), or None."""
    if not text:
        return None
    days_text, _, range_text = text.partition(" ")
    return parse_work_hours(days_text, range_text)


def _clock(text: str) -> time | None:
    match = _CLOCK.match(text.strip())
    return time(int(match.group(1)), int(match.group(2))) if match else None


FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day(word: str) -> int | None:
    """``mon``, ``monday`` or ``tues`` -> 0..6."""
    if len(word) < 3:
        return None
    return next((i for i, name in enumerate(FULL_DAYS) if name.startswith(word)), None)


def _parse_days(text: str) -> frozenset[int]:
    words = text.strip().lower()
    if words in ("daily", "all", "*"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in words.split(","):
        first, sep, last = part.partition("-")
        a, b = _day(first), _day(last) if sep else _day(first)
        if a is None or b is None:
            raise ParseError(f"`{text}` is not a set of days; use e.g. mon-fri or mon,wed,fri.", EXAMPLE)
        days.add(a)
        while a != b:  # sat-mon wraps over the weekend
            a = (a + 1) % 7
            days.add(a)
    return frozenset(days)


def _format_days(days: frozenset[int]) -> str:
    ordered = sorted(days)
    if len(ordered) == 7:
        return "daily"
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{DAYS[ordered[0]]}-{DAYS[ordered[-1]]}"
    return ",".join(DAYS[d] for d in ordered)


def after_hours(local: datetime | None, hours: WorkHours | None) -> bool:
    """Whether work at ``local`` falls outside ``hours`` (never when either is unknown)."""
    return local is not None and hours is not None and not hours.covers(local)
