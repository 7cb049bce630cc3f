"""``approve acme 2h`` while the client is not in overage is a pre-approval: the reply says it applies
to the next overage, and it does (kept until that overage is paid off, then spent), on both databases."""

from __future__ import annotations

import pytest

from bot.domain.errors import Refused
from bot.services import Actor, Context
from tests.helpers import do
from tests.integration.test_overage_holds import MANAGER, acme, refused

__all__ = ["acme"]  # the fixture


def test_an_approval_before_any_overage_says_it_applies_to_the_next_one(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "client set acme hold-at 2h")
    approved = do(ctx, MANAGER, "approve acme 2h")
    assert approved.message == (
        "2h more overage approved for Acme Corp (by an account manager). Acme Corp is not in overage now: "
        "this is a pre-approval for its next overage, where new time is held past 4h of overage "
        "(the hold at 2h + 2h approved). Approvals are spent once that overage is paid off."
    )
    assert approved.data["pre_approval"] is True and approved.data["allowed_overage_minutes"] == 240


def test_an_approval_in_overage_is_not_called_a_pre_approval(
    ctx: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    do(ctx, admin, "client set acme hold-at 2h")
    do(ctx, tech, "logtime acme 2h migration")  # 1h over
    approved = do(ctx, MANAGER, "approve acme 2h")
    assert "pre-approval" not in approved.message and approved.data["pre_approval"] is False


def test_a_pre_approval_lifts_the_hold_of_the_next_overage_and_is_spent_once_it_is_paid_off(
    ctx: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    do(ctx, admin, "client set acme hold-at 1h")
    do(ctx, MANAGER, "approve acme 1h")
    do(ctx, tech, "logtime acme 3h migration")  # 1h from the block, 2h over: the hold + the pre-approval
    assert "Acme Corp is 2h over" in refused(ctx, tech, "logtime acme 15m more")
    do(ctx, admin, "topup acme 5")  # pays the overage off (carry): the approval is spent
    do(ctx, tech, "logtime acme 4h next")  # 3h -> 1h over
    with pytest.raises(Refused):
        do(ctx, tech, "logtime acme 15m more")  # 1h15m over: past the hold alone
