"""Issue 24's statement, report and label findings, through the services on SQLite and PostgreSQL:
blocks named by the client's own number, overage counted only while it is open or billed, late
corrections said as such, one rounding of hours per client in every CSV, and figures that say which
date they go by."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.clock import FixedClock
from bot.domain.commands import Report
from bot.domain.dates import parse_period
from bot.domain.notices import Statement
from bot.phrasebook import figures_line, statement_lines, topup_line, void_line
from bot.reports.csvfile import entries_csv
from bot.services import Actor, Context, run
from bot.services.reports import report
from tests.helpers import balance_of, do


def at(clock: FixedClock, day: str, hour: int = 12) -> None:
    clock.at = datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def two_clients(ctx: Context, admin: Actor) -> None:
    """Acme holds the global blocks 1 to 3, so Initech's first block has the global id 4."""
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "client add initech Initech")
    for _ in range(3):
        do(ctx, admin, "topup acme 1")


# -- 1. a block is named by the client's own number ---------------------------------------------------------


def test_a_top_up_reply_names_the_block_by_the_clients_own_number(
    ctx: Context, admin: Actor, two_clients: None
) -> None:
    added = do(ctx, admin, "topup initech 5")
    assert (added.block_id, added.block_number) == (4, 1)
    assert topup_line(added).startswith("Added block 1: 5h for Initech")
    assert added.as_dict()["block_number"] == 1 and added.as_dict()["block_id"] == 4


def test_the_number_a_top_up_reply_gives_is_the_one_void_topup_takes(
    ctx: Context, admin: Actor, two_clients: None
) -> None:
    do(ctx, admin, "topup initech 5")
    second = do(ctx, admin, "topup initech 2")
    voided = do(ctx, admin, f"void topup initech {second.block_number} typo")
    assert (voided.id, voided.number, voided.minutes) == (second.block_id, 2, 120)
    assert void_line(voided) == "Block 2 voided (2h). Initech now has 5h left."
    from bot.domain.errors import Refused

    with pytest.raises(Refused, match="Block 2 of Initech is already voided"):
        do(ctx, admin, f"void topup {second.block_id}")


# -- 2. one client's hours sum the same in every file --------------------------------------------------------


def csv_rows(result) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return list(csv.DictReader(io.StringIO(entries_csv(result.entries).decode())))


def test_a_clients_hours_sum_the_same_in_its_own_csv_and_in_the_csv_of_every_client(
    ctx: Context, admin: Actor, tech: Actor
) -> None:
    for handle in ("globex", "acme"):  # globex first: its rows come before acme's in the --all file
        do(ctx, admin, f"client add {handle} {handle.title()}")
        do(ctx, admin, f"client set {handle} rounding none minimum none")
        do(ctx, admin, f"topup {handle} 10")
    do(ctx, tech, "logtime globex 7m dns")
    for minutes in (7, 13, 29):
        do(ctx, tech, f"logtime acme {minutes}m printer")
    period = parse_period("this month", ctx.today())
    own = csv_rows(report(ctx, admin, "acme", period))
    every = [r for r in csv_rows(run(ctx, admin, Report(None, period))) if r["client"] == "acme"]
    assert [r["billable_hours"] for r in every] == [r["billable_hours"] for r in own]
    assert sum(Decimal(r["billable_hours"]) for r in every) == Decimal("0.82")  # 49 min
    assert sum(int(r["billable_minutes"]) for r in every) == 49


# -- 3. statements: overage still open or billed, late corrections said as such ----------------------------


def statement_of(ctx: Context, admin: Actor) -> tuple[dict, str]:  # type: ignore[type-arg]
    facts = report(ctx, admin, "acme", parse_period("this month", ctx.today())).statement
    return facts, "\n".join(statement_lines(Statement.from_json(facts)))


@pytest.fixture
def overdrawn(ctx: Context, admin: Actor, tech: Actor) -> int:
    """Acme, overdraft unlimited: a 1h block and a 3h entry, 2h of it overage; the entry's id."""
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "client set acme overdraft unlimited")
    do(ctx, admin, "topup acme 1")
    return int(do(ctx, tech, "logtime acme 3h migration").entry_id)


def test_open_overage_is_stated_as_still_open_or_billed(ctx: Context, admin: Actor, overdrawn: int) -> None:
    facts, text = statement_of(ctx, admin)
    assert facts["overage_minutes"] == 120
    assert "Of the time used, 2h is overage still open or billed on its own" in text


