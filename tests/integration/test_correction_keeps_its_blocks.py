"""A correction never costs the client more than the entry it corrects: the corrected entry keeps
drawing from the blocks that paid the original, whatever their state now (unpaid under pay-first, marked
unpaid since); only extra minutes follow the normal rules (both databases)."""

from __future__ import annotations

from bot.phrasebook import log_line
from bot.services import Actor, Context
from tests.helpers import balance_of, do


def _acme(ctx: Context, admin: Actor, overdraft: bool) -> None:
    do(ctx, admin, "client add acme Acme Corp")
    if overdraft:
        do(ctx, admin, "client set acme overdraft unlimited")


def test_an_edit_under_pay_first_keeps_drawing_from_the_unpaid_block_that_paid_it(ctx: Context, admin: Actor) -> None:
    _acme(ctx, admin, overdraft=True)
    do(ctx, admin, "topup acme 10h unpaid invoice INV-1")
    do(ctx, admin, "logtime acme 2h server patching")
    do(ctx, admin, "client set acme pay-first on")
    result = do(ctx, admin, "edit 1 2h server patching, ticket added")
    assert "overage" not in log_line(result)
    assert result.as_dict()["overage_minutes"] == 0
    assert balance_of(ctx, "acme").overage_minutes == 0


def test_an_edit_after_block_unpaid_keeps_drawing_from_that_block(ctx: Context, admin: Actor) -> None:
    _acme(ctx, admin, overdraft=True)
    do(ctx, admin, "topup acme 10h invoice INV-1")
    do(ctx, admin, "logtime acme 2h server patching")
    do(ctx, admin, "client set acme pay-first on")
    do(ctx, admin, "block unpaid acme 1 card charge reversed")
    result = do(ctx, admin, "edit 1 2h server patching, ticket added")
    assert result.as_dict()["overage_minutes"] == 0
    assert balance_of(ctx, "acme").overage_minutes == 0


def test_without_overdraft_such_an_edit_is_allowed(ctx: Context, admin: Actor) -> None:
    _acme(ctx, admin, overdraft=False)
    do(ctx, admin, "topup acme 10h unpaid invoice INV-1")
    do(ctx, admin, "logtime acme 2h server patching")
    do(ctx, admin, "client set acme pay-first on")
    result = do(ctx, admin, "edit 1 2h server patching, ticket added")
    assert result.as_dict()["overage_minutes"] == 0


def test_only_the_extra_minutes_of_a_longer_edit_follow_the_normal_rules(ctx: Context, admin: Actor) -> None:
    _acme(ctx, admin, overdraft=True)
    do(ctx, admin, "topup acme 10h unpaid invoice INV-1")
    do(ctx, admin, "logtime acme 2h server patching")
    do(ctx, admin, "client set acme pay-first on")
    result = do(ctx, admin, "edit 1 3h server patching, ticket added")
    assert result.as_dict()["overage_minutes"] == 60  # the extra hour: no paid block, so overage
    assert balance_of(ctx, "acme").overage_minutes == 60
