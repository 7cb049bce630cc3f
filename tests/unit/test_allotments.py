"""Recurring allotments (issue 26, part 4) in the pure domain: the periods, the setting's words, and the
ledger aggregate's ``renew_allotments`` checked through the posting it records."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.allotments import (
    Allotment,
    due_starts,
    last_start_after_change,
    period_end,
    period_words,
    rollover_split,
)
from bot.domain.charges import Policy
from bot.domain.client_ledger import ClientLedger, LedgerBlock, Terms, Totals
from bot.domain.errors import ParseError
from bot.domain.grammar import parse_command

TODAY = date(2026, 12, 3)


def monthly(last: date | None, minutes: int = 600, cap: int = 1200) -> Allotment:
    return Allotment("monthly", minutes, cap, last)


def test_a_new_allotment_begins_with_the_current_month() -> None:
    assert due_starts(monthly(None), TODAY) == [date(2026, 12, 1)]


def test_a_granted_period_is_not_due_again_and_missed_ones_are_due_in_order() -> None:
    assert due_starts(monthly(date(2026, 12, 1)), TODAY) == []
    assert due_starts(monthly(date(2026, 9, 1)), TODAY) == [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]
    assert due_starts(Allotment("quarterly", 60, 0, date(2026, 3, 1)), TODAY) == [
        date(2026, 6, 1),
        date(2026, 9, 1),
        date(2026, 12, 1),
    ]
    assert due_starts(Allotment("yearly", 60, 0, date(2026, 3, 1)), TODAY) == []


@pytest.mark.parametrize(
    ("start", "period", "end"),
    [
        (date(2028, 2, 1), "monthly", date(2028, 2, 29)),  # a leap day
        (date(2027, 2, 1), "monthly", date(2027, 2, 28)),
        (date(2027, 12, 1), "quarterly", date(2028, 2, 29)),
        (date(2028, 3, 1), "yearly", date(2029, 2, 28)),
        (date(2026, 12, 1), "monthly", date(2026, 12, 31)),
    ],
)
def test_a_period_ends_the_day_before_the_next_begins(start: date, period: str, end: date) -> None:
    assert period_end(start, period) == end


def test_rollover_is_capped_and_the_rest_forfeited() -> None:
    assert rollover_split(300, 1200) == (300, 0)
    assert rollover_split(1500, 1200) == (1200, 300)
    assert rollover_split(500, 0) == (0, 500)
    assert rollover_split(500, 600, rolled_in_already=400) == (200, 300)


def test_the_anchor_survives_off_and_on_within_a_period_but_not_a_whole_period_off() -> None:
    on = monthly(date(2026, 12, 1))
    assert last_start_after_change(on, None, date(2026, 12, 1), TODAY) == date(2026, 12, 1)  # off keeps it
    assert last_start_after_change(None, on, date(2026, 12, 1), TODAY) == date(2026, 12, 1)  # on again: kept
    assert last_start_after_change(None, on, date(2026, 11, 1), TODAY) is None  # a month went by off
    assert last_start_after_change(on, Allotment("yearly", 60), date(2026, 12, 1), TODAY) == date(2026, 12, 1)


def test_period_words() -> None:
    assert period_words(date(2026, 12, 1), "monthly") == "December 2026"
    assert period_words(date(2027, 1, 1), "quarterly") == "Q1 2027"
    assert period_words(date(2026, 12, 1), "quarterly") == "Dec 2026 – Feb 2027"
    assert period_words(date(2026, 3, 1), "yearly") == "year from Mar 2026"


@pytest.mark.parametrize(
    ("words", "changes"),
    [
        (
            "monthly 10h rollover 20h",
            {"recurring_period": "monthly", "recurring_minutes": 600, "rollover_minutes": 1200},
        ),
        (
            "quarterly 30 rollover 0",
            {"recurring_period": "quarterly", "recurring_minutes": 1800, "rollover_minutes": 0},
        ),
        ("yearly 7.5", {"recurring_period": "yearly", "recurring_minutes": 450}),
        ("rollover none", {"rollover_minutes": 0}),
        ("recurring off", {"recurring_period": None, "recurring_minutes": None, "rollover_minutes": None}),
    ],
)
def test_the_setting_words(words: str, changes: dict[str, object]) -> None:
    command = parse_command(f"client set acme {words}", TODAY)
    assert command.changes == changes  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("words", "example"),
    [
        ("monthly lots", "client set acme monthly 10h rollover 20h"),
        ("monthly 0", "client set acme recurring off"),
        ("recurring on", "client set acme monthly 10h rollover 20h"),
        ("rollover many", "client set acme monthly 10h rollover 20h"),
        ("monthly", "client set acme monthly 10h rollover 20h"),
    ],
)
def test_bad_setting_words_are_refused_with_an_example(words: str, example: str) -> None:
    with pytest.raises(ParseError) as refused:
        parse_command(f"client set acme {words}", TODAY)
    assert refused.value.example == example


def ledger(allotment: Allotment | None, *blocks: LedgerBlock, today: date = TODAY, grace: int = 0) -> ClientLedger:
    terms = Terms(7, "UTC", None, Policy(1, 0, 0, grace), "carry", recurring=allotment)
    bought = sum(b.minutes for b in blocks)
    left = sum(b.remaining_minutes for b in blocks)
    totals = Totals(bought, bought - left, 0, 0, 0, None)
    now = datetime.combine(today, datetime.min.time(), UTC).replace(hour=9)
    return ClientLedger(terms, totals, blocks, today=today, now=now, actor="scheduler", last_block_number=lambda: 3)


def period_block(block_id: int, start: date, left: int, size: int = 600) -> LedgerBlock:
    return LedgerBlock(
        block_id,
        block_id,
        size,
        left,
        0,
        start,
        period_end(start, "monthly"),
        source="recurring",
        period_start=start,
    )


def test_renewal_grants_the_period_rolls_over_up_to_the_cap_and_leaves_the_rest_to_expire() -> None:
    book = ledger(monthly(date(2026, 11, 1), cap=120), period_block(3, date(2026, 11, 1), left=400))
    book.catch_up()
    posting = book.posting
    (new,) = posting.new_blocks
    assert (new["number"], new["source"], new["period_start"], new["expires_on"]) == (
        4,
        "recurring",
        date(2026, 12, 1),
        date(2026, 12, 31),
    )
    assert (new["minutes"], new["remaining_minutes"], new["rolled_in_minutes"]) == (600, 720, 120)
    assert posting.blocks[3] == {"remaining_minutes": 0, "rolled_out_minutes": 120, "forfeited_minutes": 280}
    assert posting.totals["recurring_last_start"] == date(2026, 12, 1)
    assert [(line["kind"], line["minutes"]) for line in posting.lines] == [
        ("topup", 600),
        ("rollover", 0),
        ("forfeit", -280),
    ]
    # the forfeit is dated the period's end, but never inside a month that is over
    assert posting.lines[2]["recorded_on"] == date(2026, 12, 1)
    book.posting.lines.clear()
    assert book.renew_allotments() == []  # nothing due twice in one change


def test_no_allotment_no_rollover_the_closed_period_is_forfeited_as_any_block() -> None:
    book = ledger(None, period_block(3, date(2026, 11, 1), left=400), period_block(4, date(2026, 12, 1), left=600))
    book.catch_up()
    assert book.posting.blocks == {3: {"remaining_minutes": 0, "forfeited_minutes": 400}}
    assert [line["kind"] for line in book.posting.lines] == ["forfeit"]


def test_with_a_grace_period_the_last_period_rolls_over_only_once_it_closes() -> None:
    nov = period_block(3, date(2026, 11, 1), left=400)
    dec = period_block(4, date(2026, 12, 1), left=600)
    early = ledger(monthly(date(2026, 12, 1)), nov, dec, today=date(2026, 12, 3), grace=3)
    early.catch_up()
    assert not early.posting
    late = ledger(monthly(date(2026, 12, 1)), nov, dec, today=date(2026, 12, 4), grace=3)
    late.catch_up()
    assert late.posting.blocks == {
        3: {"remaining_minutes": 0, "rolled_out_minutes": 400},
        4: {"remaining_minutes": 1000, "rolled_in_minutes": 400},
    }
