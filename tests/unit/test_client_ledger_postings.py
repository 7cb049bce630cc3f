"""The ledger aggregate's postings, compared whole: every figure, row and line a change records, so a
changed sign, a dropped field or a wrong id shows (``make mutation`` reaches every line here)."""

from __future__ import annotations

from datetime import date

from bot.domain.client_ledger import (
    PROVISIONAL,
    Crossed,
    Forfeited,
    LedgerBlock,
    LedgerEntry,
    LiveDraw,
    Posting,
    SyncDue,
)
from tests.unit.test_client_ledger import NOW, TODAY, block, ledger, log


def lines(posting: Posting) -> list[tuple[object, ...]]:
    return [(x["kind"], x["minutes"], x["balance_after"], x["block_id"], x["entry_id"]) for x in posting.lines]


def test_an_empty_posting_is_false_and_any_change_makes_it_true() -> None:
    assert not Posting(7)
    for field in ("new_blocks", "new_entries", "lines"):
        posting = Posting(7)
        getattr(posting, field).append({"id": 1})
        assert posting
    for field in ("blocks", "entries", "totals"):
        posting = Posting(7)
        getattr(posting, field)[1] = {"x": 1}
        assert posting
    assert not Posting(7, new_draws=[{"entry_id": 1}], reversed_draws=[3])  # only with what they belong to


def test_a_logged_entry_in_overage_records_every_figure() -> None:
    book = ledger(block(1, 60, left=20), overdraft=None)
    entry = log(book, 50)
    assert entry["id"] == PROVISIONAL and entry["overage_minutes"] == 30
    assert entry["billable_minutes"] == 50 and entry["billed_overage_minutes"] == 0
    assert book.posting.new_draws == [{"entry_id": PROVISIONAL, "block_id": 1, "minutes": 20, "created_at": NOW}]
    assert book.posting.blocks == {1: {"remaining_minutes": 0}}
    assert book.posting.totals == {"used_minutes": 90, "open_overage_minutes": 30, "last_entry_id": PROVISIONAL}
    assert lines(book.posting) == [("entry", -50, -30, None, PROVISIONAL)]
    assert book.posting.lines[0]["actor"] == "UTECH" and book.posting.lines[0]["client_id"] == 7
    assert book.posting.lines[0]["at"] == NOW
    assert book.totals.used_minutes == 90 and book.totals.open_overage_minutes == 30


def test_taking_back_an_entry_with_billed_overage_records_both_lines_and_every_figure() -> None:
    book = ledger(block(1, 60, left=0), overdraft=None)
    book.totals.used_minutes, book.totals.billed_overage_minutes, book.totals.last_entry_id = 100, 40, 11
    entry = LedgerEntry(11, TODAY, 100, 0, 40, (LiveDraw(5, 1, 60),))
    book.take_back(entry, reason="dup", note="dup note", latest_live_entry=lambda: 8, chain_root=3)
    posting = book.posting
    assert posting.totals == {
        "last_entry_id": 8,
        "open_overage_minutes": 0,
        "billed_overage_minutes": 0,
        "used_minutes": 0,
    }
    assert posting.entries == {
        11: {
            "overage_minutes": 0,
            "billed_overage_minutes": 0,
            "voided_at": NOW,
            "voided_by": "UTECH",
            "void_reason": "dup",
        }
    }
    assert posting.blocks == {1: {"remaining_minutes": 60}} and posting.reversed_draws == [5]
    assert posting.reversed_at == NOW
    assert lines(posting) == [("void", 100, 100, None, 11), ("overage_billed", -40, 60, None, 11)]
    assert [x["note"] for x in posting.lines] == ["dup note", "billed overage taken back"]
    assert posting.events == [SyncDue(3)]
    assert (entry.overage_minutes, entry.billed_overage_minutes) == (0, 0)


def test_taking_back_open_overage_lowers_it_and_keeps_the_latest_entry_when_it_is_another() -> None:
    book = ledger(block(1, 60, left=0), overage=30, overdraft=None)
    book.totals.used_minutes, book.totals.last_entry_id = 90, 12
    entry = LedgerEntry(11, TODAY, 90, 30, 0, (LiveDraw(5, 1, 60),))
    book.take_back(entry, reason="r", note="n", latest_live_entry=lambda: 99, chain_root=11)
    assert book.posting.totals == {"open_overage_minutes": 0, "billed_overage_minutes": 0, "used_minutes": 0}
    assert lines(book.posting) == [("void", 90, 60, None, 11)]
    assert book.balance() == 60


