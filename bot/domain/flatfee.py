"""The flat-fee case: from a client's monthly usage, what a managed-services fee (monthly recurring
revenue) would be, and which clients it suits best. Pure: figures in, figures out."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

MIN_MONTHS = 3


@dataclass(frozen=True)
class FlatFee:
    months: int
    average_minutes: int
    peak_minutes: int
    paid_for_blocks: Decimal  # what the hours used over those months cost at their blocks' prices
    hourly_rate: Decimal
    margin: Decimal  # 0.15 = 15 %
    monthly_fee: Decimal
    steadiness: Decimal  # 1 - coefficient of variation, floored at 0: 1 is perfectly steady

    @property
    def average_hours(self) -> Decimal:
        return _hours(self.average_minutes)

    @property
    def peak_hours(self) -> Decimal:
        return _hours(self.peak_minutes)

    @property
    def paid_per_month(self) -> Decimal:
        return (self.paid_for_blocks / self.months).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def score(self) -> Decimal:
        """How strongly a flat fee suits the client: steady and substantial usage ranks first."""
        return (self.average_hours * self.steadiness).quantize(Decimal("0.01"))

    def explanation(self, currency: str) -> str:
        margin = (self.margin * 100).normalize()
        return (
            f"Over the last {self.months} months the client used on average {self.average_hours} h a month "
            f"(peak {self.peak_hours} h); those hours cost {self.paid_for_blocks} {currency} at the prices of "
            f"the blocks they came from ({self.paid_per_month} {currency} a month). At {self.hourly_rate} {currency}/h and a {margin:f} % "
            f"margin, a flat fee covering the average would be {self.monthly_fee} {currency} a month "
            f"({self.average_hours} h × {self.hourly_rate} × {1 + self.margin} = {self.monthly_fee})."
        )


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.1"), ROUND_HALF_UP)


def suggest_flat_fee(
    monthly_minutes: list[int], paid_for_blocks: Decimal, hourly_rate: Decimal, margin: Decimal
) -> FlatFee | None:
    """``monthly_minutes``: billable minutes of each complete month, oldest first. None with fewer than
    three months of history."""
    if len(monthly_minutes) < MIN_MONTHS:
        return None
    average = sum(monthly_minutes) / len(monthly_minutes)
    spread = statistics.pstdev(monthly_minutes)
    steadiness = Decimal(0) if average == 0 else max(Decimal(0), 1 - Decimal(spread / average))
    # from the average as printed (tenths of an hour), so the printed formula gives the printed fee
    fee = (_hours(round(average)) * hourly_rate * (1 + margin)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return FlatFee(
        months=len(monthly_minutes),
        average_minutes=round(average),
        peak_minutes=max(monthly_minutes),
        paid_for_blocks=paid_for_blocks.quantize(Decimal("0.01")),
        hourly_rate=hourly_rate,
        margin=margin,
        monthly_fee=fee,
        steadiness=steadiness.quantize(Decimal("0.01")),
    )
