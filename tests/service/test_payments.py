"""Paid and unpaid blocks and pay-first (issue 26, part 1) without a database: an unpaid top-up, ``block
paid``/``block unpaid`` (roles, reason, audit, the 0-minute ledger line, a second mark changing nothing),
pay-first drawing only from paid blocks, and the figures balances show apart."""

from __future__ import annotations

import pytest

from bot.domain.errors import NotFound, ParseError, PermissionDenied, Refused
from bot.domain.roles import Standing
from bot.services import Actor, Context
from bot.services.payments import PaymentResult
from tests.fakes.memory import MemoryDatabase, Row
from tests.helpers import balance_of, do


@pytest.fixture
def acme(ctx: Context, admin: Actor) -> str:
    do(ctx, admin, "client add acme Acme Corp")
    return "acme"


@pytest.fixture
def manager(ctx: Context) -> Actor:
    with ctx.db.unit_of_work() as uow:
        uow.roles.grant("UMGR", "manager", "UADMIN", ctx.now())
        uow.commit()
    return Actor("UMGR", "Mia Manager")


def _block(memory: MemoryDatabase, number: int) -> Row:
    return next(b for b in memory.tables.blocks.values() if b.number == number)


def _lines(memory: MemoryDatabase) -> list[tuple[str, int, int]]:
    return [(x.kind, x.minutes, x.balance_after) for x in sorted(memory.tables.lines.values(), key=lambda x: x.id)]


def test_an_unpaid_top_up_is_stored_unpaid_and_used_like_a_paid_one_by_default(
    ctx: Context, admin: Actor, tech: Actor, memory: MemoryDatabase, acme: str
) -> None:
    result = do(ctx, admin, "topup acme 10h unpaid invoice INV-1042")
    assert (result.paid, result.reference, result.held_for_payment_minutes) == (False, "INV-1042", 0)
    block = _block(memory, 1)
    assert (block.paid, block.paid_at, block.source) == (False, None, "topup")
    logged = do(ctx, tech, "logtime acme 1h printer")
    assert (logged.overage_minutes, logged.remaining_minutes, logged.held_for_payment_minutes) == (0, 540, 0)
    view = balance_of(ctx, acme)
    assert (view.remaining_minutes, view.unpaid_minutes, view.held_for_payment_minutes) == (540, 540, 0)
    assert view.as_dict()["blocks"][0]["paid"] is False


def test_a_top_up_is_paid_unless_it_says_unpaid(ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str) -> None:
    assert do(ctx, admin, "topup acme 10 paid ref INV-1").paid is True
    assert do(ctx, admin, "topup acme 5").paid is True
    view = balance_of(ctx, acme)
    assert (view.unpaid_minutes, view.held_for_payment_minutes) == (0, 0)
    assert all(b["paid"] and b["paid_at"] for b in view.as_dict()["blocks"])


def test_under_pay_first_time_draws_only_from_paid_blocks_then_overage_and_says_why(
    ctx: Context, admin: Actor, tech: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "client set acme pay-first on overdraft 5h")
    do(ctx, admin, "topup acme 2h")
    do(ctx, admin, "topup acme 10h unpaid invoice INV-1042")
    view = balance_of(ctx, acme)
    assert (view.remaining_minutes, view.unpaid_minutes, view.held_for_payment_minutes) == (120, 600, 600)
    logged = do(ctx, tech, "logtime acme 3h server")
    assert (logged.overage_minutes, logged.remaining_minutes, logged.held_for_payment_minutes) == (60, -60, 600)
    assert _block(memory, 2).remaining_minutes == 600  # the unpaid block paid for nothing
    assert _block(memory, 1).remaining_minutes == 0


def test_marking_the_block_paid_under_pay_first_and_carry_pays_off_open_overage(
    ctx: Context, admin: Actor, tech: Actor, manager: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "client set acme pay-first on overdraft 5h")
    do(ctx, admin, "topup acme 10h unpaid invoice INV-1042")
    do(ctx, tech, "logtime acme 1h printer")
    result = do(ctx, manager, "block paid acme 1")
    assert isinstance(result, PaymentResult)
    assert (result.changed, result.paid, result.carried_overage_minutes, result.remaining_minutes) == (
        True,
        True,
        60,
        540,
    )
    block = _block(memory, 1)
    assert (block.paid, block.paid_by, block.paid_at) == (True, "UMGR", ctx.now())
    assert _lines(memory)[-1] == ("paid", 0, 540)
    audit = memory.tables.audit[-1]
    assert (audit.action, audit.target, audit.before["paid"], audit.after["paid"]) == (
        "block_paid",
        f"block:{block.id}",
        False,
        True,
    )
    view = balance_of(ctx, acme)
    assert (view.remaining_minutes, view.overage_minutes, view.unpaid_minutes) == (540, 0, 0)