def test_voiding_a_block_that_had_forfeited_minutes_gives_them_back_in_a_line_of_its_own() -> None:
    wrong = block(1, 120, left=0, forfeited=30)
    other = block(2, 60)
    book = ledger(wrong, other, overdraft=None)
    book.totals.forfeited_minutes = 30
    first, second = LedgerEntry(11, TODAY, 50, 0, 0), LedgerEntry(12, TODAY, 40, 0, 0)
    book.void_block(wrong, [(LiveDraw(5, 1, 50), first), (LiveDraw(6, 1, 40), second)], "typo")
    posting = book.posting
    assert posting.blocks == {
        1: {"remaining_minutes": 0, "voided_at": NOW, "voided_by": "UTECH"},
        2: {"remaining_minutes": 0},
    }
    assert posting.reversed_draws == [5, 6] and posting.reversed_at == NOW
    assert posting.new_draws == [
        {"entry_id": 11, "block_id": 2, "minutes": 50, "created_at": NOW},
        {"entry_id": 12, "block_id": 2, "minutes": 10, "created_at": NOW},
    ]
    assert posting.entries == {11: {"overage_minutes": 0}, 12: {"overage_minutes": 30}}
    assert posting.totals == {"purchased_minutes": 60, "forfeited_minutes": 0, "open_overage_minutes": 30}
    assert lines(posting) == [("void_topup", -120, -60, 1, None), ("forfeit", 30, -30, 1, None)]
    assert posting.lines[0]["note"] == "typo"
    assert posting.lines[1]["note"] == "30 min forfeited of block 1 taken back by its void"
    assert book.block(1) is None and book.balance() == -30


def test_a_carry_pays_the_oldest_overage_first_and_stops_at_the_first_it_cannot_pay_in_full() -> None:
    older, newer = LedgerEntry(11, TODAY, 60, 40, 0), LedgerEntry(12, TODAY, 60, 50, 0)
    book = ledger(block(1, 60, left=0), overage=90, overdraft=None, overage_entries=[older, newer])
    added = book.add_block(
        {"number": 2, "expires_on": None, "reference": "INV-9"}, 60, TODAY, "topup", "1h block INV-9"
    )
    assert book.settle_overage() == (60, 0)
    posting = book.posting
    assert posting.new_blocks == [
        {
            "number": 2,
            "expires_on": None,
            "reference": "INV-9",
            "id": added.id,
            "minutes": 60,
            "remaining_minutes": 0,
            "forfeited_minutes": 0,
        }
    ]
    assert (added.number, added.reference, added.start_on) == (2, "INV-9", TODAY)
    assert posting.entries == {11: {"overage_minutes": 0}, 12: {"overage_minutes": 30}}
    assert posting.totals == {"purchased_minutes": 120, "open_overage_minutes": 30, "billed_overage_minutes": 0}
    assert lines(posting) == [("topup", 60, -30, added.id, None)]
    assert [(d["entry_id"], d["minutes"]) for d in posting.new_draws] == [(11, 40), (12, 20)]


def test_billing_overage_records_one_line_for_all_of_it() -> None:
    first, second = LedgerEntry(11, TODAY, 60, 40, 0), LedgerEntry(12, TODAY, 60, 50, 5)
    book = ledger(block(1, 60, left=0), overage=90, policy="bill", overdraft=None, overage_entries=[first, second])
    assert book.settle_overage() == (0, 90)
    posting = book.posting
    assert posting.entries == {
        11: {"overage_minutes": 0, "billed_overage_minutes": 40},
        12: {"overage_minutes": 0, "billed_overage_minutes": 55},
    }
    assert posting.totals == {"open_overage_minutes": 0, "billed_overage_minutes": 90}
    assert lines(posting) == [("overage_billed", 90, 0, None, None)]
    assert posting.lines[0]["note"] == "90 min of overage billed on its own"
    assert posting.new_draws == []


def test_settling_sees_what_this_posting_changed_of_the_entries() -> None:
    """An entry voided (or paid off) earlier in the same change is not paid off again."""
    voided, open_one = LedgerEntry(11, TODAY, 60, 20, 0), LedgerEntry(12, TODAY, 60, 10, 0)
    book = ledger(block(1, 60), overage=30, overdraft=None, overage_entries=[voided, open_one])
    book.take_back(
        LedgerEntry(11, TODAY, 60, 20, 0), reason="r", note="n", latest_live_entry=lambda: None, chain_root=11
    )
    assert book.settle_overage() == (10, 0)
    assert book.posting.entries[12] == {"overage_minutes": 0}
    assert book.posting.entries[11]["overage_minutes"] == 0


