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
from bot.render import topup_line, void_line
from bot.reports.csvfile import entries_csv
from bot.services import Actor, Context, run
from bot.services.reports import report
from tests.helpers import do


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
