"""The ledger's rules on blocks that start later: bought (account balance) but not usable balance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.domain.charges import Policy, account_balance, current_block_minutes, plan_entry, usable_balance, waiting

TODAY = date(2026, 11, 25)
NO_OVERDRAFT = Policy(rounding=1, minimum=0, overdraft=0, grace_days=7)


@dataclass(frozen=True)
class Held:
    id: int
    minutes: int
    remaining_minutes: int
    start_on: date
    expires_on: date | None = None


LATER = Held(1, 600, 600, date(2026, 12, 15), date(2027, 12, 14))
NOW_OPEN = Held(2, 120, 120, date(2026, 11, 1))


def test_a_block_that_starts_later_is_held_but_not_usable() -> None:
    assert usable_balance([LATER, NOW_OPEN], 0, TODAY) == 120
    assert account_balance([LATER, NOW_OPEN], 0) == 720
    assert current_block_minutes([LATER, NOW_OPEN], TODAY) == 120
    assert usable_balance([LATER], 0, date(2026, 12, 15)) == 600  # from its start day


def test_the_overdraft_is_checked_against_what_can_be_drawn_today() -> None:
    plan = plan_entry(120, False, TODAY, TODAY, NO_OVERDRAFT, [LATER], 0)
    assert (plan.before, plan.after, plan.overage, plan.allowed) == (0, -120, 120, False)


def test_waiting_hours_are_told_by_start_date() -> None:
    assert waiting([LATER, NOW_OPEN], TODAY).words() == "10h waiting to start on 15 Dec 2026"
    two = waiting([LATER, Held(3, 300, 300, date(2027, 1, 1))], TODAY)
    assert (two.minutes, two.starts_on) == (900, date(2026, 12, 15))
    assert two.words() == "10h waiting to start on 15 Dec 2026, 5h on 1 Jan 2027"
    assert waiting([LATER], date(2026, 12, 15)).words() is None
