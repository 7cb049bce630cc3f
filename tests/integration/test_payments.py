"""Paid and unpaid blocks and pay-first (issue 26, part 1) on SQLite and PostgreSQL: the stored block and
its ledger lines, the everyday entry on the fast writer under pay-first, the figures balances and
statements show apart, and the words of the replies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.domain.dates import parse_period
from bot.phrasebook import figures_line, log_line, payment_line, topup_line
from bot.services import Actor, Context
from bot.services.reports import statement_facts
from storage.models import AuditLog, Block, Client, LedgerLine
from tests.helpers import balance_of, do


@pytest.fixture
def acme(ctx: Context, admin: Actor) -> str:
    do(ctx, admin, "client add acme Acme")
    return "acme"


def _block(ctx: Context, number: int) -> SimpleNamespace:
    """The stored block's columns."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        block = uow.session.scalar(select(Block).where(Block.number == number))
        assert block is not None
        return SimpleNamespace(**{c.key: getattr(block, c.key) for c in Block.__table__.columns})


def _lines(ctx: Context) -> list[tuple[str, int, int]]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = uow.session.scalars(select(LedgerLine).order_by(LedgerLine.id)).all()
        return [(x.kind, x.minutes, x.balance_after) for x in rows]


def test_an_unpaid_top_up_is_stored_unpaid_and_listed_apart(ctx: Context, admin: Actor, tech: Actor, acme: str) -> None:
    added = do(ctx, admin, "topup acme 10h unpaid invoice INV-1042")
    assert "Unpaid: `block paid acme 1` marks it paid." in topup_line(added)
    block = _block(ctx, 1)
    assert (block.paid, block.paid_at, block.source, block.reference) == (False, None, "topup", "INV-1042")
    do(ctx, tech, "logtime acme 1h printer")  # default: unpaid hours are used like paid ones
    view = balance_of(ctx, acme)
    assert (view.remaining_minutes, view.unpaid_minutes, view.held_for_payment_minutes) == (540, 540, 0)
    assert figures_line(view).endswith("= 9h left (9h unpaid) · used this month (by work date) 1h")
    data = do(ctx, admin, "blocks acme").as_dict()
    assert (data["blocks"][0]["paid"], data["blocks"][0]["paid_at"]) == (False, None)
    assert (data["balance"]["unpaid_minutes"], data["balance"]["held_for_payment_minutes"]) == (540, 0)


def test_pay_first_on_the_fast_writer_draws_only_from_paid_blocks_and_the_confirmation_says_so(
    ctx: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    do(ctx, admin, "client set acme pay-first on overdraft 10h")
    do(ctx, admin, "topup acme 2h")
    do(ctx, admin, "topup acme 10h unpaid invoice INV-1042")
    logged = do(ctx, tech, "logtime acme 3h server")
    assert (logged.overage_minutes, logged.remaining_minutes) == (60, -60)
    words = log_line(logged)
    assert "1h of it is overage (no paid block left to draw from): Acme is 1h over so far." in words
    assert "Acme has 10h unpaid waiting for payment (pay-first); this went to overage." in words
    assert (_block(ctx, 1).remaining_minutes, _block(ctx, 2).remaining_minutes) == (0, 600)
    view = balance_of(ctx, acme)
    assert (view.remaining_minutes, view.unpaid_minutes, view.held_for_payment_minutes) == (-60, 600, 600)
    assert "− unpaid, held for payment 10h" in figures_line(view)


def test_block_paid_under_pay_first_records_a_zero_line_and_pays_off_open_overage(
    ctx: Context, clock: FixedClock, admin: Actor, tech: Actor, acme: str
) -> None:
    do(ctx, admin, "client set acme pay-first on overdraft 10h")
    do(ctx, admin, "topup acme 10h unpaid invoice INV-1042")
    do(ctx, tech, "logtime acme 1h printer")
    clock.at = datetime(2026, 11, 26, 9, tzinfo=UTC)
    result = do(ctx, admin, "block paid acme 1")
    assert payment_line(result) == (
        "Block 1 of Acme (10h, INV-1042) marked paid. Acme: 9h left. 1h of overage was paid off from it."
    )
    block = _block(ctx, 1)
    assert (block.paid, block.paid_by, block.paid_at, block.remaining_minutes) == (True, admin.user_id, clock.at, 540)
    assert _lines(ctx)[-1] == ("paid", 0, 540)
    again = do(ctx, admin, "block paid acme 1")
    assert payment_line(again) == "Block 1 of Acme (10h, INV-1042) is already paid (since 2026-11-26); nothing changed."
    assert _lines(ctx)[-1] == ("paid", 0, 540)
    with ctx.db.unit_of_work(read_only=True) as uow:
        audit = uow.session.execute(select(AuditLog.target, AuditLog.before).where(AuditLog.action == "block_paid"))
        found = [(target, json.loads(before or "{}")["paid"]) for target, before in audit]
    assert found == [(f"block:{block.id}", False)]


def test_block_unpaid_takes_an_admin_and_a_reason_and_the_statement_still_reconciles(
    ctx: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    do(ctx, admin, "client set acme pay-first on")
    do(ctx, admin, "topup acme 10h")
    do(ctx, tech, "logtime acme 1h printer")
    result = do(ctx, admin, "block unpaid acme 1 card charge reversed")
    assert payment_line(result) == (
        "Block 1 of Acme (10h) marked unpaid: card charge reversed. Acme: 0m left (9h unpaid, held for payment)."
    )
    assert _lines(ctx)[-1] == ("unpaid", 0, 540)
    with ctx.db.unit_of_work(read_only=True) as uow:
        client = uow.session.scalar(select(Client).where(Client.handle == "acme"))
        assert client is not None
        facts = statement_facts(uow, client, parse_period("this month", ctx.today()), ctx)
    assert (facts["opening_minutes"], facts["bought_minutes"], facts["used_minutes"], facts["closing_minutes"]) == (
        0,
        600,
        60,
        540,
    )
    assert (facts["unpaid_minutes"], facts["held_for_payment_minutes"]) == (540, 540)
