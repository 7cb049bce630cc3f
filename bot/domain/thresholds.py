"""Low-balance thresholds and crossing detection.

A threshold is a percentage of the hours in the client's current blocks (``25%``) or an absolute
amount (``2h``, ``0``). A balance change crosses a threshold when it moves the balance from above the
level to at or below it; only the lowest level crossed by one change is reported, so a single large
entry that falls through 50 % and 25 % alerts once. Whether a crossing still alerts (snoozed, or the
same threshold alerted before and no hours were bought since) is decided with the alerts' history in
``bot.services.alerts``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from bot.domain.durations import format_duration, parse_duration
from bot.domain.errors import ParseError

DEFAULT_THRESHOLDS = "50%,25%,10%,0"


@dataclass(frozen=True)
class Threshold:
    percent: int | None = None
    minutes: int | None = None

    @property
    def label(self) -> str:
        return f"{self.percent}%" if self.percent is not None else format_duration(self.minutes or 0)

    def level(self, block_minutes: int) -> int:
        """The balance, in minutes, at which this threshold sits for blocks totalling ``block_minutes``."""
        if self.percent is not None:
            return block_minutes * self.percent // 100
        return self.minutes or 0


def percent_left(remaining: int, block_minutes: int) -> int | None:
    """Share of the current blocks' minutes still left: 0 when used up or overdrawn, None when the
    client has no current block to be a share of."""
    if remaining <= 0:
        return 0
    if block_minutes <= 0:
        return None
    return min(100, remaining * 100 // block_minutes)


def lowest_above_zero(thresholds: tuple[Threshold, ...], block_minutes: int) -> Threshold | None:
    """The lowest threshold that sits above zero for blocks totalling ``block_minutes`` (``10%`` of
    ``50%,25%,10%,0``): a client at or under it is "low" (the digest). The ``0`` threshold is not it:
    at zero a client has used its hours up, and below it is overdrawn."""
    above = [t for t in thresholds if t.level(block_minutes) > 0]
    return min(above, key=lambda t: t.level(block_minutes)) if above else None


def meter_marks(remaining: int, thresholds: tuple[Threshold, ...], block_minutes: int) -> tuple[str, str] | None:
    """The page's meter: ``(value, low)`` as percentages of ``block_minutes`` to four places, so that
    the meter sits under its low mark exactly when :func:`hours_state` says "low" or worse (at or
    under the lowest threshold above zero); None without current blocks."""
    if block_minutes <= 0:
        return None
    lowest = lowest_above_zero(thresholds, block_minutes)
    level = lowest.level(block_minutes) if lowest else 0
    step = Decimal("0.0001")
    value = (Decimal(max(0, min(remaining, block_minutes)) * 100) / block_minutes).quantize(step, ROUND_FLOOR)
    low = (Decimal(level * 100) / block_minutes).quantize(step, ROUND_FLOOR) + step
    return str(value), str(low)


def parse_thresholds(text: str) -> tuple[Threshold, ...]:
    found: list[Threshold] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part.endswith("%"):
            number = part[:-1].strip()
            if not (number.isascii() and number.isdigit()) or not 0 <= int(number) <= 100:
                raise ParseError(f"`{part}` is not a percentage from 0% to 100%.", DEFAULT_THRESHOLDS)
            found.append(Threshold(percent=int(number)))
        elif part in ("0", "0h", "0m"):
            found.append(Threshold(minutes=0))
        else:
            found.append(Threshold(minutes=parse_duration(part, max_minutes=10**7)))
    if not found:
        raise ParseError("No thresholds given.", DEFAULT_THRESHOLDS)
    return tuple(found)


def format_thresholds(thresholds: tuple[Threshold, ...]) -> str:
    return ",".join(t.label for t in thresholds)


@dataclass(frozen=True)
class Crossing:
    threshold: Threshold
    level: int
    before: int
    after: int


def crossing(
    before: int, after: int, thresholds: tuple[Threshold, ...], block_minutes: int, overdraft_step: int = 0
) -> Crossing | None:
    """The lowest threshold that the change ``before -> after`` crossed downwards, if any.

    With ``overdraft_step`` > 0, every further step below zero (``-step``, ``-2*step``...) is a level too,
    so a client going deeper into overage keeps alerting once per step."""
    if after >= before:
        return None
    levels = {t.level(block_minutes): t for t in thresholds}
    if overdraft_step > 0 and after < 0:
        step_level = -overdraft_step
        while step_level >= after:
            levels.setdefault(step_level, Threshold(minutes=step_level))
            step_level -= overdraft_step
    crossed = [level for level in levels if after <= level < before]
    if not crossed:
        return None
    lowest = min(crossed)
    return Crossing(levels[lowest], lowest, before, after)


def alert_crossing(
    before: int,
    after: int,
    thresholds: tuple[Threshold, ...],
    block_minutes: int,
    overdraft_step: int,
    snoozed_until: datetime | None,
    now: datetime,
) -> Crossing | None:
    """The crossing a change should alert about: none while the client's alerts are snoozed."""
    if snoozed_until is not None and now < snoozed_until:
        return None
    return crossing(before, after, thresholds, block_minutes, overdraft_step)


# The state of a client's hours, in the words the client's page shows (issue 27).
HEALTHY, LOW, USED_UP, IN_OVERAGE, ON_HOLD = "healthy", "low", "used up", "in overage", "on hold"


def hours_state(
    remaining: int, block_minutes: int, thresholds: tuple[Threshold, ...], hold_left: int | None = None
) -> str:
    """Where a client's hours stand: ``on hold`` when nothing is left and the overage hold allows no
    more (``hold_left``: overage still allowed before new time is refused; None when there is no
    hold), ``in overage`` below zero, ``used up`` at zero, ``low`` at or under the lowest threshold
    above zero (the digest's low), ``healthy`` otherwise."""
    if hold_left is not None and remaining <= 0 and hold_left <= 0:
        return ON_HOLD
    if remaining < 0:
        return IN_OVERAGE
    if remaining == 0:
        return USED_UP
    lowest = lowest_above_zero(thresholds, block_minutes)
    if remaining <= (lowest.level(block_minutes) if lowest else 0):
        return LOW
    return HEALTHY
