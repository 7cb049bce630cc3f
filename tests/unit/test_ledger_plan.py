"""The money rules of one entry (``bot.domain.charges.plan_entry``) and the balances they speak of, on
plain blocks, without a database: what the entry bills, which blocks pay, the usable balance before
and after, and whether the overdraft allows the overage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.domain.allocation import Draw
from bot.domain.charges import (
    Policy,
    account_balance,
    current_block_minutes,
    is_current,
    is_waiting,
    plan_entry,
    states,
    usable_balance,
    waiting,
)

TODAY = date(2026, 11, 25)
EXACT = Policy(rounding=1, minimum=0, overdraft=0, grace_days=7)


@dataclass(frozen=True)
class Held:
    id: int
    minutes: int
    remaining_minutes: int
    start_on: date
    expires_on: date | None = None


OPEN = Held(1, 600, 300, date(2026, 11, 1))
EXPIRED = Held(2, 600, 100, date(2026, 10, 1), date(2026, 11, 20))  # in its grace period until 27 Nov
CLOSED = Held(3, 600, 100, date(2026, 9, 1), date(2026, 10, 31))


def test_an_entry_bills_by_the_policy_and_the_work_type() -> None:
    policy = Policy(rounding=15, minimum=30, overdraft=0, grace_days=7)
    assert plan_entry(10, False, TODAY, TODAY, policy, [OPEN], 0).billable == 30
    assert plan_entry(40, False, TODAY, TODAY, policy, [OPEN], 0).billable == 45
    assert plan_entry(40, False, TODAY, TODAY, policy, [OPEN], 0, multiplier=Decimal(2)).billable == 90
    assert plan_entry(40, True, TODAY, TODAY, policy, [OPEN], 0).billable == 0


def test_an_entry_within_the_balance_lowers_it_by_what_it_bills() -> None:
    plan = plan_entry(120, False, TODAY, TODAY, EXACT, [OPEN], 0)
    assert plan.allocation.draws == (Draw(1, 120),)
    assert (plan.before, plan.after, plan.overage, plan.allowed, plan.block_minutes_before) == (300, 180, 0, True, 600)


def test_open_overage_is_part_of_the_balance_before() -> None:
    plan = plan_entry(60, False, TODAY, TODAY, Policy(1, 0, None, 7), [OPEN], 50)
    assert (plan.before, plan.after) == (250, 190)


def test_late_work_draws_from_a_block_in_its_grace_period_without_lowering_the_usable_balance() -> None:
    plan = plan_entry(60, False, date(2026, 11, 15), TODAY, EXACT, [EXPIRED, OPEN], 0)
    assert plan.allocation.draws == (Draw(2, 60),)
    assert (plan.before, plan.after) == (300, 300)


def test_a_closed_block_pays_for_nothing() -> None:
    plan = plan_entry(60, False, date(2026, 10, 15), TODAY, EXACT, [CLOSED, OPEN], 0)
    assert plan.allocation.draws == (Draw(1, 60),)
    assert states([CLOSED, OPEN], TODAY, 7)[0].id == 1


def test_a_correction_keeps_the_draws_it_had_first() -> None:
    plan = plan_entry(60, False, TODAY, TODAY, EXACT, [OPEN], 0, kept=(Draw(3, 40),))
    assert plan.allocation.draws == (Draw(3, 40), Draw(1, 20))
    assert plan.after == 280


def test_overage_is_allowed_as_far_as_the_overdraft_goes() -> None:
    small = Held(4, 60, 60, date(2026, 11, 1))
    within = plan_entry(90, False, TODAY, TODAY, Policy(1, 0, 30, 7), [small], 0)
    assert (within.overage, within.after, within.allowed) == (30, -30, True)
    beyond = plan_entry(91, False, TODAY, TODAY, Policy(1, 0, 30, 7), [small], 0)
    assert (beyond.overage, beyond.after, beyond.allowed) == (31, -31, False)
    unlimited = plan_entry(6000, False, TODAY, TODAY, Policy(1, 0, None, 7), [small], 0)
    assert unlimited.allowed


def test_an_entry_leaving_no_overage_is_allowed_even_below_an_old_overdraft() -> None:
    plan = plan_entry(10, False, TODAY, TODAY, EXACT, [OPEN], 500)
    assert (plan.after, plan.overage, plan.allowed) == (-210, 0, True)


def test_used_up_blocks_count_in_the_size_of_the_current_blocks_only_from_the_current_run() -> None:
    old_used = Held(5, 600, 0, date(2026, 1, 1))
    new_used = Held(6, 300, 0, date(2026, 11, 10))
    holding = Held(7, 600, 200, date(2026, 11, 5))
    dated_used = Held(8, 120, 0, date(2026, 1, 1), date(2026, 12, 31))
    assert current_block_minutes([old_used, new_used, holding, dated_used], TODAY) == 600 + 300 + 120
    assert current_block_minutes([old_used], TODAY) == 0
    same_day = Held(9, 60, 0, date(2026, 11, 5))
    assert current_block_minutes([holding, same_day], TODAY) == 660


def test_the_balances() -> None:
    later = Held(10, 600, 600, date(2026, 12, 1))
    assert usable_balance([OPEN, EXPIRED, later], 30, TODAY) == 270
    assert account_balance([OPEN, EXPIRED, later], 30) == 970
    assert is_current(OPEN, TODAY) and not is_current(EXPIRED, TODAY) and not is_current(later, TODAY)
    assert is_waiting(later, TODAY) and not is_waiting(Held(11, 60, 0, date(2026, 12, 1)), TODAY)
    assert not is_waiting(OPEN, TODAY)


def test_blocks_starting_the_same_day_wait_together() -> None:
    a, b = Held(12, 600, 600, date(2026, 12, 1)), Held(13, 120, 120, date(2026, 12, 1))
    assert waiting([a, b], TODAY).by_start == ((date(2026, 12, 1), 720),)
    assert waiting([a, b], TODAY).words() == "12h waiting to start on 1 Dec 2026"
