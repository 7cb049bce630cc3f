"""The ledger's use cases on a real database (SQLite file and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.domain.errors import NotFound, PermissionDenied, Refused
from bot.services import Actor, Context
from bot.services.hours import expire_blocks
from storage.models import AuditLog, Block, Draw, LedgerLine
from tests.helpers import balance_of, do, entry_count


@pytest.fixture
def acme(ctx: Context, admin: Actor) -> str:
    do(ctx, admin, "client add acme Acme Corp")
    return "acme"


def test_an_entry_draws_from_the_block_and_lowers_the_balance(
    ctx: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    do(ctx, admin, "topup acme 10")
    result = do(ctx, tech, "logtime acme 15m laptop advice")
    assert (result.minutes, result.billable_minutes, result.remaining_minutes) == (15, 15, 585)
    view = balance_of(ctx, "acme")
    assert (view.purchased_minutes, view.used_minutes, view.remaining_minutes, view.forfeited_minutes) == (
        600,
        15,
        585,
        0,
    )
    assert view.used_this_month_minutes == 15 and view.last_entries[0].user_name == "Tess Tech"


def test_fifo_takes_the_block_expiring_first_and_spans_blocks(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "topup acme 1")  # never expires
    do(ctx, admin, "topup acme 1 expires 2026-12-31")
    do(ctx, admin, "logtime acme 1h30m migration")
    blocks = {b.id: b for b in do(ctx, admin, "blocks acme").blocks}
    assert blocks[2].remaining_minutes == 0 and blocks[1].remaining_minutes == 30
    with ctx.db.unit_of_work(read_only=True) as uow:
        draws = [(d.block_id, d.minutes) for d in uow.session.scalars(select(Draw).order_by(Draw.id))]
    assert draws == [(2, 60), (1, 30)]


def test_rounding_and_minimum_follow_the_client_policy(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "client set acme rounding 15m minimum 30m")
    do(ctx, admin, "topup acme 10")
    assert do(ctx, admin, "logtime acme 5m quick question").billable_minutes == 30
    assert do(ctx, admin, "logtime acme 40m printer").billable_minutes == 45
    assert do(ctx, admin, "logtime acme 20m --nb coffee chat").billable_minutes == 0
    assert balance_of(ctx, "acme").used_minutes == 75


def test_without_overdraft_an_entry_past_the_block_is_refused_and_nothing_is_written(
    ctx: Context, admin: Actor, acme: str
) -> None:
    do(ctx, admin, "topup acme 1")
    do(ctx, admin, "logtime acme 45m a")
    with pytest.raises(Refused, match="has 15m left and this entry needs 30m"):
        do(ctx, admin, "logtime acme 30m b")
    assert entry_count(ctx) == 1 and balance_of(ctx, "acme").remaining_minutes == 15


def test_within_the_overdraft_the_rest_becomes_overage(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "client set acme overdraft 1h")
    do(ctx, admin, "topup acme 1")
    result = do(ctx, admin, "logtime acme 1h30m big job")
    assert (result.overage_minutes, result.remaining_minutes) == (30, -30)
    with pytest.raises(Refused, match="overdraft limit of 1h"):
        do(ctx, admin, "logtime acme 31m more")


def test_carry_lets_the_new_block_pay_off_overage_first(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "client set acme overdraft 2h overage carry")
    do(ctx, admin, "logtime acme 45m before any block")
    top = do(ctx, admin, "topup acme 10")
    assert (top.carried_overage_minutes, top.remaining_minutes) == (45, 555)
    view = balance_of(ctx, "acme")
    assert view.remaining_minutes == view.purchased_minutes - view.used_minutes - view.forfeited_minutes


def test_bill_keeps_overage_as_its_own_line_and_the_new_block_starts_full(
    ctx: Context, admin: Actor, acme: str
) -> None:
    do(ctx, admin, "client set acme overdraft 2h overage bill")
    do(ctx, admin, "logtime acme 45m before any block")
    top = do(ctx, admin, "topup acme 10")
    assert (top.billed_overage_minutes, top.remaining_minutes) == (45, 600)
    view = balance_of(ctx, "acme")
    assert (view.billed_overage_minutes, view.overage_minutes, view.used_minutes) == (45, 0, 45)


def test_voiding_an_entry_returns_its_minutes_to_the_blocks_it_drew_from(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "topup acme 1 expires 2026-12-31")
    do(ctx, admin, "topup acme 1")
    entry = do(ctx, admin, "logtime acme 1h30m x")
    voided = do(ctx, admin, f"void {entry.entry_id} typo")
    assert voided.remaining_minutes == 120
    assert [b.remaining_minutes for b in do(ctx, admin, "blocks acme").blocks] == [60, 60]
    with pytest.raises(Refused, match="already voided"):
        do(ctx, admin, f"void {entry.entry_id}")
    assert balance_of(ctx, "acme").used_minutes == 0


def test_a_void_under_carry_pays_off_open_overage(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "client set acme overdraft 1h")
    do(ctx, admin, "topup acme 1")
    first = do(ctx, admin, "logtime acme 1h a")
    do(ctx, admin, "logtime acme 30m b")  # overage 30
    assert do(ctx, admin, f"void {first.entry_id}").remaining_minutes == 30
    view = balance_of(ctx, "acme")
    assert (view.overage_minutes, view.remaining_minutes) == (0, 30)


def test_editing_voids_and_records_a_corrected_entry(ctx: Context, admin: Actor, tech: Actor, acme: str) -> None:
    do(ctx, admin, "topup acme 10")
    entry = do(ctx, tech, "logtime acme 30m yesterday vpn #77")
    edited = do(ctx, tech, f"edit {entry.entry_id} 45m")
    assert edited.replaces_entry_id == entry.entry_id and edited.billable_minutes == 45
    assert edited.work_date == date(2026, 11, 24) and edited.note == "vpn #77" and edited.ticket == "#77"
    assert balance_of(ctx, "acme").remaining_minutes == 555


def test_expiry_forfeits_unused_minutes_by_a_ledger_line(
    ctx: Context, clock: FixedClock, admin: Actor, acme: str
) -> None:
    do(ctx, admin, "topup acme 2 expires 2026-11-30")
    do(ctx, admin, "logtime acme 30m a")
    clock.advance(days=12)  # 2026-12-07: the closing day (expiry + 7 days' grace)
    assert expire_blocks(ctx, admin) == []
    clock.advance(days=1)
    assert expire_blocks(ctx, admin) == [("acme", 90)]
    assert expire_blocks(ctx, admin) == []  # idempotent
    view = balance_of(ctx, "acme")
    assert (view.forfeited_minutes, view.remaining_minutes) == (90, 0)
    with ctx.db.unit_of_work(read_only=True) as uow:
        line = uow.session.scalar(select(LedgerLine).where(LedgerLine.kind == "forfeit"))
        assert line is not None and line.minutes == -90 and line.balance_after == 0


def test_a_balance_read_shows_an_expired_block_in_grace_apart_then_records_its_forfeit_before_the_job_runs(
    ctx: Context, clock: FixedClock, admin: Actor, acme: str
) -> None:
    do(ctx, admin, "topup acme 2 expires 2026-11-30")
    clock.advance(days=6)
    view = balance_of(ctx, "acme")
    assert (view.remaining_minutes, view.forfeited_minutes, view.in_grace_minutes) == (0, 0, 120)
    assert view.blocks[0].closing_on == date(2026, 12, 7)
    clock.advance(days=7)
    view = balance_of(ctx, "acme")
    assert (view.remaining_minutes, view.forfeited_minutes, view.in_grace_minutes) == (0, 120, 0)
    # a forfeit the balance shows is one the ledger records; the header and the block's row agree
    with ctx.db.unit_of_work(read_only=True) as uow:
        line = uow.session.scalar(select(LedgerLine).where(LedgerLine.kind == "forfeit"))
        assert line is not None and line.minutes == -120
    (row,) = do(ctx, admin, "blocks acme").blocks
    assert (row.remaining_minutes, row.forfeited_minutes) == (0, 120)


def test_voiding_a_topup_redraws_its_minutes_elsewhere(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "client set acme overdraft unlimited")
    do(ctx, admin, "topup acme 1")
    wrong = do(ctx, admin, "topup acme 20 expires 2026-12-31")
    do(ctx, admin, "logtime acme 1h30m work")  # draws 90 from the expiring block
    result = do(ctx, admin, f"void topup {wrong.block_id} typo, meant 2")
    assert result.remaining_minutes == -30
    view = balance_of(ctx, "acme")
    assert (view.purchased_minutes, view.used_minutes, view.overage_minutes) == (60, 90, 30)


def test_an_idempotency_key_records_one_entry_for_two_requests(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "topup acme 10")
    first = do(ctx, admin, "logtime acme 15m a", idempotency_key="slack:trigger:1")
    again = do(ctx, admin, "logtime acme 15m a", idempotency_key="slack:trigger:1")
    assert again.entry_id == first.entry_id and again.duplicate and not first.duplicate
    assert entry_count(ctx) == 1 and balance_of(ctx, "acme").remaining_minutes == 585


def test_unknown_clients_get_suggestions(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "client alias acme acme-corp")
    with pytest.raises(NotFound, match="Did you mean `acme`"):
        do(ctx, admin, "logtime acmee 15m x")
    assert do(ctx, admin, "balance ACME-CORP").balances[0].client == "acme"


def test_archived_clients_take_no_new_time(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "topup acme 1")
    do(ctx, admin, "client archive acme")
    with pytest.raises(Refused, match="archived"):
        do(ctx, admin, "logtime acme 15m x")
    assert do(ctx, admin, "balance").balances == []


def test_handles_and_aliases_are_unique(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "client add globex Globex")
    with pytest.raises(Refused, match="already"):
        do(ctx, admin, "client add ACME Other")
    with pytest.raises(Refused, match="already"):
        do(ctx, admin, "client alias globex acme")


def test_balance_without_a_client_lists_every_client_lowest_first(ctx: Context, admin: Actor) -> None:
    for handle, hours in (("a", 5), ("b", 1), ("c", 3)):
        do(ctx, admin, f"client add {handle} {handle.upper()}")
        do(ctx, admin, f"topup {handle} {hours}")
    assert [v.client for v in do(ctx, admin, "balance").balances] == ["b", "c", "a"]


def test_every_change_is_audited_with_before_and_after(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "client set acme rounding 15m")
    top = do(ctx, admin, "topup acme 10 price 1500 ref INV-1")
    do(ctx, admin, f"void topup {top.block_id}")
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = [
            (r.action, r.actor, r.before, r.after) for r in uow.session.scalars(select(AuditLog).order_by(AuditLog.id))
        ]
    assert [r[0] for r in rows] == ["client_add", "client_set", "topup", "void_topup"]
    assert json.loads(rows[1][2] or "{}")["rounding_minutes"] == 0
    assert json.loads(rows[1][3] or "{}")["rounding_minutes"] == 15
    assert json.loads(rows[2][3] or "{}")["price"] == "1500.00" and rows[2][1] == "cli"


def test_prices_are_stored_exactly(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "topup acme 10 price 1234.56")
    with ctx.db.unit_of_work(read_only=True) as uow:
        block = uow.session.scalar(select(Block))
        assert block is not None and str(block.price) == "1234.56"


class TestRoles:
    def test_technicians_cannot_top_up_or_change_clients(self, ctx: Context, tech: Actor, acme: str) -> None:
        with pytest.raises(PermissionDenied, match="Only account managers and admins can top up"):
            do(ctx, tech, "topup acme 10")
        with pytest.raises(PermissionDenied, match="Only admins"):
            do(ctx, tech, "client set acme overdraft unlimited")
        with pytest.raises(PermissionDenied):
            do(ctx, tech, "role <@UTECH> admin")
        assert balance_of(ctx, "acme").purchased_minutes == 0

    def test_admins_from_settings_and_assigned_managers(
        self, ctx: Context, admin: Actor, tech: Actor, acme: str
    ) -> None:
        do(ctx, Actor("UADMIN"), "role <@UTECH> manager")
        assert do(ctx, tech, "topup acme 1").minutes == 60
        with pytest.raises(PermissionDenied, match="Only admins"):
            do(ctx, tech, "client add x X")

    def test_technicians_void_only_their_own_entries_within_a_day(
        self, ctx: Context, clock: FixedClock, admin: Actor, tech: Actor, acme: str
    ) -> None:
        do(ctx, admin, "topup acme 10")
        mine = do(ctx, tech, "logtime acme 15m mine")
        theirs = do(ctx, admin, "logtime acme 15m theirs")
        with pytest.raises(PermissionDenied, match="someone else's"):
            do(ctx, tech, f"void {theirs.entry_id}")
        old = do(ctx, tech, "logtime acme 15m old")
        do(ctx, tech, f"void {mine.entry_id}")
        clock.advance(hours=25)
        with pytest.raises(PermissionDenied, match="24 hours"):
            do(ctx, tech, f"void {old.entry_id}")
        do(ctx, admin, f"void {old.entry_id}")
        assert balance_of(ctx, "acme").used_minutes == 15


def test_the_work_date_defaults_to_today_in_the_clients_timezone(
    ctx: Context, clock: FixedClock, admin: Actor, acme: str
) -> None:
    do(ctx, admin, "client set acme timezone Pacific/Auckland")
    do(ctx, admin, "topup acme 1")
    clock.at = clock.at.replace(hour=20)  # 20:00 UTC is already tomorrow in Auckland
    assert do(ctx, admin, "logtime acme 15m x").work_date == clock.at.date() + timedelta(days=1)
