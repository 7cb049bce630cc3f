"""FIFO consumption: billable minutes are drawn from the usable block that expires first (never-expiring
blocks last), then the oldest; whatever no block covers is overage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class BlockState:
    id: int
    remaining: int
    start_on: date
    expires_on: date | None

    def usable_on(self, day: date) -> bool:
        """A block can be drawn from once started and until the end of its expiry date."""
        return self.start_on <= day and (self.expires_on is None or day <= self.expires_on)

    def expired_on(self, day: date) -> bool:
        return self.expires_on is not None and day > self.expires_on


@dataclass(frozen=True)
class Draw:
    block_id: int
    minutes: int


@dataclass(frozen=True)
class Allocation:
    draws: tuple[Draw, ...]
    overage: int

    @property
    def drawn(self) -> int:
        return sum(d.minutes for d in self.draws)


def fifo_order(blocks: Iterable[BlockState]) -> list[BlockState]:
    return sorted(blocks, key=lambda b: (b.expires_on is None, b.expires_on or date.max, b.start_on, b.id))


def allocate(minutes: int, blocks: Iterable[BlockState], today: date) -> Allocation:
    """Split ``minutes`` into draws over the usable blocks in FIFO order plus the uncovered overage."""
    if minutes < 0:
        raise ValueError("cannot allocate negative minutes")
    left = minutes
    draws: list[Draw] = []
    for block in fifo_order(b for b in blocks if b.usable_on(today) and b.remaining > 0):
        if left == 0:
            break
        take = min(left, block.remaining)
        draws.append(Draw(block.id, take))
        left -= take
    return Allocation(tuple(draws), left)


def within_overdraft(remaining_after: int, overdraft_limit: int | None) -> bool:
    """``overdraft_limit`` is how far below zero the balance may go; ``None`` means no limit."""
    return overdraft_limit is None or remaining_after >= -overdraft_limit
