"""Role words and permission boundaries (``bot.domain.roles``), and the edges of the figures a manager
reads: burn forecasts, likely forfeits and the flat-fee case."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from bot.domain.allocation import BlockState
from bot.domain.errors import PermissionDenied
from bot.domain.flatfee import suggest_flat_fee
from bot.domain.forecast import burn_forecast, likely_forfeit, likely_forfeits
from bot.domain.roles import Role, check_void_entry, check_work_date, require

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("technician", Role.TECHNICIAN),
        ("Technicians", Role.TECHNICIAN),
        ("tech", Role.TECHNICIAN),
        ("techs", Role.TECHNICIAN),
        (" manager ", Role.MANAGER),
        ("managers", Role.MANAGER),
        ("ADMIN", Role.ADMIN),
        ("admins", Role.ADMIN),
    ],
)
def test_a_role_by_its_name(text: str, role: Role) -> None:
    assert Role.parse(text) is role


@pytest.mark.parametrize("text", ["client contact", "client", "boss", "stech", "smanager", "admin s"])
def test_no_role_by_other_words(text: str) -> None:
    with pytest.raises(PermissionDenied, match="is not a role"):
        Role.parse(text)


def test_a_role_may_do_what_its_own_level_needs() -> None:
    require(Role.MANAGER, Role.MANAGER, "top up")
    require(Role.ADMIN, Role.MANAGER, "top up")
    with pytest.raises(PermissionDenied, match="Only account managers and admins can top up; you are a technician."):
        require(Role.TECHNICIAN, Role.MANAGER, "top up")
    with pytest.raises(PermissionDenied, match="Only admins can set roles; you are a manager."):
        require(Role.MANAGER, Role.ADMIN, "set roles")
    with pytest.raises(PermissionDenied, match="Only the MSP's staff can log time"):
        require(Role.CLIENT, Role.CLIENT, "log time")


def test_a_technician_changes_only_their_own_entries_for_a_day() -> None:
    made = datetime(2026, 11, 24, 12, 0)
    check_void_entry(Role.TECHNICIAN, "U1", "U1", made, made + timedelta(hours=24))
    with pytest.raises(PermissionDenied, match="for 24 hours"):
        check_void_entry(Role.TECHNICIAN, "U1", "U1", made, made + timedelta(hours=24, seconds=1))
    with pytest.raises(PermissionDenied, match="someone else's entry"):
        check_void_entry(Role.TECHNICIAN, "U1", "U2", made, made)
    check_void_entry(Role.MANAGER, "U1", "U2", made, made + timedelta(days=90))


def test_a_technician_dates_work_back_so_many_days() -> None:
    check_work_date(Role.TECHNICIAN, TODAY - timedelta(days=7), TODAY, 7)
    with pytest.raises(PermissionDenied, match="more than 7 days ago"):
        check_work_date(Role.TECHNICIAN, TODAY - timedelta(days=8), TODAY, 7)
    check_work_date(Role.MANAGER, TODAY - timedelta(days=800), TODAY, 7)


# forecasts


def test_a_forecast_keeps_its_figures() -> None:
    forecast = burn_forecast(600, 300, 1800, TODAY)
    assert (forecast.used_last_30_days, forecast.used_last_90_days) == (300, 1800)
    assert (forecast.per_day_30, forecast.per_day_90) == (Decimal(10), Decimal(20))
    assert forecast.run_out_on == date(2027, 1, 24)
    assert forecast.per_week_hours == Decimal("1.2")


def test_a_slow_recent_pace_still_counts_over_the_longer_one() -> None:
    forecast = burn_forecast(60, 15, 9000, TODAY)  # half a minute a day lately
    assert forecast.run_out_on == TODAY + timedelta(days=120)


def test_a_balance_of_exactly_nothing_runs_out_today_and_one_minute_later() -> None:
    assert burn_forecast(0, 300, 300, TODAY).run_out_on == TODAY
    assert burn_forecast(1, 300, 300, TODAY).run_out_on == TODAY + timedelta(days=1)


def test_a_block_expiring_today_still_counts_its_last_day() -> None:
    assert likely_forfeit(100, TODAY, Decimal(30), TODAY) == 70
    assert likely_forfeit(100, TODAY - timedelta(days=1), Decimal(30), TODAY) == 0
    assert likely_forfeits([BlockState(1, 100, date(2026, 1, 1), TODAY)], Decimal(30), TODAY) == {1: 70}


def test_expired_blocks_before_a_current_one_are_drained_first() -> None:
    start = date(2026, 1, 1)
    blocks = [
        BlockState(1, 50, start, TODAY - timedelta(days=1)),  # expired: still drawn first in FIFO order
        BlockState(2, 100, start, TODAY + timedelta(days=1)),  # two days at 30 a day: 60 minutes
        BlockState(3, 100, start, TODAY + timedelta(days=3)),
    ]
    # block 2 takes 10 of its two days' 60 minutes (the expired block the other 50), leaving 90; block 3
    # takes what four days use beyond those 60, 60 more, leaving 40
    assert likely_forfeits(blocks, Decimal(30), TODAY) == {2: 90, 3: 40}


def test_usage_spills_into_the_next_block_only_past_what_the_earlier_ones_take() -> None:
    start = date(2026, 1, 1)
    blocks = [BlockState(1, 30, start, TODAY), BlockState(2, 100, start, TODAY + timedelta(days=2))]
    # three days at 30 a day: 90 minutes, 30 of them from block 1, 60 from block 2
    assert likely_forfeits(blocks, Decimal(30), TODAY) == {2: 40}


def test_nothing_left_over_is_not_listed() -> None:
    blocks = [BlockState(1, 30, date(2026, 1, 1), TODAY + timedelta(days=1))]
    assert likely_forfeits(blocks, Decimal(30), TODAY) == {}


# the flat-fee case


def test_no_usage_is_no_steadiness_and_no_fee() -> None:
    fee = suggest_flat_fee([0, 0, 0], Decimal(0), Decimal(100), Decimal("0.1"))
    assert fee is not None and (fee.steadiness, fee.monthly_fee, fee.score) == (Decimal(0), Decimal("0.00"), Decimal(0))


def test_steadiness_is_one_less_the_spread_over_the_average() -> None:
    fee = suggest_flat_fee([300, 600, 900], Decimal(0), Decimal(100), Decimal(0))
    assert fee is not None and fee.steadiness == Decimal("0.59")  # pstdev 244.9 / 600


def test_the_fee_rounds_half_up_from_the_printed_average() -> None:
    fee = suggest_flat_fee([63, 63, 63], Decimal("10.005"), Decimal("10.05"), Decimal(0))
    assert fee is not None
    assert fee.average_hours == Decimal("1.1")  # 1.05 h, half up
    assert fee.monthly_fee == Decimal("11.06")  # 11.055, half up
    assert fee.paid_for_blocks == Decimal("10.00")


def test_the_explanation_shows_the_margin_as_a_percentage() -> None:
    fee = suggest_flat_fee([600, 600, 600], Decimal(3000), Decimal(100), Decimal("0.15"))
    assert fee is not None
    text = fee.explanation("EUR")
    assert "a 15 % margin" in text and "(10.0 h × 100 × 1.15 = 1150.00)" in text