def test_overage_a_later_block_paid_off_is_not_counted_as_overage(
    ctx: Context, clock: FixedClock, admin: Actor, overdrawn: int
) -> None:
    at(clock, "2026-11-26")
    assert do(ctx, admin, "topup acme 10").carried_overage_minutes == 120
    facts, text = statement_of(ctx, admin)
    assert (facts["used_minutes"], facts["overage_minutes"]) == (180, 0)
    assert "overage" not in text.split("\n", 2)[2]
    rows = csv_rows(report(ctx, admin, "acme", parse_period("this month", ctx.today())))
    assert sum(int(r["overage_minutes"]) for r in rows) == 0  # the CSV's column adds up to the statement


def test_overage_a_void_took_back_is_not_counted_as_overage(ctx: Context, admin: Actor, overdrawn: int) -> None:
    do(ctx, admin, f"void {overdrawn} wrong client")
    facts, text = statement_of(ctx, admin)
    assert (facts["used_minutes"], facts["overage_minutes"]) == (0, 0) and "overage" not in text


def test_overage_billed_on_its_own_is_still_counted(ctx: Context, admin: Actor, overdrawn: int) -> None:
    do(ctx, admin, "client set acme overage bill")
    do(ctx, admin, "topup acme 10")
    facts, text = statement_of(ctx, admin)
    assert (facts["overage_minutes"], facts["overage_billed_minutes"]) == (120, 120)
    assert "Of the time used, 2h is overage still open or billed on its own" in text


def test_overage_paid_off_after_the_period_stays_in_its_statement(
    ctx: Context, clock: FixedClock, admin: Actor, overdrawn: int
) -> None:
    """A statement already sent never changes: the carry of December is December's."""
    at(clock, "2026-12-02")
    do(ctx, admin, "topup acme 10")
    november = report(ctx, admin, "acme", parse_period("2026-11", ctx.today())).statement
    assert november["overage_minutes"] == 120


def test_the_late_list_says_which_entry_an_edit_replaced_and_which_a_void_took_back(
    ctx: Context, admin: Actor, tech: Actor
) -> None:
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "topup acme 10")
    first = do(ctx, tech, "logtime acme 1h 2026-11-02 server")
    edited = do(ctx, tech, f"edit {first.entry_id} 30m")
    dropped = do(ctx, tech, "logtime acme 15m 2026-11-03 printer")
    do(ctx, tech, f"void {dropped.entry_id} duplicate")
    facts, text = statement_of(ctx, admin)
    assert [(x["entry_id"], x["replaced_by"], x["replaces"], x["voided"]) for x in facts["late"]] == [
        (first.entry_id, edited.entry_id, None, True),
        (edited.entry_id, None, first.entry_id, False),
        (dropped.entry_id, None, None, True),
    ]
    assert (
        f"Late: work of 2 Nov 2026, logged 25 Nov 2026: 1h (entry #{first.entry_id}, replaced by #{edited.entry_id})"
        in text
    )
    assert f"30m (entry #{edited.entry_id}, replaces #{first.entry_id})" in text
    assert f"15m (entry #{dropped.entry_id}, since voided)" in text


# -- 4. figures say which date they go by; hours in grace are mentioned ------------------------------------


def test_balance_and_statement_say_which_date_their_used_goes_by(
    ctx: Context, clock: FixedClock, admin: Actor, tech: Actor
) -> None:
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "topup acme 10")
    do(ctx, tech, "logtime acme 1h 2026-10-30 late")  # October's work, recorded in November
    view = balance_of(ctx, "acme")
    assert view.used_this_month_minutes == 0
    assert figures_line(view).endswith("· used this month (by work date) 0m")
    facts, text = statement_of(ctx, admin)
    assert "Opening 0m + bought 10h − used (recorded this month) 1h − forfeited 0m = closing 9h" in text
    autumn = report(ctx, admin, "acme", parse_period("2026-10..2026-11", ctx.today())).statement
    assert "− used (recorded in the period) 1h" in "\n".join(statement_lines(Statement.from_json(autumn)))


def test_a_statement_says_which_hours_are_in_an_expired_blocks_grace_period(
    ctx: Context, clock: FixedClock, admin: Actor
) -> None:
    do(ctx, admin, "client add acme Acme Corp")
    at(clock, "2026-11-01")
    do(ctx, admin, "topup acme 5 expires 2026-11-29")
    at(clock, "2026-11-30")
    do(ctx, admin, "topup acme 10")
    facts, text = statement_of(ctx, admin)
    assert facts["in_grace"] == [
        {
            "as_of": "2026-11-30",
            "block_id": 1,
            "block_number": 1,
            "minutes": 300,
            "expires_on": "2026-11-29",
            "closing_on": "2026-12-06",
        }
    ]
    assert (
        "On 2026-11-30, 5h of block 1 (expired 2026-11-29) are in their grace period: late work dated up to "
        "2026-11-29 may still draw from them until 2026-12-06, then they are forfeited."
    ) in text
    at(clock, "2026-12-07")
    assert report(ctx, admin, "acme", parse_period("2026-11", ctx.today())).statement["in_grace"] == []
