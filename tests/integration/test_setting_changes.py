"""Issue 24: setting changes and voids never make the balance and the statements disagree, and never
change a month that is over. A forfeit the balance shows is a forfeit the ledger records. On SQLite and
PostgreSQL, with the clock moved across month ends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.domain.dates import parse_period
from bot.jobs.scheduler import run_job
from bot.services import Actor, Context
from bot.services.reports import statement_facts
from storage.models import Client, LedgerLine
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
        return statement_facts(uow.session, client, parse_period(period, ctx.today()))


def forfeit_lines(ctx: Context) -> list[tuple[int, datetime]]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = uow.session.scalars(select(LedgerLine).where(LedgerLine.kind == "forfeit").order_by(LedgerLine.id))
        return [(r.minutes, r.at.replace(tzinfo=UTC) if r.at.tzinfo is None else r.at) for r in rows]


def agree(ctx: Context, handle: str, since: str) -> None:
    """The balance's running figures are the statements' since the client began, added up."""
    view = balance_of(ctx, handle)
    facts = statement(ctx, f"{since}..{ctx.today():%Y-%m}", handle)
    assert facts["opening_minutes"] == 0
    assert (view.purchased_minutes, view.used_minutes, view.forfeited_minutes) == (
        facts["bought_minutes"],
        facts["used_minutes"],
        facts["forfeited_minutes"],
    )
    assert facts["closing_minutes"] == sum(b.remaining_minutes for b in view.blocks) - view.overage_minutes


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
