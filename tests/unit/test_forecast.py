"""Burn rate, run-out date and likely forfeits."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from bot.domain.forecast import HORIZON_DAYS, burn_forecast, likely_forfeit

TODAY = date(2026, 11, 25)


def test_run_out_follows_the_30_day_burn_rate() -> None:
    forecast = burn_forecast(remaining=600, used_last_30_days=900, used_last_90_days=900, today=TODAY)
    assert forecast.per_day_30 == Decimal(30) and forecast.run_out_on == date(2026, 12, 15)


def test_the_90_day_rate_is_used_when_the_last_30_days_were_quiet() -> None:
    forecast = burn_forecast(remaining=90, used_last_30_days=0, used_last_90_days=270, today=TODAY)
    assert forecast.run_out_on == date(2026, 12, 25)


def test_no_usage_means_no_run_out_and_an_empty_balance_runs_out_today() -> None:
    assert burn_forecast(600, 0, 0, TODAY).run_out_on is None
    assert burn_forecast(-30, 0, 0, TODAY).run_out_on == TODAY


def test_hours_likely_forfeited_at_the_current_pace() -> None:
    assert likely_forfeit(600, date(2026, 12, 4), Decimal(30), TODAY) == 300
    assert likely_forfeit(600, None, Decimal(30), TODAY) == 0
    assert likely_forfeit(100, date(2027, 12, 4), Decimal(30), TODAY) == 0


def test_likely_forfeits_follow_fifo_order() -> None:
    from bot.domain.allocation import BlockState
    from bot.domain.forecast import likely_forfeits

    start = date(2026, 1, 1)
    blocks = [
        BlockState(3, 600, start, None),
        BlockState(2, 600, start, date(2027, 1, 3)),
        BlockState(1, 300, start, date(2026, 12, 4)),
    ]
    # 30 min/day: block 1 (10 days) is used up by 2026-12-04; block 2 gets 40 days * 30 - 300 = 900 > 600
    assert likely_forfeits(blocks, Decimal(30), TODAY) == {}
    assert likely_forfeits(blocks, Decimal(10), TODAY) == {1: 200, 2: 300}


def test_a_run_out_beyond_the_horizon_is_not_a_date() -> None:
    """100,000 hours at one minute a month would run out after year 9999: no date, and no crash."""
    far = burn_forecast(6_000_000, used_last_30_days=1, used_last_90_days=3, today=TODAY)
    assert far.run_out_on is None and far.per_day_30 > 0
    near = burn_forecast(HORIZON_DAYS, used_last_30_days=30, used_last_90_days=90, today=TODAY)
    assert near.run_out_on == TODAY + timedelta(days=HORIZON_DAYS)
