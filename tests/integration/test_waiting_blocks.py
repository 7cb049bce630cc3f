"""A block that starts later is bought but not usable balance (issue 24): the balance, the overdraft
check, thresholds and every reply agree on what new work can draw today, and say when hours are
waiting for their start date. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.domain.dates import parse_period
from bot.domain.errors import Refused
from bot.phrasebook import figures_line, log_line, topup_line, waiting_lines
from bot.services import Actor, Context
from bot.services.reports import statement_facts
from storage.models import Client, Entry, LedgerLine
from tests.helpers import balance_of, do, entry_count


def at(clock: FixedClock, day: str, hour: int = 12) -> None:
    clock.at = datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def statement(ctx: Context, handle: str, period: str) -> dict:  # type: ignore[type-arg]
    with ctx.db.unit_of_work(read_only=True) as uow:
        client = uow.session.scalar(select(Client).where(Client.handle == handle))
        assert client is not None
        return statement_facts(uow, client, parse_period(period, ctx.today()))


def lines(ctx: Context) -> list[tuple[str, int, int]]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = uow.session.scalars(select(LedgerLine).order_by(LedgerLine.id))
        return [(r.kind, r.minutes, r.balance_after) for r in rows]


@pytest.fixture(params=["bill", "carry"])
def hooli(request: pytest.FixtureRequest, ctx: Context, admin: Actor) -> str:
    """Hooli, no overdraft, overage billed or carried, and a 10h block that starts on 15 Dec."""
    do(ctx, admin, "client add hooli Hooli")
    do(ctx, admin, f"client set hooli overage {request.param}")
    added = do(ctx, admin, "topup hooli 10 starts 2026-12-15 expires 2027-12-14")
    assert added.remaining_minutes == 0
    assert "starts 2026-12-15" in topup_line(added) and "10h waiting to start on 15 Dec 2026" in topup_line(added)
    return "hooli"


def test_work_today_cannot_draw_on_a_block_that_has_not_started(ctx: Context, tech: Actor, hooli: str) -> None:
    with pytest.raises(Refused) as refused:
        do(ctx, tech, "logtime hooli 2h today x")
    assert "Hooli has no hours left" in str(refused.value)
    assert "10h waiting to start on 15 Dec 2026" in str(refused.value)
    assert entry_count(ctx) == 0
    view = balance_of(ctx, "hooli")
    assert (view.remaining_minutes, view.waiting_minutes, view.overage_minutes, view.percent_left) == (0, 600, 0, 0)
    assert view.as_dict()["waiting_minutes"] == 600
    assert waiting_lines(view) == [
        "Block 1: 10h waiting to start on 15 Dec 2026; new work draws from it from that day."
    ]
    assert figures_line(view).startswith("Purchased 10h − used 0m − waiting to start 10h = 0m left")
    # the account holds the block: the statement shows it bought and the closing balance counts it
    november = statement(ctx, "hooli", "2026-11")
    assert (november["bought_minutes"], november["used_minutes"], november["closing_minutes"]) == (600, 0, 600)
    assert lines(ctx) == [("topup", 600, 600)]


def test_the_overdraft_is_measured_from_what_can_be_drawn_today(
    ctx: Context, admin: Actor, tech: Actor, hooli: str
) -> None:
    do(ctx, admin, "client set hooli overdraft 3h")
    logged = do(ctx, tech, "logtime hooli 2h today x")
    assert (logged.overage_minutes, logged.remaining_minutes) == (120, -120)
    assert "2h of it is overage" in log_line(logged) and "10h waiting to start on 15 Dec 2026" in log_line(logged)
    with pytest.raises(Refused, match="Hooli has no hours left"):
        do(ctx, tech, "logtime hooli 2h today y")  # 4h below zero: past the 3h overdraft
    view = balance_of(ctx, "hooli")
    assert (view.remaining_minutes, view.waiting_minutes, view.overage_minutes) == (-120, 600, 120)


def test_on_its_start_day_the_block_is_usable_and_thresholds_are_a_share_of_it(
    ctx: Context, clock: FixedClock, tech: Actor, hooli: str
) -> None:
    at(clock, "2026-12-15")
    view = balance_of(ctx, "hooli")
    assert (view.remaining_minutes, view.waiting_minutes, view.percent_left) == (600, 0, 100)
    assert waiting_lines(view) == []
    logged = do(ctx, tech, "logtime hooli 2h today x")
    assert (logged.overage_minutes, logged.remaining_minutes, logged.percent_left) == (0, 480, 80)
    with ctx.db.unit_of_work(read_only=True) as uow:
        entry = uow.session.get(Entry, logged.entry_id)
        assert entry is not None and [(d.minutes, d.reversed_at) for d in entry.draws] == [(120, None)]
    december = statement(ctx, "hooli", "2026-12")
    assert (december["opening_minutes"], december["used_minutes"], december["closing_minutes"]) == (600, 120, 480)
    assert balance_of(ctx, "hooli").remaining_minutes == 480


def test_a_started_block_and_a_waiting_one_are_told_apart(ctx: Context, admin: Actor, tech: Actor, hooli: str) -> None:
    do(ctx, admin, "topup hooli 2")
    logged = do(ctx, tech, "logtime hooli 30m today x")
    assert (logged.overage_minutes, logged.remaining_minutes, logged.percent_left) == (0, 90, 75)
    view = balance_of(ctx, "hooli")
    assert (view.remaining_minutes, view.waiting_minutes, view.current_block_minutes) == (90, 600, 120)
    assert date(2026, 12, 15) == view.waiting_starts_on


def test_under_carry_overage_left_before_the_start_is_paid_off_by_the_block_once_started(
    ctx: Context, clock: FixedClock, admin: Actor, tech: Actor
) -> None:
    do(ctx, admin, "client add hooli Hooli")
    do(ctx, admin, "client set hooli overage carry overdraft 3h")
    do(ctx, admin, "topup hooli 10 starts 2026-12-15 expires 2027-12-14")
    first = do(ctx, tech, "logtime hooli 2h today x")
    assert (first.overage_minutes, first.remaining_minutes) == (120, -120)
    at(clock, "2026-12-15")
    assert balance_of(ctx, "hooli").remaining_minutes == 480  # 10h less the 2h it will pay off
    # the first change on the start day pays the overage off from the block, before anything else
    # (the same rule on the bare unit of work and the full one)
    second = do(ctx, tech, "logtime hooli 1h today y")
    assert (second.overage_minutes, second.remaining_minutes) == (0, 420)
    view = balance_of(ctx, "hooli")
    assert (view.remaining_minutes, view.overage_minutes, view.used_minutes, view.blocks[0].drawn_minutes) == (
        420,
        0,
        180,
        180,
    )
    with ctx.db.unit_of_work(read_only=True) as uow:
        entry = uow.session.get(Entry, first.entry_id)
        assert entry is not None and entry.overage_minutes == 0 and [d.minutes for d in entry.draws] == [120]
    assert lines(ctx) == [("topup", 600, 600), ("entry", -120, 480), ("entry", -60, 420)]
    december = statement(ctx, "hooli", "2026-12")
    assert (december["opening_minutes"], december["used_minutes"], december["closing_minutes"]) == (480, 60, 420)