def test_nothing_to_settle_records_nothing() -> None:
    book = ledger(block(1, 60), overdraft=None)
    assert book.settle_overage() == (0, 0) and not book.posting
    assert book.carry_to_started() == 0


def test_a_block_that_started_since_pays_open_overage_under_carry_but_not_under_bill() -> None:
    owing = LedgerEntry(11, TODAY, 60, 30, 0)
    started = block(2, 60, start=TODAY)
    book = ledger(started, overage=30, overdraft=None, overage_entries=[owing])
    book.catch_up()
    assert book.posting.entries == {11: {"overage_minutes": 0}} and book.balance() == 30
    billing = ledger(block(2, 60, start=TODAY), overage=30, policy="bill", overdraft=None, overage_entries=[owing])
    assert billing.carry_to_started() == 0 and not billing.posting
    waiting = ledger(block(2, 60, start=date(2026, 12, 5)), overage=30, overdraft=None, overage_entries=[owing])
    assert waiting.carry_to_started() == 0 and not waiting.posting


def test_a_forfeit_by_a_setting_change_is_dated_now_and_says_why() -> None:
    closed = block(1, 120, left=45, start=date(2026, 9, 1), expires=date(2026, 11, 20))
    book = ledger(closed, block(2, 60), grace=0)
    assert book.expire_due(cause="closed by grace") == 45
    [line] = book.posting.lines
    assert line["at"] == NOW and line["note"] == "45 min of block 1 closed by grace"
    [event] = book.posting.events
    assert isinstance(event, Forfeited) and event.line_id == line["id"] and event.usable_after == 60
    assert (event.block.id, event.block.remaining_minutes, event.block.forfeited_minutes) == (1, 0, 45)
    assert event.block is not closed  # a copy: later changes to the block do not rewrite the notice


def test_an_alert_event_only_when_a_threshold_is_crossed_and_none_for_lines_that_do_not_alert() -> None:
    book = ledger(block(1, 600), thresholds="2h")
    log(book, 400)
    assert not [e for e in book.posting.events if isinstance(e, Crossed)]
    log(book, 100)  # 100 left: below 2h
    [crossed] = [e for e in book.posting.events if isinstance(e, Crossed)]
    assert (crossed.before, crossed.after, crossed.block_minutes) == (200, 100, 600)
    assert crossed.crossing.threshold.label == "2h"


def test_stored_replaces_provisional_ids_of_blocks_and_the_latest_entry() -> None:
    book = ledger(block(1, 60))
    added = book.add_block({"number": 2}, 30, TODAY, "topup", "30m")
    entry = log(book, 10)
    real = {added.id: 500, entry["id"]: 600}
    book.stored(lambda row_id: real.get(row_id, row_id) if row_id is not None else None)
    assert book.block(500) is added and book.block(added.id) is added and added.id == 500
    assert book.totals.last_entry_id == 600 and not book.posting
    assert {b.id for b in book.open_blocks()} == {1, 500}


def test_a_correction_keeps_its_closed_blocks_draws_summed_per_block_in_order() -> None:
    closed = block(1, 90, left=0, start=date(2026, 9, 1), expires=date(2026, 10, 31))
    older = block(3, 30, left=0, start=date(2026, 9, 1), expires=date(2026, 10, 20))
    book = ledger(block(2, 60), others=[closed, older])
    entry = LedgerEntry(11, date(2026, 10, 15), 70, 0, 0, (LiveDraw(5, 3, 30), LiveDraw(6, 1, 20), LiveDraw(7, 1, 20)))
    book.take_back(entry, reason="e", note="e", latest_live_entry=lambda: None, chain_root=11, correction=True)
    assert [(d.block_id, d.minutes) for d in book.kept_draws()] == [(3, 30), (1, 40)]
    assert [x["kind"] for x in book.posting.lines] == ["void"]  # the forfeit waits for the corrected entry
    book.forfeit_returned()
    assert sorted((x["block_id"], x["minutes"]) for x in book.posting.lines if x["kind"] == "forfeit") == [
        (1, -40),
        (3, -30),
    ]


def test_a_block_held_by_the_ledger_is_found_by_id_and_only_blocks_with_minutes_are_open() -> None:
    used = block(1, 60, left=0, expires=date(2026, 12, 31))
    book = ledger(used, block(2, 60))
    assert book.block(1) is used and book.block(9) is None
    assert [b.id for b in book.open_blocks()] == [2]
    assert book.block_minutes() == 120  # a used-up block still current counts in "% left"
    assert isinstance(book.block(2), LedgerBlock)
