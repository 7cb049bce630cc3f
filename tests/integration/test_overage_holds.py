"""Overage under control (issue 26, part 6), on SQLite and PostgreSQL: the confirmation says when an
entry takes a client into overage and how far, ``client set acme hold-at 2h|25%|none`` refuses new
time past the hold (nothing written, whatever sent it), ``approve acme 2h`` lifts it by that much
only, and everything is audited. Nothing already logged changes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.domain.errors import PermissionDenied, Refused
from bot.phrasebook import log_line
from bot.services import Actor, Context, run_text
from storage.models import AuditLog, Client, Entry, LedgerLine
from tests.helpers import balance_of, do, entry_count

HELD = "Acme Corp is 2h over; ask an account manager or the client to approve more"
MANAGER = Actor("UMGR", "Mia Manager")


@pytest.fixture
def acme(ctx: Context, admin: Actor) -> str:
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "role <@UMGR> manager")
    do(ctx, admin, "client set acme overdraft unlimited")
    do(ctx, admin, "topup acme 1")
    return "acme"


def written(ctx: Context) -> tuple[int, int, int]:
    """Entries, ledger lines and the client's used minutes: what a refused entry must not change."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        lines = int(uow.session.scalar(select(func.count()).select_from(LedgerLine)) or 0)
        used = uow.session.scalar(select(Client.used_minutes).where(Client.handle == "acme"))
    return entry_count(ctx), lines, int(used or 0)


def audit(ctx: Context, action: str) -> list[AuditLog]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = list(uow.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))
        uow.session.expunge_all()
        return rows


def refused(ctx: Context, actor: Actor, line: str) -> str:
    before = written(ctx)
    with pytest.raises(Refused) as error:
        do(ctx, actor, line)
    assert written(ctx) == before  # nothing written
    return str(error.value)


def test_the_confirmation_says_plainly_when_an_entry_takes_the_client_into_overage(
    ctx: Context, tech: Actor, acme: str
) -> None:
    first = do(ctx, tech, "logtime acme 1h30m server")
    assert (first.overage_minutes, first.overage_so_far_minutes, first.hold_left_minutes) == (30, 30, None)
    assert "30m of it is overage (no block left to draw from): Acme Corp is 30m over so far." in log_line(first)
    second = do(ctx, tech, "logtime acme 1h printer")
    assert "1h of it is overage (no block left to draw from): Acme Corp is 1h 30m over so far." in log_line(second)
    covered = do(ctx, tech, "logtime acme 15m advice --nb")
    assert "over so far" not in log_line(covered)


