"""The flat-fee suggestion from monthly usage."""

from __future__ import annotations

from decimal import Decimal

from bot.domain.flatfee import suggest_flat_fee


def test_a_suggestion_needs_three_months_of_history() -> None:
    assert suggest_flat_fee([600, 600], Decimal(1000), Decimal(120), Decimal("0.15")) is None


def test_the_fee_covers_the_average_at_the_rate_plus_margin() -> None:
    fee = suggest_flat_fee([480, 600, 720], Decimal("3600"), Decimal("120"), Decimal("0.15"))
    assert fee is not None
    assert (fee.average_hours, fee.peak_hours, fee.monthly_fee) == (
        Decimal("10.0"),
        Decimal("12.0"),
        Decimal("1380.00"),
    )
    assert fee.paid_per_month == Decimal("1200.00")
    text = fee.explanation("USD")
    assert "10.0 h a month" in text and "1380.00 USD a month" in text and "peak 12.0 h" in text


def test_steady_usage_scores_higher_than_erratic_usage_of_the_same_average() -> None:
    steady = suggest_flat_fee([600, 600, 600], Decimal(0), Decimal(100), Decimal(0))
    erratic = suggest_flat_fee([0, 0, 1800], Decimal(0), Decimal(100), Decimal(0))
    assert steady is not None and erratic is not None
    assert steady.score > erratic.score and steady.steadiness == Decimal("1.00")


def test_the_printed_formula_equals_the_printed_fee() -> None:
    # 444 min a month = 7.4 h as printed; 7.4 x 100 x 1.15 = 851.00 (not 849.08 from the unrounded average)
    fee = suggest_flat_fee([444, 444, 444], Decimal("0"), Decimal("100"), Decimal("0.15"))
    assert fee is not None and fee.monthly_fee == Decimal("851.00")
    assert "(7.4 h × 100 × 1.15 = 851.00)" in fee.explanation("USD")
