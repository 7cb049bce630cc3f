"""Threshold crossing: one alert for the lowest threshold a change crosses, re-armed by a rise."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.errors import ParseError
from bot.domain.thresholds import Threshold, crossing, hours_state, lowest_above_zero, meter_marks, parse_thresholds

DEFAULT = parse_thresholds("50%,25%,10%,0")


def test_thresholds_mix_percentages_and_hours() -> None:
    assert parse_thresholds("50%,25%,2h,0") == (Threshold(50), Threshold(25), Threshold(None, 120), Threshold(None, 0))
    with pytest.raises(ParseError):
        parse_thresholds("150%")


def test_one_change_through_several_thresholds_reports_the_lowest() -> None:
    found = crossing(600, 100, DEFAULT, 1000)
    assert found is not None and found.threshold == Threshold(10) and found.level == 100


def test_going_further_below_a_crossed_threshold_is_silent() -> None:
    assert crossing(400, 300, DEFAULT, 1000) is None


def test_rises_never_alert() -> None:
    assert crossing(100, 900, DEFAULT, 1000) is None


def test_overdraft_steps_alert_again_each_step() -> None:
    found = crossing(-50, -130, DEFAULT, 1000, overdraft_step=60)
    assert found is not None and found.level == -120


@given(st.lists(st.integers(-300, 1200), min_size=2, max_size=30))
def test_each_threshold_fires_once_until_the_balance_rises_above_it(balances: list[int]) -> None:
    fired: dict[int, int] = {}
    for before, after in zip(balances, balances[1:], strict=False):
        found = crossing(before, after, DEFAULT, 1000)
        if found is not None:
            assert after <= found.level < before
            # no lower level was crossed by the same change
            assert not any(after <= t.level(1000) < found.level for t in DEFAULT)
            fired[found.level] = fired.get(found.level, 0) + 1
    for level, count in fired.items():
        rises = sum(1 for a, b in zip(balances, balances[1:], strict=False) if a <= level < b)
        assert count <= rises + 1


def test_the_lowest_threshold_above_zero_is_the_digests_low_mark() -> None:
    thresholds = parse_thresholds("50%,2h,10%,0")
    assert lowest_above_zero(thresholds, 600) == Threshold(percent=10)  # 1h, under 2h
    assert lowest_above_zero(thresholds, 3000) == Threshold(minutes=120)  # 10% is 5h here
    assert lowest_above_zero(parse_thresholds("25%,0"), 0) is None  # no current block: no share


@given(
    remaining=st.integers(min_value=-5000, max_value=200_000),
    block_minutes=st.integers(min_value=1, max_value=200_000),
    thresholds=st.sampled_from(["50%,25%,10%,0", "25%,2h,0", "33%,0", "0"]),
)
def test_the_pages_meter_is_under_its_low_mark_exactly_when_the_client_is_low_or_worse(
    remaining: int, block_minutes: int, thresholds: str
) -> None:
    marks = meter_marks(remaining, parse_thresholds(thresholds), block_minutes)
    assert marks is not None
    value, low = (Decimal(mark) for mark in marks)
    state = hours_state(remaining, block_minutes, parse_thresholds(thresholds))
    assert (value < low) == (state != "healthy")
    assert Decimal(0) <= value <= Decimal(100)


def test_the_pages_meter_has_no_marks_without_a_current_block() -> None:
    assert meter_marks(0, DEFAULT, 0) is None
