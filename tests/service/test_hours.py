"""The ledger's use cases without a database: logging time, corrections, top-ups, voids and forfeits,
through the real grammar and services on the in-memory unit of work. The ledger aggregate decides;
``tests.fakes.memory.Ledger`` stores its postings as ``storage.postings`` does. What the integration
ring checks on SQL (statements, balances read back, races) is not repeated here: these are the use
cases' decisions (refusals, roles, idempotency, alerts, PSA rows) and the figures they answer with."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from bot.clock import FixedClock
from bot.domain.commands import LogTime
from bot.domain.errors import PermissionDenied, Refused
from bot.domain.roles import Standing
from bot.services import Actor, Context, hours
from tests.fakes.memory import MemoryDatabase, Row
from tests.helpers import do


@pytest.fixture
def acme(ctx: Context, admin: Actor) -> str:
    do(ctx, admin, "client add acme Acme Corp")
    return "acme"


@pytest.fixture
def alerting(ctx: Context) -> Context:
    """A context whose alerts go to a Slack channel (with no destination an alert has no row)."""
    return Context(ctx.db, replace(ctx.settings, alert_channel="CALERTS"), ctx.clock)


@pytest.fixture
def pctx(ctx: Context) -> Context:
    """A context with a PSA connected."""
    return Context(ctx.db, replace(ctx.settings, psa="connectwise"), ctx.clock)


def _client(memory: MemoryDatabase, handle: str = "acme") -> Row:
    return next(c for c in memory.tables.clients.values() if c.handle == handle)


def _block(memory: MemoryDatabase, number: int) -> Row:
    return next(b for b in memory.tables.blocks.values() if b.number == number)


def _live_draws(memory: MemoryDatabase) -> list[tuple[int, int, int]]:
    """``(entry id, block number, minutes)`` of the draws not reversed, in the order they were made."""
    numbers = {b.id: b.number for b in memory.tables.blocks.values()}
    draws = sorted(memory.tables.draws.values(), key=lambda d: d.id)
    return [(d.entry_id, numbers[d.block_id], d.minutes) for d in draws if d.reversed_at is None]


def _lines(memory: MemoryDatabase) -> list[tuple[str, int, int]]:
    """``(kind, minutes, balance after)`` of every ledger line, in order."""
    return [(x.kind, x.minutes, x.balance_after) for x in sorted(memory.tables.lines.values(), key=lambda x: x.id)]


def _outbox(memory: MemoryDatabase, kind: str) -> list[Row]:
    return sorted((m for m in memory.tables.outbox.values() if m.kind == kind), key=lambda m: m.id)


# -- logging time ----------------------------------------------------------------------------------


def test_an_entry_draws_fifo_from_the_block_expiring_first_and_answers_with_the_figures(
    ctx: Context, admin: Actor, tech: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "topup acme 1")  # block 1, never expires
    do(ctx, admin, "topup acme 1 expires 2026-12-31")  # block 2, expires first: drawn first
    result = do(ctx, tech, "logtime acme 1h30m migration #77")
    assert (result.minutes, result.billable_minutes, result.overage_minutes) == (90, 90, 0)
    assert (result.remaining_minutes, result.percent_left, result.duplicate) == (30, 25, False)
    assert (result.client, result.note, result.ticket, result.work_date) == (
        "acme",
        "migration #77",
        "#77",
        date(2026, 11, 25),
    )
    assert _live_draws(memory) == [(result.entry_id, 2, 60), (result.entry_id, 1, 30)]
    assert (_block(memory, 1).remaining_minutes, _block(memory, 2).remaining_minutes) == (30, 0)
    client = _client(memory)
    assert (client.purchased_minutes, client.used_minutes, client.last_entry_id) == (120, 90, result.entry_id)
    assert _lines(memory) == [("topup", 60, 60), ("topup", 60, 120), ("entry", -90, 30)]
    entry = memory.tables.entries[result.entry_id]
    assert (entry.user_id, entry.source, entry.billable_minutes) == ("UTECH", "cli", 90)


def test_without_hours_and_no_overdraft_an_entry_is_refused_saying_what_is_left_and_nothing_is_written(
    ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "topup acme 1")
    do(ctx, admin, "logtime acme 45m a")
    commits = memory.commits
    with pytest.raises(Refused, match=r"Acme Corp has 15m left and this entry needs 30m \(no overdraft is allowed\)"):
        do(ctx, admin, "logtime acme 30m b")
    assert memory.commits == commits and len(memory.tables.entries) == 1
    assert _client(memory).used_minutes == 45


def test_within_the_overdraft_the_rest_becomes_overage_and_past_it_the_entry_is_refused(
    ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "client set acme overdraft 1h")
    do(ctx, admin, "topup acme 1")
    result = do(ctx, admin, "logtime acme 1h30m big job")
    assert (result.overage_minutes, result.remaining_minutes) == (30, -30)
    assert _client(memory).open_overage_minutes == 30
    with pytest.raises(Refused, match="overdraft limit of 1h"):
        do(ctx, admin, "logtime acme 31m more")


def test_an_archived_client_takes_no_new_time(ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str) -> None:
    do(ctx, admin, "topup acme 1")
    do(ctx, admin, "client archive acme")
    with pytest.raises(Refused, match="archived"):
        do(ctx, admin, "logtime acme 15m x")
    assert memory.tables.entries == {}


def test_a_technician_may_not_backdate_past_the_limit_a_manager_may(
    ctx: Context, admin: Actor, tech: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "topup acme 10")
    with pytest.raises(PermissionDenied, match="more than 90 days ago"):
        do(ctx, tech, "logtime acme 15m 1999-01-01 old work")
    assert memory.tables.entries == {}
    assert do(ctx, tech, "logtime acme 15m 2026-08-27 old work").work_date == date(2026, 8, 27)  # 90 days
    assert do(ctx, admin, "logtime acme 15m 1999-01-01 old work").work_date == date(1999, 1, 1)


@pytest.mark.parametrize(
    ("standing", "granted"),
    [(Standing.GUEST, None), (Standing.EXTERNAL, None), (Standing.EXTERNAL, "technician")],
)
def test_a_guest_without_a_role_or_another_organisations_member_may_not_log_time(
    ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str, standing: Standing, granted: str | None
) -> None:
    do(ctx, admin, "topup acme 10")
    if granted:  # a role given to someone of another organisation counts for nothing
        with ctx.db.unit_of_work() as uow:
            uow.roles.grant("UOUT", granted, "UADMIN", ctx.now())
            uow.commit()
    outsider = Actor("UOUT", "Otto Outside", standing=standing)
    with pytest.raises(PermissionDenied):
        hours.log_time(ctx, outsider, LogTime("acme", 15, "15m", None, "a look"))
    with pytest.raises(PermissionDenied):
        do(ctx, outsider, "logtime acme 15m a look")
    assert memory.tables.entries == {}


def test_a_guest_an_admin_gave_a_role_logs_time(ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str) -> None:
    do(ctx, admin, "topup acme 10")
    with ctx.db.unit_of_work() as uow:
        uow.roles.grant("UGUEST", "technician", "UADMIN", ctx.now())
        uow.commit()
    guest = Actor("UGUEST", "Gina Guest", standing=Standing.GUEST)
    assert do(ctx, guest, "logtime acme 15m a look").remaining_minutes == 585


# -- roles -------------------------------------------------------------------------------------------


def test_a_top_up_needs_a_manager(ctx: Context, admin: Actor, tech: Actor, memory: MemoryDatabase, acme: str) -> None:
    with pytest.raises(PermissionDenied):
        do(ctx, tech, "topup acme 10")
    assert memory.tables.blocks == {}
    with ctx.db.unit_of_work() as uow:
        uow.roles.grant("UTECH", "manager", "UADMIN", ctx.now())
        uow.commit()
    assert do(ctx, tech, "topup acme 10").remaining_minutes == 600
    [audit] = [a for a in memory.tables.audit if a.action == "topup"]
    assert (audit.actor, audit.after["minutes"]) == ("UTECH", 600)


def test_a_technician_voids_only_their_own_entries(
    ctx: Context, admin: Actor, tech: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "topup acme 10")
    theirs = do(ctx, admin, "logtime acme 1h a")
    with pytest.raises(PermissionDenied):
        do(ctx, tech, f"void {theirs.entry_id}")
    assert memory.tables.entries[theirs.entry_id].voided_at is None
    own = do(ctx, tech, "logtime acme 1h b")
    assert do(ctx, tech, f"void {own.entry_id}").remaining_minutes == 540


# -- idempotency -------------------------------------------------------------------------------------


def test_the_same_key_twice_records_one_entry_and_answers_the_first_result_again(
    ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "topup acme 10")
    first = do(ctx, admin, "logtime acme 15m a", idempotency_key="slack:trigger:1")
    again = do(ctx, admin, "logtime acme 15m a", idempotency_key="slack:trigger:1")
    assert again.entry_id == first.entry_id and again.duplicate and not first.duplicate
    assert (again.minutes, again.remaining_minutes) == (15, 585)
    assert len(memory.tables.entries) == 1 and _client(memory).used_minutes == 15


def test_the_same_key_for_another_request_is_refused(
    ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "topup acme 10")
    do(ctx, admin, "logtime acme 15m a", idempotency_key="k1")
    with pytest.raises(Refused, match="already used for a different request"):
        do(ctx, admin, "logtime acme 30m a", idempotency_key="k1")
    assert len(memory.tables.entries) == 1


def test_a_top_up_repeated_with_its_key_adds_one_block(
    ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str
) -> None:
    first = do(ctx, admin, "topup acme 10 ref INV-1", idempotency_key="view:V1")
    again = do(ctx, admin, "topup acme 10 ref INV-1", idempotency_key="view:V1")
    assert (again.block_id, again.duplicate, first.duplicate) == (first.block_id, True, False)
    assert len(memory.tables.blocks) == 1 and _client(memory).purchased_minutes == 600
    with pytest.raises(Refused, match="already used for a different request"):
        do(ctx, admin, "topup acme 20", idempotency_key="view:V1")


def test_an_edit_repeated_with_its_key_answers_the_first_correction(
    ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "topup acme 10")
    entry = do(ctx, admin, "logtime acme 1h a")
    first = do(ctx, admin, f"edit {entry.entry_id} 2h", idempotency_key="edit:1")
    again = do(ctx, admin, f"edit {entry.entry_id} 2h", idempotency_key="edit:1")
    assert (again.entry_id, again.duplicate) == (first.entry_id, True)
    assert len(memory.tables.entries) == 2 and _client(memory).used_minutes == 120


# -- alerts ------------------------------------------------------------------------------------------


def test_a_fall_through_a_threshold_queues_one_alert_and_a_second_fall_without_a_top_up_none(
    alerting: Context, admin: Actor, clock: FixedClock, memory: MemoryDatabase, acme: str
) -> None:
    do(alerting, admin, "topup acme 10")
    first = do(alerting, admin, "logtime acme 6h a")  # 240 of 600 left: through 50%
    [alert] = _outbox(memory, "threshold")
    facts = json.loads(alert.payload)
    assert (alert.destination, alert.target, alert.status, alert.client_id) == (
        "slack",
        "CALERTS",
        "pending",
        _client(memory).id,
    )
    assert (facts["threshold"], facts["remaining_minutes"], facts["before_minutes"]) == ("50%", 240, 600)
    assert facts["used_30d_minutes"] == 360
    do(alerting, admin, f"void {first.entry_id}")  # back above 50%: no hours were bought
    clock.advance(days=2)  # past the re-arm hours too
    do(alerting, admin, "logtime acme 6h b")  # through 50% again
    assert len(_outbox(memory, "threshold")) == 1


def test_a_top_up_re_arms_a_threshold(
    alerting: Context, admin: Actor, clock: FixedClock, memory: MemoryDatabase, acme: str
) -> None:
    do(alerting, admin, "topup acme 10")
    do(alerting, admin, "logtime acme 6h a")
    clock.advance(days=1)
    do(alerting, admin, "topup acme 5")  # 540 of 900 in current blocks: above 50% again
    do(alerting, admin, "logtime acme 2h b")  # 420 < 450
    assert [json.loads(a.payload)["threshold"] for a in _outbox(memory, "threshold")] == ["50%", "50%"]


def test_a_refused_entry_queues_no_alert(alerting: Context, admin: Actor, memory: MemoryDatabase, acme: str) -> None:
    do(alerting, admin, "topup acme 10")
    with pytest.raises(Refused):
        do(alerting, admin, "logtime acme 11h too much")
    assert _outbox(memory, "threshold") == []


def test_a_snoozed_client_does_not_alert(
    alerting: Context, admin: Actor, memory: MemoryDatabase, acme: str, tech: Actor
) -> None:
    with pytest.raises(PermissionDenied):
        do(alerting, tech, "snooze acme 7")
    do(alerting, admin, "topup acme 10")
    do(alerting, admin, "snooze acme 7")
    do(alerting, admin, "logtime acme 6h a")
    assert _outbox(memory, "threshold") == []
    assert [a.action for a in memory.tables.audit if a.action == "snooze"] == ["snooze"]


# -- the PSA -----------------------------------------------------------------------------------------


def test_an_entry_queues_one_psa_row_for_its_chain_and_an_edit_queues_it_again(
    pctx: Context, admin: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(pctx, admin, "topup acme 10")
    entry = do(pctx, admin, "logtime acme 1h a")
    assert entry.psa == "queued for ConnectWise PSA"
    [row] = [m for m in memory.tables.outbox.values() if m.destination == "psa"]
    assert (row.entry_id, row.status, row.version, row.kind) == (entry.entry_id, "pending", 0, "psa_sync")
    edited = do(pctx, admin, f"edit {entry.entry_id} 2h")
    assert memory.tables.entries[edited.entry_id].root_id == entry.entry_id
    [row] = [m for m in memory.tables.outbox.values() if m.destination == "psa"]
    assert (row.entry_id, row.version) == (entry.entry_id, 2)  # queued again: the void, the corrected entry
    do(pctx, admin, f"void {edited.entry_id}")
    [row] = [m for m in memory.tables.outbox.values() if m.destination == "psa"]
    assert row.version == 3


def test_without_a_psa_an_entry_queues_nothing(ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str) -> None:
    do(ctx, admin, "topup acme 10")
    assert do(ctx, admin, "logtime acme 1h a").psa is None
    assert memory.tables.outbox == {}


# -- voids and edits ---------------------------------------------------------------------------------


def test_a_void_gives_the_minutes_back_to_the_blocks_they_came_from(
    ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "topup acme 1 expires 2026-12-31")
    do(ctx, admin, "topup acme 1")
    entry = do(ctx, admin, "logtime acme 1h30m x")
    voided = do(ctx, admin, f"void {entry.entry_id} typo")
    assert (voided.kind, voided.minutes, voided.remaining_minutes) == ("entry", 90, 120)
    assert _live_draws(memory) == []
    assert (_block(memory, 1).remaining_minutes, _block(memory, 2).remaining_minutes) == (60, 60)
    stored = memory.tables.entries[entry.entry_id]
    assert (stored.voided_by, stored.void_reason) == ("cli", "typo")
    client = _client(memory)
    assert (client.used_minutes, client.last_entry_id) == (0, None)
    assert _lines(memory)[-1] == ("void", 90, 120)
    assert [a.action for a in memory.tables.audit][-1] == "void_entry"
    with pytest.raises(Refused, match="already voided"):
        do(ctx, admin, f"void {entry.entry_id}")


def test_an_edit_voids_the_entry_and_records_the_correction_in_its_chain(
    ctx: Context, admin: Actor, tech: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "topup acme 10")
    entry = do(ctx, tech, "logtime acme 30m yesterday vpn #77")
    edited = do(ctx, tech, f"edit {entry.entry_id} 45m")
    assert (edited.replaces_entry_id, edited.billable_minutes, edited.remaining_minutes) == (entry.entry_id, 45, 555)
    assert (edited.work_date, edited.note, edited.ticket) == (date(2026, 11, 24), "vpn #77", "#77")
    old, new = memory.tables.entries[entry.entry_id], memory.tables.entries[edited.entry_id]
    assert old.voided_at is not None and (new.replaces_id, new.root_id, new.user_id) == (old.id, old.id, "UTECH")
    assert _live_draws(memory) == [(new.id, 1, 45)]
    assert [k for k, _, _ in _lines(memory)] == ["topup", "entry", "void", "entry"]
    assert _client(memory).last_entry_id == new.id
    [audit] = [a for a in memory.tables.audit if a.action == "edit_entry"]
    assert (audit.before["minutes"], audit.after["minutes"], audit.after["entry"]) == (30, 45, new.id)


# -- top-ups -----------------------------------------------------------------------------------------


def test_under_carry_a_top_up_pays_off_open_overage_first(
    ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "client set acme overdraft 2h overage carry")
    entry = do(ctx, admin, "logtime acme 45m before any block")
    assert entry.overage_minutes == 45
    top = do(ctx, admin, "topup acme 10")
    assert (top.carried_overage_minutes, top.billed_overage_minutes, top.remaining_minutes) == (45, 0, 555)
    assert (top.block_number, top.minutes) == (1, 600)
    assert memory.tables.entries[entry.entry_id].overage_minutes == 0
    assert _live_draws(memory) == [(entry.entry_id, 1, 45)]
    assert _client(memory).open_overage_minutes == 0


def test_under_bill_a_top_up_bills_open_overage_and_starts_full(
    ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "client set acme overdraft 2h overage bill")
    entry = do(ctx, admin, "logtime acme 45m before any block")
    top = do(ctx, admin, "topup acme 10")
    assert (top.carried_overage_minutes, top.billed_overage_minutes, top.remaining_minutes) == (0, 45, 600)
    stored = memory.tables.entries[entry.entry_id]
    assert (stored.overage_minutes, stored.billed_overage_minutes) == (0, 45)
    client = _client(memory)
    assert (client.open_overage_minutes, client.billed_overage_minutes) == (0, 45)
    assert [k for k, _, _ in _lines(memory)] == ["entry", "topup", "overage_billed"]


def test_a_top_up_is_refused_past_the_limit_unless_confirmed_and_a_closed_block_is_refused(
    ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str
) -> None:
    with pytest.raises(Refused, match="closed on 2026-11-08"):  # its expiry plus the 7 days' grace
        do(ctx, admin, "topup acme 10 starts 2026-10-01 expires 2026-11-01")
    limited = Context(ctx.db, replace(ctx.settings, max_topup_minutes=600), ctx.clock)
    with pytest.raises(Refused, match="more than 10h in one top-up"):
        do(limited, admin, "topup acme 11")
    assert memory.tables.blocks == {}
    assert do(limited, admin, "topup acme 11 confirm").minutes == 660


def test_voiding_a_top_up_draws_its_minutes_again_elsewhere_and_the_rest_is_overage(
    ctx: Context, admin: Actor, memory: MemoryDatabase, acme: str
) -> None:
    do(ctx, admin, "client set acme overdraft unlimited")
    do(ctx, admin, "topup acme 1")
    wrong = do(ctx, admin, "topup acme 20 expires 2026-12-31")
    entry = do(ctx, admin, "logtime acme 1h30m work")  # draws 90 from the expiring block
    assert _live_draws(memory) == [(entry.entry_id, 2, 90)]
    result = do(ctx, admin, "void topup acme 2 typo, meant 2")
    assert (result.kind, result.id, result.number, result.remaining_minutes) == ("topup", wrong.block_id, 2, -30)
    assert _live_draws(memory) == [(entry.entry_id, 1, 60)]
    assert memory.tables.entries[entry.entry_id].overage_minutes == 30
    client = _client(memory)
    assert (client.purchased_minutes, client.used_minutes, client.open_overage_minutes) == (60, 90, 30)
    assert _block(memory, 2).voided_at is not None and _lines(memory)[-1][0] == "void_topup"
    with pytest.raises(Refused, match="already voided"):
        do(ctx, admin, f"void topup {wrong.block_id}")


# -- forfeits ----------------------------------------------------------------------------------------


def test_a_closed_block_is_forfeited_once_with_its_expiry_notice(
    alerting: Context, admin: Actor, clock: FixedClock, memory: MemoryDatabase, acme: str
) -> None:
    do(alerting, admin, "topup acme 2 expires 2026-11-30")
    do(alerting, admin, "logtime acme 30m a")
    clock.advance(days=12)  # 2026-12-07: the closing day (expiry + 7 days' grace)
    assert hours.expire_blocks(alerting, admin) == []
    clock.advance(days=1)
    assert hours.expire_blocks(alerting, admin) == [("acme", 90)]
    assert hours.expire_blocks(alerting, admin) == []  # nothing more to forfeit
    block = _block(memory, 1)
    assert (block.remaining_minutes, block.forfeited_minutes) == (0, 90)
    assert _client(memory).forfeited_minutes == 90 and _lines(memory)[-1] == ("forfeit", -90, 0)
    [notice] = _outbox(memory, "expiry")
    facts = json.loads(notice.payload)
    assert (notice.target, facts["forfeited_minutes"], facts["block_number"], facts["reason"]) == (
        "CALERTS",
        90,
        1,
        "expired",
    )
