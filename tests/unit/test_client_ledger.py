"""The ledger aggregate (``bot.domain.client_ledger``) on its own: no database, no Slack. Each change
is checked through the posting it records (rows, figures, lines, events), the only thing the writer
stores."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.domain.charges import Policy
from bot.domain.client_ledger import (
    PROVISIONAL,
    ClientLedger,
    Crossed,
    Forfeited,
    LedgerBlock,
    LedgerEntry,
    LiveDraw,
    SyncDue,
    Terms,
    Totals,
    is_provisional,
)
from bot.domain.thresholds import parse_thresholds

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
TODAY = NOW.date()


def block(
    block_id: int,
    minutes: int,
    left: int | None = None,
    start: date = date(2026, 11, 1),
    expires: date | None = None,
    forfeited: int = 0,
) -> LedgerBlock:
    return LedgerBlock(block_id, block_id, minutes, minutes if left is None else left, forfeited, start, expires)


def ledger(
    *blocks: LedgerBlock,
    overage: int = 0,
    overdraft: int | None = 0,
    policy: str = "carry",
    thresholds: str = "",
    rounding: int = 1,
    minimum: int = 0,
    overage_entries: list[LedgerEntry] | None = None,
    others: list[LedgerBlock] | None = None,
    grace: int = 7,
) -> ClientLedger:
    bought = sum(b.minutes for b in blocks)
    terms = Terms(
        client_id=7,
        timezone="UTC",
        records_from=None,
        policy=Policy(rounding, minimum, overdraft, grace),
        overage_policy=policy,
        thresholds=parse_thresholds(thresholds) if thresholds else (),
    )
    totals = Totals(bought, bought - sum(b.remaining_minutes for b in blocks), 0, overage, 0, None)
    return ClientLedger(
        terms,
        totals,
        blocks,
        today=TODAY,
        now=NOW,
        actor="UTECH",
        load_blocks=lambda ids: [b for b in (others or []) if b.id in ids],
        overage_entries=lambda: list(overage_entries or []),
    )


def log(book: ClientLedger, minutes: int, work_date: date = TODAY, non_billable: bool = False) -> dict[str, Any]:
    plan = book.plan(minutes, non_billable, work_date)
    assert plan.allowed
    return book.log(plan, {"client_id": 7, "work_date": work_date, "note": "n"}, "printer")


def test_an_entry_draws_fifo_and_records_its_figures_line_and_sync() -> None:
    book = ledger(block(1, 120), block(2, 60, expires=date(2026, 12, 31)))
    entry = log(book, 90)
    posting = book.posting
    assert is_provisional(entry["id"]) and entry["billable_minutes"] == 90 and entry["overage_minutes"] == 0
    # the block that expires first pays first, then the one that never expires
    assert [(d["block_id"], d["minutes"]) for d in posting.new_draws] == [(2, 60), (1, 30)]
    assert posting.blocks == {2: {"remaining_minutes": 0}, 1: {"remaining_minutes": 90}}
    assert posting.totals == {"used_minutes": 90, "open_overage_minutes": 0, "last_entry_id": entry["id"]}
    [line] = posting.lines
    assert (line["kind"], line["minutes"], line["balance_after"], line["entry_id"]) == ("entry", -90, 90, entry["id"])
    assert line["recorded_on"] == TODAY and line["note"] == "printer"
    assert posting.events == [SyncDue(entry["id"])]
    assert book.balance() == 90


def test_rounding_and_the_minimum_decide_what_is_billed_and_non_billable_bills_nothing() -> None:
    book = ledger(block(1, 600), rounding=15, minimum=30)
    assert log(book, 16)["billable_minutes"] == 30
    assert log(book, 31)["billable_minutes"] == 45
    free = log(book, 50, non_billable=True)
    assert free["billable_minutes"] == 0 and book.balance() == 600 - 75
    assert book.posting.totals["used_minutes"] == 75


def test_what_no_block_covers_is_overage_and_the_overdraft_limits_it() -> None:
    book = ledger(block(1, 60), overdraft=30)
    assert not book.plan(100, False, TODAY).allowed  # 40 over a 30-minute overdraft
    entry = log(book, 80)
    assert entry["overage_minutes"] == 20 and book.balance() == -20
    assert book.posting.totals["open_overage_minutes"] == 20
    assert book.posting.lines[0]["minutes"] == -80 and book.posting.lines[0]["balance_after"] == -20


def test_a_fall_through_a_threshold_is_an_event_with_the_line_it_came_from() -> None:
    book = ledger(block(1, 600), thresholds="50%,2h")
    log(book, 200)
    assert not any(isinstance(e, Crossed) for e in book.posting.events)
    log(book, 150)  # 250 left: below 50% (300)
    crossed = [e for e in book.posting.events if isinstance(e, Crossed)]
    assert len(crossed) == 1 and crossed[0].crossing.threshold.label == "50%"
    assert (crossed[0].before, crossed[0].after, crossed[0].block_minutes) == (400, 250, 600)
    assert crossed[0].line_id == book.posting.lines[-1]["id"]


def test_a_closed_block_is_forfeited_first_dated_its_closing_day() -> None:
    old = block(1, 120, left=45, start=date(2026, 9, 1), expires=date(2026, 11, 10))  # closed on the 17th
    book = ledger(old, block(2, 60))
    book.catch_up()
    [line] = book.posting.lines
    assert (line["kind"], line["minutes"], line["block_id"]) == ("forfeit", -45, 1)
    assert line["at"] == datetime(2026, 11, 17, 23, 59, 59, 999999, tzinfo=UTC)
    assert book.posting.blocks[1] == {"remaining_minutes": 0, "forfeited_minutes": 45}
    assert book.posting.totals["forfeited_minutes"] == 45
    [event] = book.posting.events
    assert isinstance(event, Forfeited) and (event.minutes, event.reason, event.usable_after) == (45, "expired", 60)


def test_a_block_in_its_grace_period_still_pays_for_late_work_dated_inside_it() -> None:
    grace = block(1, 120, left=60, start=date(2026, 10, 1), expires=date(2026, 11, 20))
    book = ledger(grace, block(2, 120))
    book.catch_up()
    assert book.posting.lines == []  # nothing closed yet
    log(book, 30, work_date=date(2026, 11, 19))
    assert [(d["block_id"], d["minutes"]) for d in book.posting.new_draws] == [(1, 30)]
    assert book.balance() == 120  # the expired block was never usable balance: only today's counts


def test_a_void_gives_back_its_draws_and_records_a_void_line() -> None:
    first = block(1, 120, left=60)
    book = ledger(first)
    entry = LedgerEntry(11, TODAY, 60, 0, 0, (LiveDraw(5, 1, 60),))
    book.take_back(entry, reason="typo", note="typo", latest_live_entry=lambda: 9, chain_root=11)
    posting = book.posting
    assert posting.reversed_draws == [5] and posting.blocks == {1: {"remaining_minutes": 120}}
    assert posting.entries[11]["voided_at"] == NOW and posting.entries[11]["void_reason"] == "typo"
    assert posting.totals["used_minutes"] == 0
    assert [(line["kind"], line["minutes"]) for line in posting.lines] == [("void", 60)]
    assert SyncDue(11) in posting.events


def test_minutes_given_back_to_a_closed_block_are_forfeited_not_kept() -> None:
    closed = block(1, 60, left=0, start=date(2026, 9, 1), expires=date(2026, 10, 31))
    book = ledger(block(2, 60), others=[closed])
    entry = LedgerEntry(11, date(2026, 10, 30), 30, 0, 0, (LiveDraw(5, 1, 30),))
    book.take_back(entry, reason="wrong", note="wrong", latest_live_entry=lambda: None, chain_root=11)
    kinds = [(line["kind"], line["minutes"], line["block_id"]) for line in book.posting.lines]
    assert kinds == [("void", 30, None), ("forfeit", -30, 1)]
    assert book.balance() == 60


def test_a_correction_keeps_what_the_corrected_entry_drew_from_a_closed_block() -> None:
    closed = block(1, 60, left=0, start=date(2026, 9, 1), expires=date(2026, 10, 31))
    book = ledger(block(2, 60), others=[closed])
    entry = LedgerEntry(11, date(2026, 10, 30), 30, 0, 0, (LiveDraw(5, 1, 30),))
    book.take_back(entry, reason="edit", note="edit", latest_live_entry=lambda: None, chain_root=11, correction=True)
    plan = book.plan(20, False, date(2026, 10, 30), correction=True)
    assert [(d.block_id, d.minutes) for d in plan.allocation.draws] == [(1, 20)]  # never costs more
    book.log(plan, {"client_id": 7, "work_date": date(2026, 10, 30)}, "shorter")
    book.forfeit_returned()
    assert [(line["kind"], line["minutes"]) for line in book.posting.lines] == [
        ("void", 30),
        ("entry", -20),
        ("forfeit", -10),
    ]


@pytest.mark.parametrize(("policy", "carried", "billed"), [("carry", 40, 0), ("bill", 0, 40)])
def test_a_top_up_settles_open_overage_by_the_clients_policy(policy: str, carried: int, billed: int) -> None:
    owing = LedgerEntry(11, TODAY, 100, 40, 0)
    book = ledger(block(1, 60, left=0), overage=40, policy=policy, overdraft=None, overage_entries=[owing])
    added = book.add_block({"number": 2, "expires_on": None}, 120, TODAY, "topup", "2h block")
    assert is_provisional(added.id) and added.id > PROVISIONAL - 1
    assert book.settle_overage() == (carried, billed)
    posting = book.posting
    assert posting.new_blocks[0]["remaining_minutes"] == 120 - carried
    assert posting.totals["purchased_minutes"] == 180 and posting.totals["open_overage_minutes"] == 0
    assert posting.entries[11]["overage_minutes"] == 0
    if policy == "bill":
        assert posting.entries[11]["billed_overage_minutes"] == 40
        assert [line["kind"] for line in posting.lines] == ["topup", "overage_billed"]
    else:
        assert [(d["entry_id"], d["block_id"], d["minutes"]) for d in posting.new_draws] == [(11, added.id, 40)]
    assert book.balance() == 120 - 40 * (policy == "carry") - 0


def test_a_voided_block_gives_its_draws_to_the_other_blocks_and_what_none_covers_is_overage() -> None:
    wrong = block(1, 60, left=0)
    book = ledger(wrong, block(2, 30), overdraft=None)
    drew = LedgerEntry(11, TODAY, 60, 0, 0)
    book.void_block(wrong, [(LiveDraw(5, 1, 60), drew)], "entered twice")
    posting = book.posting
    assert posting.blocks[1]["voided_at"] == NOW and posting.reversed_draws == [5]
    assert [(d["block_id"], d["minutes"]) for d in posting.new_draws] == [(2, 30)]
    assert posting.entries[11] == {"overage_minutes": 30}
    assert posting.totals["purchased_minutes"] == 30 and posting.totals["open_overage_minutes"] == 30
    assert [(line["kind"], line["minutes"]) for line in posting.lines] == [("void_topup", -60)]
    assert book.balance() == -30


def test_stored_ids_replace_the_provisional_ones_and_the_next_change_starts_a_new_posting() -> None:
    book = ledger(block(1, 60, left=0), overdraft=None)
    added = book.add_block({"number": 2}, 60, TODAY, "topup", "1h")
    provisional = added.id
    book.stored(lambda row_id: 42 if row_id == provisional else row_id)
    assert added.id == 42 and book.block(42) is added and not book.posting
    log(book, 15)
    assert book.posting.blocks == {42: {"remaining_minutes": 45}}


def test_a_waiting_block_is_bought_but_not_usable_until_it_starts() -> None:
    later = block(2, 120, start=TODAY + timedelta(days=10))
    book = ledger(block(1, 30), later, overdraft=0)
    assert book.balance() == 30 and book.figures().account == 150
    assert not book.plan(60, False, TODAY).allowed


def test_a_multiplier_bills_more_than_the_minutes_worked() -> None:
    book = ledger(block(1, 600))
    plan = book.plan(60, False, TODAY, Decimal("1.5"))
    assert plan.billable == 90
