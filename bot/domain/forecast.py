"""Burn rate and run-out forecasts from usage figures. Pure: the caller passes today and the sums.

The burn rate is an estimate, so it is a Decimal of minutes per day; the ledger itself stays in
whole minutes."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from bot.domain.allocation import BlockState, fifo_order


@dataclass(frozen=True)
class Forecast:
    used_last_30_days: int
    used_last_90_days: int
    per_day_30: Decimal  # minutes per calendar day over the last 30 days
    per_day_90: Decimal
    run_out_on: date | None  # None: nothing is being used, or not within HORIZON_DAYS

    @property
    def per_week_hours(self) -> Decimal:
        return (self.per_day_30 * 7 / 60).quantize(Decimal("0.1"))


HORIZON_DAYS = 100 * 366  # a run-out date further away than this is "not in sight" (and past year 9999 is no date)


def burn_forecast(remaining: int, used_last_30_days: int, used_last_90_days: int, today: date) -> Forecast:
    per_30 = Decimal(used_last_30_days) / 30
    per_90 = Decimal(used_last_90_days) / 90
    rate = per_30 if per_30 > 0 else per_90
    run_out: date | None = None
    if remaining <= 0:
        run_out = today
    elif rate > 0:
        days = math.ceil(Decimal(remaining) / rate)
        run_out = today + timedelta(days=days) if days <= HORIZON_DAYS else None
    return Forecast(used_last_30_days, used_last_90_days, per_30, per_90, run_out)


def likely_forfeit(block_remaining: int, expires_on: date | None, per_day: Decimal, today: date) -> int:
    """Minutes of a block likely to be unused at its expiry if usage goes on at ``per_day``."""
    if expires_on is None or expires_on < today:
        return 0
    days_left = (expires_on - today).days + 1
    will_use = int(per_day * days_left)
    return max(0, block_remaining - will_use)


def likely_forfeits(blocks: Iterable[BlockState], per_day: Decimal, today: date) -> dict[int, int]:
    """Usage at ``per_day`` drains the blocks in FIFO order; returns, per block with an expiry, the
    minutes likely left over at its expiry."""
    found: dict[int, int] = {}
    consumed_before = 0  # minutes the earlier blocks take before this one is reached
    for block in fifo_order(blocks):
        if block.expires_on is None or block.expires_on < today:
            consumed_before += block.remaining
            continue
        usage_until_expiry = int(per_day * ((block.expires_on - today).days + 1))
        left = max(0, block.remaining - max(0, usage_until_expiry - consumed_before))
        if left:
            found[block.id] = left
        consumed_before += block.remaining - left
    return found
