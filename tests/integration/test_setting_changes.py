"""Issue 24: setting changes and voids never make the balance and the statements disagree, and never
change a month that is over. A forfeit the balance shows is a forfeit the ledger records. On SQLite and
PostgreSQL, with the clock moved across month ends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.domain.dates import parse_period
from bot.domain.errors import Refused
from bot.jobs.scheduler import run_job
from bot.services import Actor, Context
from bot.services.reports import statement_facts
from storage.models import Block, Client, LedgerLine
from tests.helpers import balance_of, do


def at(clock: FixedClock, day: str, hour: int = 12, minute: int = 0) -> None:
    clock.at = datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


@pytest.fixture
def acme(ctx: Context, admin: Actor) -> str:
    do(ctx, admin, "client add acme Acme Corp")
    return "acme"


def statement(ctx: Context, period: str, handle: str = "acme") -> dict[str, Any]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        client = uow.session.scalar(select(Client).where(Client.handle == handle))
        assert client is not None
        return statement_facts(uow, client, parse_period(period, ctx.today()))


def forfeit_lines(ctx: Context) -> list[tuple[int, datetime]]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = uow.session.scalars(select(LedgerLine).where(LedgerLine.kind == "forfeit").order_by(LedgerLine.id))
        return [(r.minutes, r.at.replace(tzinfo=UTC) if r.at.tzinfo is None else r.at) for r in rows]


def agree(ctx: Context, handle: str, since: str) -> None:
    """The balance's running figures are the statements' since the client began, added up."""
    view = balance_of(ctx, handle)
    facts = statement(ctx, f"{since}..2027-12", handle)  # to the end of any client's calendar
    assert facts["opening_minutes"] == 0
    assert (view.purchased_minutes, view.used_minutes, view.forfeited_minutes) == (
        facts["bought_minutes"],
        facts["used_minutes"],
        facts["forfeited_minutes"],
    )
    assert facts["closing_minutes"] == sum(b.remaining_minutes for b in view.blocks) - view.overage_minutes


# -- a shorter grace period ------------------------------------------------------------------------------


def test_shortening_the_grace_period_forfeits_at_once_by_a_line_dated_now(
    ctx: Context, clock: FixedClock, admin: Actor, acme: str
) -> None:
    at(clock, "2026-11-01")
    do(ctx, admin, "topup acme 5 expires 2026-11-20")
    at(clock, "2026-11-25", hour=15)  # in its 7-day grace period until 2026-11-27
    assert balance_of(ctx, "acme").in_grace_minutes == 300
    do(ctx, admin, "client set acme grace 2d")  # closed on 2026-11-22
    assert forfeit_lines(ctx) == [(-300, clock.now())]
    assert balance_of(ctx, "acme").forfeited_minutes == 300
    assert statement(ctx, "2026-11")["forfeited_minutes"] == 300
    assert run_job(ctx, "expiry", ctx.today()).summary == "forfeited 0 min across 0 clients"
    agree(ctx, "acme", "2026-11")


def test_a_grace_default_shortened_between_restarts_is_forfeited_and_reported_by_the_expiry_job(
    ctx: Context, clock: FixedClock, admin: Actor, acme: str
) -> None:
    at(clock, "2026-11-01")
    do(ctx, admin, "topup acme 5 expires 2026-11-20")
    at(clock, "2026-11-25", hour=0, minute=5)
    assert run_job(ctx, "expiry", ctx.today()).summary == "forfeited 0 min across 0 clients"
    at(clock, "2026-11-25", hour=15)
    restarted = Context(ctx.db, replace(ctx.settings, expiry_grace_days=2), clock)  # closed on 2026-11-22
    outcome = run_job(restarted, "expiry", restarted.today(), repeat=True)
    assert (outcome.ran, outcome.summary) == (True, "forfeited 300 min across 1 client")
    ((minutes, moment),) = forfeit_lines(ctx)
    assert minutes == -300 and datetime(2026, 11, 1, tzinfo=UTC) <= moment <= clock.now()
    assert balance_of(restarted, "acme").forfeited_minutes == 300
    agree(restarted, "acme", "2026-11")


def test_a_balance_never_shows_a_forfeit_that_no_ledger_line_records(
    ctx: Context, clock: FixedClock, admin: Actor, acme: str
) -> None:
    at(clock, "2026-10-01")
    do(ctx, admin, "topup acme 5 expires 2026-10-27")  # closes 2026-11-03, or 2026-10-29 at 2 days
    at(clock, "2026-10-31", hour=20)
    october = statement(ctx, "2026-10")
    clock.advance(hours=6)  # 2026-11-01 02:00: the closing day was in October, and nothing ran since
    restarted = Context(ctx.db, replace(ctx.settings, expiry_grace_days=2), clock)
    view = balance_of(restarted, "acme")
    assert view.forfeited_minutes == 300
    ((minutes, moment),) = forfeit_lines(ctx)  # read, and recorded in the month that is not over
    assert minutes == -300 and datetime(2026, 11, 1, tzinfo=UTC) <= moment <= clock.now()
    assert statement(ctx, "2026-10") == october
    assert statement(ctx, "2026-11")["forfeited_minutes"] == 300
    agree(restarted, "acme", "2026-10")


# -- a new time zone ------------------------------------------------------------------------------------


def test_changing_the_time_zone_never_changes_a_month_that_is_over(
    ctx: Context, clock: FixedClock, admin: Actor, tech: Actor, acme: str
) -> None:
    at(clock, "2026-11-10")
    do(ctx, admin, "topup acme 5 expires 2026-11-20")
    do(ctx, admin, "topup acme 10")
    at(clock, "2026-12-01", hour=0, minute=5)  # the expiry job: closed 2026-11-27, dated 1 December
    assert run_job(ctx, "expiry", ctx.today()).summary == "forfeited 300 min across 1 client"
    clock.advance(hours=2)
    do(ctx, tech, "logtime acme 1h server patching")
    at(clock, "2026-12-01", hour=8)
    november, december = statement(ctx, "2026-11"), statement(ctx, "2026-12")  # November's is sent
    assert (november["bought_minutes"], november["forfeited_minutes"], november["closing_minutes"]) == (900, 0, 900)
    at(clock, "2026-12-02")
    do(ctx, admin, "client set acme timezone America/Chicago")  # UTC-6: 1 December 00:05 UTC is 30 November
    assert statement(ctx, "2026-11") == november
    assert statement(ctx, "2026-12") == december
    assert (december["forfeited_minutes"], december["used_minutes"], december["closing_minutes"]) == (300, 60, 540)
    agree(ctx, "acme", "2026-11")


def test_a_time_zone_that_moves_the_calendar_back_records_nothing_new_in_a_month_that_is_over(
    ctx: Context, clock: FixedClock, admin: Actor, tech: Actor, acme: str
) -> None:
    do(ctx, admin, "client set acme timezone Pacific/Auckland")
    at(clock, "2026-11-20")
    do(ctx, admin, "topup acme 10")
    at(clock, "2026-11-30", hour=12)  # 1 December 01:00 in Auckland: November is over there, and sent
    november = statement(ctx, "2026-11")
    do(ctx, admin, "client set acme timezone UTC")  # 30 November 12:00 here: the calendar goes back a day
    logged = do(ctx, tech, "logtime acme 1h server patching")
    assert logged.logged_on == date(2026, 12, 1) and str(logged.work_date) == "2026-11-30"
    do(ctx, tech, "logtime acme 30m printer")  # the fast writer records on the same day
    void = do(ctx, tech, f"void {logged.entry_id}")
    assert void.remaining_minutes == 570
    assert statement(ctx, "2026-11") == november
    assert statement(ctx, "2026-12")["used_minutes"] == 30
    at(clock, "2026-12-01", hour=9)  # the new zone's calendar has caught up: it records as it is
    assert do(ctx, tech, "logtime acme 15m vpn").logged_on == date(2026, 12, 1)
    agree(ctx, "acme", "2026-11")


def test_a_time_zone_that_closes_a_block_forfeits_it_at_once_in_the_month_not_over(
    ctx: Context, clock: FixedClock, admin: Actor, acme: str
) -> None:
    do(ctx, admin, "client set acme grace 0d")
    at(clock, "2026-11-20")
    do(ctx, admin, "topup acme 5 expires 2026-11-30")
    at(clock, "2026-11-30", hour=20)  # still 30 November in UTC; 1 December in Auckland (UTC+13)
    do(ctx, admin, "client set acme timezone Pacific/Auckland")
    assert forfeit_lines(ctx) == [(-300, clock.now())]
    assert statement(ctx, "2026-12")["forfeited_minutes"] == 300  # Auckland's December: not over
    assert statement(ctx, "2026-11")["forfeited_minutes"] == 0
    agree(ctx, "acme", "2026-11")


# -- voiding a block that was forfeited --------------------------------------------------------------------


@pytest.fixture
def stark(ctx: Context, clock: FixedClock, admin: Actor, tech: Actor) -> None:
    """Block 1, 5h until 2026-11-10, 1h used and 4h forfeited; block 2, 2h."""
    do(ctx, admin, "client add stark Stark Industries")
    at(clock, "2026-11-01")
    do(ctx, admin, "topup stark 5 expires 2026-11-10")
    do(ctx, tech, "logtime stark 1h audit")
    do(ctx, admin, "topup stark 2")
    at(clock, "2026-11-20")
    assert run_job(ctx, "expiry", ctx.today()).summary == "forfeited 240 min across 1 client"


def test_voiding_a_forfeited_block_takes_back_what_was_bought_and_what_was_forfeited(
    ctx: Context, clock: FixedClock, admin: Actor, stark: None
) -> None:
    do(ctx, admin, "void topup stark 1 entered by mistake")
    view = balance_of(ctx, "stark")
    assert (view.purchased_minutes, view.used_minutes, view.forfeited_minutes, view.remaining_minutes) == (
        120,
        60,
        0,
        60,
    )
    november = statement(ctx, "2026-11", "stark")
    assert (november["bought_minutes"], november["used_minutes"], november["forfeited_minutes"]) == (120, 60, 0)
    assert november["closing_minutes"] == 60
    agree(ctx, "stark", "2026-11")


def test_voiding_a_forfeited_block_in_a_later_month_leaves_the_month_over_as_it_was(
    ctx: Context, clock: FixedClock, admin: Actor, stark: None
) -> None:
    at(clock, "2026-12-01", hour=8)
    november = statement(ctx, "2026-11", "stark")
    clock.advance(days=2)
    do(ctx, admin, "void topup stark 1 entered by mistake")
    assert statement(ctx, "2026-11", "stark") == november
    december = statement(ctx, "2026-12", "stark")
    assert (december["opening_minutes"], december["bought_minutes"], december["forfeited_minutes"]) == (
        120,
        -300,
        -240,
    )
    assert december["closing_minutes"] == 60 == balance_of(ctx, "stark").remaining_minutes
    agree(ctx, "stark", "2026-11")


# -- a top-up closed before it is bought -------------------------------------------------------------------


def test_a_top_up_whose_closing_day_has_passed_is_refused_with_an_example(
    ctx: Context, clock: FixedClock, admin: Actor, acme: str
) -> None:
    # today is 2026-11-25; the default grace period is 7 days
    with pytest.raises(Refused) as refused:
        do(ctx, admin, "topup acme 5 starts 2026-10-01 expires 2026-11-10")  # closed on 2026-11-17
    assert "2026-11-17" in refused.value.message and "forfeited" in refused.value.message
    assert refused.value.example == "topup acme 5 expires 2027-11-25"
    with ctx.db.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(Block)) is None
        assert uow.session.scalar(select(LedgerLine)) is None
    with pytest.raises(Refused, match="2025-11-30"):
        do(ctx, admin, "topup acme 5 starts 2025-11-01 renew monthly")  # its first month closed long ago
    # in its grace period it still pays for late work: accepted
    assert do(ctx, admin, "topup acme 5 starts 2026-10-01 expires 2026-11-20").expires_on == date(2026, 11, 20)
