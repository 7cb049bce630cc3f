"""The rules that decide a charge, in one place: what an entry bills, which blocks pay for it, what
overage it leaves, whether the client's overdraft allows it, and the balance figures before and after.

The ledger aggregate (``bot.domain.client_ledger.ClientLedger``) asks ``plan_entry`` and records the
plan it gets; one writer (``storage.postings``) stores it.

Two balances, both in minutes:
- the **usable** balance is what new work can draw today: minutes left in blocks that have started
  and not expired, minus open overage. It is what "hours left", thresholds and the overdraft speak of;
  a block that starts later is bought but not usable balance: its hours are **waiting** to start;
- the **account** balance is what the ledger holds: minutes left in every block not yet forfeited
  (an expired block in its grace period and a block waiting to start included), minus open overage. Ledger lines move it, and
  statements add it up: opening + bought - used - forfeited + overage billed = closing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from bot.domain.allocation import Allocation, BlockState, Draw, allocate, closed_on, usable_on, within_overdraft
from bot.domain.dates import long_day
from bot.domain.durations import billable_minutes, format_duration
from bot.domain.holds import HoldLimit


class HeldBlock(Protocol):
    """What the rules need of an open (not voided) block: a row the ledger read (``storage.postings.BlockRow``) or the aggregate's ``LedgerBlock``."""

    @property
    def id(self) -> int: ...

    @property
    def minutes(self) -> int: ...

    @property
    def remaining_minutes(self) -> int: ...

    @property
    def start_on(self) -> date: ...

    @property
    def expires_on(self) -> date | None: ...


@dataclass(frozen=True)
class Policy:
    """A client's billing policy."""

    rounding: int
    minimum: int
    overdraft: int | None  # None = unlimited
    grace_days: int


def is_current(block: HeldBlock, today: date) -> bool:
    """Started and not expired today: new work can draw from it. A block that starts later is not
    current: its hours are bought (the account holds them) but waiting to start."""
    return usable_on(block.start_on, block.expires_on, today)


def is_waiting(block: HeldBlock, today: date) -> bool:
    """Bought, with minutes left, but its start date is still to come."""
    return block.remaining_minutes > 0 and today < block.start_on


@dataclass(frozen=True)
class Waiting:
    """Hours bought in blocks that have not started yet: ``minutes`` by start date, earliest first."""

    by_start: tuple[tuple[date, int], ...] = ()

    @property
    def minutes(self) -> int:
        return sum(m for _, m in self.by_start)

    @property
    def starts_on(self) -> date | None:
        return self.by_start[0][0] if self.by_start else None

    def words(self) -> str | None:
        """``10h waiting to start on 15 Dec 2026`` (and ``, 5h on 1 Jan 2027`` for each later start)."""
        if not self.by_start:
            return None
        parts = [f"{format_duration(m)} on {long_day(d)}" for d, m in self.by_start]
        return f"{parts[0].replace(' on ', ' waiting to start on ', 1)}" + "".join(f", {p}" for p in parts[1:])


def waiting(blocks: Iterable[HeldBlock], today: date) -> Waiting:
    found: dict[date, int] = {}
    for b in blocks:
        if is_waiting(b, today):
            found[b.start_on] = found.get(b.start_on, 0) + b.remaining_minutes
    return Waiting(tuple(sorted(found.items())))


def usable_balance(blocks: Iterable[HeldBlock], open_overage: int, today: date) -> int:
    """Minutes new work can draw today, less open overage (may be negative)."""
    return sum(b.remaining_minutes for b in blocks if is_current(b, today)) - open_overage


def account_balance(blocks: Iterable[HeldBlock], open_overage: int) -> int:
    """Minutes the client still holds (blocks in their grace period included), less open overage."""
    return sum(b.remaining_minutes for b in blocks) - open_overage


def current_block_minutes(blocks: Iterable[HeldBlock], today: date) -> int:
    """The size of the client's current blocks: the one denominator of "% left" (the bar, the
    percentage, percentage thresholds, App Home and the digest). A block is current when it has
    started and not expired, used up or not: 2h15m left of a 10h and a 5h block is 15 %, not 45 %
    of the 5h one. A used-up block that never expires counts only if it started no earlier than the
    oldest block still holding minutes: one used up before the current ones were bought would
    otherwise count forever."""
    started = [b for b in blocks if is_current(b, today)]
    holding = [b.start_on for b in started if b.remaining_minutes > 0]
    run_start = min(holding) if holding else None

    def counts(block: HeldBlock) -> bool:
        if block.remaining_minutes > 0 or block.expires_on is not None:
            return True
        return run_start is not None and block.start_on >= run_start

    return sum(b.minutes for b in started if counts(b))


def states(blocks: Iterable[HeldBlock], today: date, grace_days: int) -> list[BlockState]:
    """The blocks that can still pay for work: minutes left and not past their closing day."""
    return [
        BlockState(b.id, b.remaining_minutes, b.start_on, b.expires_on)
        for b in blocks
        if b.remaining_minutes > 0 and not closed_on(b.expires_on, today, grace_days)
    ]


@dataclass(frozen=True)
class EntryPlan:
    billable: int
    allocation: Allocation
    before: int  # usable balance before the entry
    after: int  # usable balance after it
    block_minutes_before: int
    allowed: bool  # False: the overdraft does not allow the overage it would leave
    held: bool = False  # True: the overage would go past the client's hold (bot.domain.holds)

    @property
    def overage(self) -> int:
        return self.allocation.overage


def plan_entry(
    minutes: int,
    non_billable: bool,
    work_date: date,
    today: date,
    policy: Policy,
    blocks: Sequence[HeldBlock],
    open_overage: int,
    multiplier: Decimal = Decimal(1),
    kept: Sequence[Draw] = (),
    hold: HoldLimit | None = None,
) -> EntryPlan:
    """Decide an entry of ``minutes`` worked on ``work_date``:
    1. deducted (billable) minutes: worked minutes x the work type's ``multiplier``, rounded up to the
       increment, at least the minimum (0 when non-billable);
    2. draws: for a correction, the corrected entry's draws from blocks closed since (``kept``) first;
       then blocks valid on the work date, then today's blocks, then overage;
    3. the usable balance after: minutes drawn from an expired block in its grace period were not
       counted as usable, so they do not lower it;
    4. allowed: an entry that leaves overage must stay within the overdraft;
    5. held: nor may it take the open overage past the client's hold (limit + approved)."""
    billable = billable_minutes(minutes, policy.rounding, policy.minimum, non_billable, multiplier)
    allocation = allocate(billable, states(blocks, today, policy.grace_days), today, work_date, kept)
    current = {b.id for b in blocks if is_current(b, today)}
    before = usable_balance(blocks, open_overage, today)
    after = before - sum(d.minutes for d in allocation.draws if d.block_id in current) - allocation.overage
    allowed = allocation.overage == 0 or within_overdraft(after, policy.overdraft)
    held = hold is not None and hold.held(open_overage, allocation.overage)
    return EntryPlan(billable, allocation, before, after, current_block_minutes(blocks, today), allowed, held=held)
