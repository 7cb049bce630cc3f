"""Recurring allotments (issue 26, part 4): "10 hours a month, unused hours roll over up to 20".

A client with an allotment gets a block at the start of each period of its own calendar (monthly,
quarterly or yearly), valid from the period's first day to its last. Periods begin on the 1st of the
month the allotment was set in and follow every 1, 3 or 12 months from there (a yearly allotment set in
March renews every March: its anniversary). ``recurring_last_start`` on the client is the latest period
granted, so every writer grants each period once (under the client's row lock), and a missed run grants
every missed period, in order.

When a period's block closes (its last day, plus the grace period late work may still draw from it), its
unused minutes roll into the next period's block up to the rollover cap, and the rest is forfeited. The
ledger (``bot.domain.client_ledger``) carries this out; this module only says when and how much. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.dates import add_months, month_start
from bot.domain.durations import format_duration
from bot.domain.errors import ParseError
from bot.domain.fields import parse_hours

PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
PERIOD_NOUNS = {"monthly": "month", "quarterly": "quarter", "yearly": "year"}
SOURCE = "recurring"  # a block's source: granted by the allotment


@dataclass(frozen=True)
class Allotment:
    """A client's recurring allotment: ``minutes`` every ``period``; at most ``rollover_minutes`` of a
    period's unused minutes roll into the next one (0: none). ``last_start``: the latest period granted
    (None: none yet, the current period is the first)."""

    period: str
    minutes: int
    rollover_minutes: int = 0
    last_start: date | None = None

    @property
    def months(self) -> int:
        return PERIOD_MONTHS[self.period]

    def words(self) -> str:
        """``monthly 10h, rollover up to 20h`` (a reply, a settings view)."""
        rollover = (
            f"rollover up to {format_duration(self.rollover_minutes)}" if self.rollover_minutes else "no rollover"
        )
        return f"{self.period} {format_duration(self.minutes)}, {rollover}"


def period_end(start: date, period: str) -> date:
    """The last day of the period that starts on ``start``."""
    return add_months(start, PERIOD_MONTHS[period]) - timedelta(days=1)


def due_starts(allotment: Allotment, today: date) -> list[date]:
    """The starts of the periods to grant as of ``today``, oldest first: none when the current period is
    granted; the current month's when none ever was; every missed one after ``last_start``."""
    if allotment.last_start is None:
        return [month_start(today)]
    found: list[date] = []
    step = 1
    while (start := add_months(allotment.last_start, step * allotment.months)) <= today:
        found.append(start)
        step += 1
    return found


def last_start_after_change(
    before: Allotment | None, after: Allotment | None, stored: date | None, today: date
) -> date | None:
    """What ``recurring_last_start`` (``stored``) becomes when the allotment setting changes. Turned off,
    it is kept, so turning it on again within a period already granted grants nothing twice; turned on
    again after a period went by without it, it starts afresh with the current month (no catching up on
    periods it was off). A change of size or period keeps the periods' anchor: the next period gets the
    new terms."""
    if after is None or before is not None or stored is None:
        return stored
    if add_months(stored, after.months) <= today:
        return None  # off for a whole period or more: begin again with the current month
    return stored


def rollover_split(unused: int, cap: int, rolled_in_already: int = 0) -> tuple[int, int]:
    """``unused`` minutes of a closed period: (rolled into the next period, forfeited). The cap bounds
    what one period's block receives."""
    rolled = max(0, min(unused, cap - rolled_in_already))
    return rolled, unused - rolled


def period_words(start: date, period: str) -> str:
    """``December 2026``, ``Q1 2027`` (a calendar quarter), ``Dec 2026 – Feb 2027``, ``year from Mar 2026``."""
    if period == "monthly":
        return f"{start:%B %Y}"
    if period == "quarterly":
        if start.month in (1, 4, 7, 10):
            return f"Q{(start.month - 1) // 3 + 1} {start.year}"
        return f"{start:%b %Y} – {add_months(start, 2):%b %Y}"
    return f"year from {start:%b %Y}"


ALLOTMENT_KEYS = (*PERIOD_MONTHS, "rollover", "recurring")
_NONE = ("0", "0h", "0m", "none", "off", "no")
EXAMPLE = "client set acme monthly 10h rollover 20h"


def allotment_setting(key: str, value: str | None) -> dict[str, object]:
    """The client's columns a ``client set`` word pair sets: ``monthly 10h`` (also ``quarterly``,
    ``yearly``), ``rollover 20h`` (``rollover 0``: none), ``recurring off``."""
    if value is None:
        raise ParseError(f"`{key}` needs a value.", EXAMPLE if key != "recurring" else "client set acme recurring off")
    word = value.strip().lower()
    if key == "recurring":
        if word not in _NONE:
            raise ParseError(
                f"`recurring {value}`: say `recurring off` to stop the allotment, or set one with "
                "`monthly`, `quarterly` or `yearly`.",
                EXAMPLE,
            )
        return {"recurring_period": None, "recurring_minutes": None, "rollover_minutes": None}
    if key == "rollover":
        if word in _NONE:
            return {"rollover_minutes": 0}
        try:
            return {"rollover_minutes": parse_hours(word)}
        except ParseError:
            raise ParseError(f"`rollover {value}` is not a number of hours.", EXAMPLE) from None
    if word in _NONE:
        raise ParseError(
            f"`{key} {value}`: to stop the allotment, write `recurring off`.", "client set acme recurring off"
        )
    try:
        minutes = parse_hours(word)
    except ParseError:
        raise ParseError(f"`{key} {value}` is not a number of hours.", EXAMPLE) from None
    return {"recurring_period": key, "recurring_minutes": minutes}