def test_marking_a_paid_block_paid_again_writes_nothing(
    ctx: Context, admin: Actor, manager: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "topup acme 10h unpaid")
    do(ctx, manager, "block paid acme 1")
    lines, audits = len(memory.tables.lines), len(memory.tables.audit)
    again = do(ctx, manager, "block paid acme 1")
    assert again.changed is False
    assert (len(memory.tables.lines), len(memory.tables.audit)) == (lines, audits)


def test_a_refusal_under_pay_first_says_an_unpaid_block_is_waiting(
    ctx: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    do(ctx, admin, "client set acme pay-first on")
    do(ctx, admin, "topup acme 10h unpaid invoice INV-1042")
    with pytest.raises(Refused, match="Acme Corp has 10h unpaid waiting for payment"):
        do(ctx, tech, "logtime acme 1h printer")


def test_only_managers_mark_a_block_paid(ctx: Context, admin: Actor, tech: Actor, acme: str) -> None:
    do(ctx, admin, "topup acme 10h unpaid")
    with pytest.raises(PermissionDenied, match="manager"):
        do(ctx, tech, "block paid acme 1")


@pytest.mark.parametrize(
    ("standing", "granted"), [(Standing.GUEST, None), (Standing.EXTERNAL, None), (Standing.EXTERNAL, "manager")]
)
def test_a_guest_or_a_slack_connect_member_is_refused_block_paid(
    ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str, standing: Standing, granted: str | None
) -> None:
    do(ctx, admin, "topup acme 10h unpaid")
    if granted:  # a role given to someone of another organisation counts for nothing
        with ctx.db.unit_of_work() as uow:
            uow.roles.grant("UOUT", granted, "UADMIN", ctx.now())
            uow.commit()
    outsider = Actor("UOUT", "Cleo Client", standing=standing)
    with pytest.raises(PermissionDenied, match="Only the MSP's staff"):
        do(ctx, outsider, "block paid acme 1")
    assert _block(memory, 1).paid is False


def test_block_unpaid_needs_an_admin_and_a_reason_and_is_audited(
    ctx: Context, admin: Actor, manager: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "topup acme 10h")
    with pytest.raises(PermissionDenied, match="admin"):
        do(ctx, manager, "block unpaid acme 1 card charge reversed")
    with pytest.raises(ParseError, match="reason"):
        do(ctx, admin, "block unpaid acme 1")
    result = do(ctx, admin, "block unpaid acme 1 card charge reversed")
    assert (result.changed, result.paid, result.reason) == (True, False, "card charge reversed")
    block = _block(memory, 1)
    assert (block.paid, block.paid_at, block.paid_by) == (False, None, None)
    assert _lines(memory)[-1] == ("unpaid", 0, 600)
    audit = memory.tables.audit[-1]
    assert (audit.action, audit.after["paid"], audit.after["reason"]) == ("block_unpaid", False, "card charge reversed")


def test_a_block_marked_unpaid_under_pay_first_stops_paying_but_what_it_paid_stays(
    ctx: Context, admin: Actor, tech: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "client set acme pay-first on overdraft 5h")
    do(ctx, admin, "topup acme 10h")
    entry = do(ctx, tech, "logtime acme 1h printer")
    do(ctx, admin, "block unpaid acme 1 cheque bounced")
    view = balance_of(ctx, acme)
    assert (view.remaining_minutes, view.held_for_payment_minutes) == (0, 540)
    assert memory.tables.entries[entry.entry_id].overage_minutes == 0
    assert do(ctx, tech, "logtime acme 30m more").overage_minutes == 30


def test_a_voided_or_unknown_block_is_not_marked(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "topup acme 10h unpaid")
    do(ctx, admin, "void topup acme 1 typo")
    with pytest.raises(Refused, match="voided"):
        do(ctx, admin, "block paid acme 1")
    with pytest.raises(NotFound, match="no block 7"):
        do(ctx, admin, "block paid acme 7")


def test_pay_first_is_a_client_setting_shown_and_audited(
    ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str
) -> None:
    view = do(ctx, admin, "client set acme pay-first on")
    assert view.pay_first is True and view.as_dict()["pay_first"] is True
    audit = memory.tables.audit[-1]
    assert (audit.action, audit.before["pay_first"], audit.after["pay_first"]) == ("client_set", False, True)
    assert do(ctx, admin, "client set acme pay-first off").pay_first is False