def test_past_the_hold_new_time_is_refused_and_nothing_is_written(
    ctx: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    do(ctx, admin, "client set acme hold-at 2h")
    logged = do(ctx, tech, "logtime acme 3h migration")  # 1h from the block, 2h overage: at the hold
    assert logged.overage_so_far_minutes == 120 and logged.hold_left_minutes == 0
    assert "New time is now on hold until an account manager or the client approves more." in log_line(logged)
    message = refused(ctx, tech, "logtime acme 15m one more thing")
    assert message.startswith(f"Not recorded: {HELD}.")
    # work the client is not charged for is never held
    assert do(ctx, tech, "logtime acme 30m goodwill --nb").non_billable


def test_an_entry_that_would_cross_the_hold_is_refused_whole(
    ctx: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    do(ctx, admin, "client set acme hold-at 2h")
    do(ctx, tech, "logtime acme 2h30m migration")  # 1h30m over
    message = refused(ctx, tech, "logtime acme 1h cabling")
    assert "Acme Corp is 1h 30m over; ask an account manager or the client to approve more." in message
    assert "This entry would take the overage to 2h 30m, past its hold at 2h." in message
    assert do(ctx, tech, "logtime acme 30m cabling").overage_so_far_minutes == 120  # up to the hold: fine


def test_an_approval_lifts_the_hold_by_that_amount_only(ctx: Context, admin: Actor, tech: Actor, acme: str) -> None:
    do(ctx, admin, "client set acme hold-at 2h")
    do(ctx, tech, "logtime acme 3h migration")
    approved = do(ctx, MANAGER, "approve acme 2h")
    assert approved.data["hold_approved_minutes"] == 120 and approved.data["allowed_overage_minutes"] == 240
    assert "2h more overage approved for Acme Corp" in approved.message
    do(ctx, tech, "logtime acme 1h first")
    do(ctx, tech, "logtime acme 1h second")  # 2h more: 4h over, the hold plus the approval
    message = refused(ctx, tech, "logtime acme 15m third")
    assert "Acme Corp is 4h over; ask an account manager or the client to approve more" in message
    rows = audit(ctx, "overage_approve")
    assert [(r.actor, json.loads(r.after or "{}")["minutes"]) for r in rows] == [("UMGR", 120)]
    assert json.loads(rows[0].before or "{}") == {"hold_approved_minutes": 0}


def test_only_account_managers_approve_and_only_a_client_with_a_hold(
    ctx: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    with pytest.raises(Refused, match="has no overage hold"):
        do(ctx, MANAGER, "approve acme 2h")
    do(ctx, admin, "client set acme hold-at 2h")
    with pytest.raises(PermissionDenied, match="account managers and admins"):
        do(ctx, tech, "approve acme 2h")
    assert audit(ctx, "overage_approve") == []


def test_the_hold_can_be_a_share_of_the_last_block(ctx: Context, admin: Actor, tech: Actor, acme: str) -> None:
    do(ctx, admin, "topup acme 8")  # the last block: 8h, so 25% is 2h
    view = do(ctx, admin, "client set acme hold-at 25%")
    assert (view.hold_at_minutes, view.hold_at_percent) == (None, 25)
    do(ctx, tech, "logtime acme 11h rebuild")  # 9h from the blocks, 2h over
    assert "Acme Corp is 2h over" in refused(ctx, tech, "logtime acme 1m one more")
    do(ctx, MANAGER, "approve acme 30m")
    do(ctx, tech, "logtime acme 30m one more")
    assert "2h 30m over" in refused(ctx, tech, "logtime acme 1m and another")


def test_hold_at_none_lifts_the_hold_and_the_settings_are_audited(
    ctx: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    view = do(ctx, admin, "client set acme hold-at 2h client-approves on")
    assert (view.hold_at_minutes, view.hold_at_percent, view.client_approves) == (120, None, True)
    do(ctx, tech, "logtime acme 3h migration")
    refused(ctx, tech, "logtime acme 1h more")
    view = do(ctx, admin, "client set acme hold-at none")
    assert (view.hold_at_minutes, view.hold_at_percent) == (None, None)
    assert do(ctx, tech, "logtime acme 1h more").overage_so_far_minutes == 180
    changes = [(json.loads(r.before or "{}"), json.loads(r.after or "{}")) for r in audit(ctx, "client_set")][1:]
    assert changes[0][0]["hold_at_minutes"] is None and changes[0][1]["hold_at_minutes"] == 120
    assert changes[0][1]["client_approves"] is True and changes[1][1]["hold_at_minutes"] is None


def test_a_hold_set_below_the_overage_changes_nothing_already_logged(
    ctx: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    first = do(ctx, tech, "logtime acme 4h migration")
    do(ctx, admin, "client set acme hold-at 1h")
    with ctx.db.unit_of_work(read_only=True) as uow:
        entry = uow.session.get(Entry, first.entry_id)
        assert entry is not None and (entry.billable_minutes, entry.overage_minutes, entry.voided_at) == (
            240,
            180,
            None,
        )
    assert "Acme Corp is 3h over" in refused(ctx, tech, "logtime acme 15m more")
    do(ctx, tech, f"void {first.entry_id}")  # taking time back is never held
    assert balance_of(ctx, "acme").remaining_minutes == 60


def test_a_top_up_that_pays_off_the_overage_spends_the_approvals(
    ctx: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    do(ctx, admin, "client set acme hold-at 2h")
    do(ctx, tech, "logtime acme 3h migration")
    do(ctx, MANAGER, "approve acme 2h")
    do(ctx, admin, "topup acme 10")  # carry: the new block pays the 2h off
    assert do(ctx, admin, "client show acme").hold_approved_minutes == 0
    do(ctx, tech, "logtime acme 10h rebuild")  # 8h from the block, 2h over again: at the hold
    assert "Acme Corp is 2h over" in refused(ctx, tech, "logtime acme 15m more")


def test_a_timer_a_linked_channel_and_an_edit_go_through_the_same_hold(
    ctx: Context, clock: FixedClock, admin: Actor, tech: Actor, acme: str
) -> None:
    from bot.domain.commands import Link
    from bot.services.channels import link_channel

    do(ctx, admin, "client set acme hold-at 2h")
    logged = do(ctx, tech, "logtime acme 3h migration")
    link_channel(ctx, Actor("UADMIN"), "CACME", Link("acme"))
    before = written(ctx)
    with pytest.raises(Refused, match=HELD):
        run_text(ctx, tech, "logtime 15m from the channel", channel_id="CACME")
    do(ctx, tech, "logtime start acme printer")
    clock.advance(minutes=20)
    with pytest.raises(Refused, match=HELD):
        do(ctx, tech, "logtime stop")
    with pytest.raises(Refused, match="would take the overage to 3h"):
        do(ctx, tech, f"edit {logged.entry_id} 4h")
    assert written(ctx) == before
    assert do(ctx, tech, f"edit {logged.entry_id} 2h30m").overage_so_far_minutes == 90  # less overage: fine
