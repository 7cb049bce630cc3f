"""Which blocks pay for work: the blocks valid on the work date first (start <= work date <= expiry),
first-expiring first (never-expiring blocks last), then the oldest; only when those have nothing left,
the blocks valid today; whatever no block covers is overage.

An expired block stays open for late work dated inside it until its closing day (expiry + the grace
period); after that its unused minutes are forfeited."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta


def usable_on(start_on: date, expires_on: date | None, day: date) -> bool:
    """A block pays for work done once it started and until the end of its expiry date."""
    return start_on <= day and (expires_on is None or day <= expires_on)


@dataclass(frozen=True)
class BlockState:
    id: int
    remaining: int
    start_on: date
    expires_on: date | None

    def usable_on(self, day: date) -> bool:
        return usable_on(self.start_on, self.expires_on, day)

    def expired_on(self, day: date) -> bool:
        return self.expires_on is not None and day > self.expires_on


def closing_day(expires_on: date, grace_days: int) -> date:
    """The last day late work may still draw from a block that expired on ``expires_on``; its unused
    minutes are forfeited after this day."""
    return expires_on + timedelta(days=grace_days)


def closed_on(expires_on: date | None, today: date, grace_days: int) -> bool:
    """True once the block's grace period is over: its unused minutes are to be forfeited."""
    return expires_on is not None and today > closing_day(expires_on, grace_days)


def in_grace(expires_on: date | None, today: date, grace_days: int) -> bool:
    """Expired, but late work dated inside it may still draw from it."""
    return expires_on is not None and today > expires_on and not closed_on(expires_on, today, grace_days)


@dataclass(frozen=True)
class Draw:
    block_id: int
    minutes: int


@dataclass(frozen=True)
class Allocation:
    draws: tuple[Draw, ...]
    overage: int
    # Minutes drawn from blocks that were not valid on the work date (today's blocks paid instead).
    from_later_blocks: int = 0

    @property
    def drawn(self) -> int:
        return sum(d.minutes for d in self.draws)


def fifo_order(blocks: Iterable[BlockState]) -> list[BlockState]:
    return sorted(blocks, key=lambda b: (b.expires_on is None, b.expires_on or date.max, b.start_on, b.id))


def allocate(
    minutes: int,
    blocks: Iterable[BlockState],
    today: date,
    work_date: date | None = None,
    kept: Sequence[Draw] = (),
) -> Allocation:
    """Split ``minutes`` of work done on ``work_date`` (default today) into draws plus the overage.

    0. a correction first keeps ``kept``, the corrected entry's draws from blocks closed since, in
       their order, as far as its minutes go: a correction never costs more than the entry it
       corrects (given back to a closed block, those minutes would be forfeited and drawn again);
    1. the blocks valid on the work date, FIFO;
    2. then the blocks valid today that step 1 did not use, FIFO (late work no block covered);
    3. what is left is overage."""
    if minutes < 0:
        raise ValueError("cannot allocate negative minutes")
    worked = today if work_date is None else work_date
    candidates = [b for b in blocks if b.remaining > 0]
    first = fifo_order(b for b in candidates if b.usable_on(worked))
    taken = {b.id for b in first}
    then = fifo_order(b for b in candidates if b.id not in taken and b.usable_on(today))
    left = minutes
    draws: list[Draw] = []
    for old in kept:
        take = min(left, old.minutes)
        if take:
            draws.append(Draw(old.block_id, take))
            left -= take
    later = 0
    for block in first + then:
        if left == 0:
            break
        take = min(left, block.remaining)
        draws.append(Draw(block.id, take))
        left -= take
        if block.id not in taken:
            later += take
    return Allocation(tuple(draws), left, later)


def within_overdraft(remaining_after: int, overdraft_limit: int | None) -> bool:
    """``overdraft_limit`` is how far below zero the balance may go; ``None`` means no limit."""
    return overdraft_limit is None or remaining_after >= -overdraft_limit
