"""Recurring allotments (issue 26, part 4), on SQLite and PostgreSQL, one step at a time with an
injected clock: a block per period in the client's time zone, once across processes, every missed
period caught up in order, unused hours rolled over up to the cap and the rest forfeited by one line
dated the period's end, statements that reconcile and a month already over that never changes."""

from __future__ import annotations

import json
import threading
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
from bot.services.allotments import renew_allotments
from bot.services.reports import statement_facts
from storage.db import Database
from storage.models import AuditLog, Block, Client, LedgerLine
from tests.conftest import psa_settings
from tests.helpers import balance_of, do
from tests.psa_helpers import deliver, linked


def at(clock: FixedClock, moment: str) -> None:
    clock.at = datetime.fromisoformat(moment).astimezone(UTC)


def blocks(ctx: Context) -> list[Block]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        found = list(uow.session.scalars(select(Block).where(Block.voided_at.is_(None)).order_by(Block.id)))
        uow.session.expunge_all()
        return found


def lines(ctx: Context, kind: str) -> list[LedgerLine]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        found = list(uow.session.scalars(select(LedgerLine).where(LedgerLine.kind == kind).order_by(LedgerLine.id)))
        uow.session.expunge_all()
        return found


def statement(ctx: Context, period: str) -> dict:  # type: ignore[type-arg]
    with ctx.db.unit_of_work(read_only=True) as uow:
        client = uow.session.scalar(select(Client))
        assert client is not None
        return statement_facts(uow, client, parse_period(period, ctx.today()))


def reconciles(facts: dict) -> bool:  # type: ignore[type-arg]
    moved = facts["bought_minutes"] - facts["used_minutes"] - facts["forfeited_minutes"]
    return facts["opening_minutes"] + moved + facts["overage_billed_minutes"] == facts["closing_minutes"]


@pytest.fixture
def acme(ctx: Context, clock: FixedClock, admin: Actor) -> Context:
    at(clock, "2026-11-25T15:00:00+00:00")
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "client set acme grace 0d")
    return ctx


def test_setting_an_allotment_grants_the_current_month_at_once(acme: Context, admin: Actor) -> None:
    view = do(acme, admin, "client set acme monthly 10h rollover 20h")
    assert (view.recurring_period, view.recurring_minutes, view.rollover_minutes) == ("monthly", 600, 1200)
    assert view.recurring_last_start == date(2026, 11, 1)  # granted in the same transaction
    (block,) = blocks(acme)
    assert (block.source, block.period_start, block.start_on, block.expires_on, block.minutes) == (
        "recurring",
        date(2026, 11, 1),
        date(2026, 11, 1),
        date(2026, 11, 30),
        600,
    )
    assert balance_of(acme, "acme").remaining_minutes == 600
    shown = do(acme, admin, "client show acme")
    assert shown.recurring_last_start == date(2026, 11, 1)


def test_the_job_run_twice_adds_one_block(acme: Context, clock: FixedClock, admin: Actor) -> None:
    do(acme, admin, "client set acme monthly 10h rollover 20h")
    at(clock, "2026-12-01T00:30:00+00:00")
    first = run_job(acme, "allotments", date(2026, 12, 1))
    assert first.ran and first.summary.startswith("granted 1 allotment block")
    again = run_job(acme, "allotments", date(2026, 12, 1), repeat=True)  # a person runs it again
    assert again.summary.startswith("granted 0 allotment blocks")
    clock.advance(hours=1)
    assert run_job(acme, "allotments", date(2026, 12, 1)).ran  # the next hour's run: nothing to grant
    assert [b.period_start for b in blocks(acme)] == [date(2026, 11, 1), date(2026, 12, 1)]


def test_unused_hours_roll_over_up_to_the_cap_and_the_rest_is_forfeited_once(
    acme: Context, clock: FixedClock, admin: Actor
) -> None:
    do(acme, admin, "client set acme monthly 10h rollover 2h")
    do(acme, admin, "logtime acme 3h server work")
    at(clock, "2026-12-01T00:30:00+00:00")
    renew_allotments(acme)
    renew_allotments(acme)
    nov, dec = blocks(acme)
    assert (nov.remaining_minutes, nov.rolled_out_minutes, nov.forfeited_minutes) == (0, 120, 300)
    assert (dec.remaining_minutes, dec.rolled_in_minutes, dec.minutes) == (720, 120, 600)
    assert nov.drawn_minutes == 180 and dec.drawn_minutes == 0
    (rollover,) = lines(acme, "rollover")
    assert (rollover.minutes, rollover.block_id, rollover.recorded_on) == (0, dec.id, date(2026, 12, 1))
    (forfeit,) = lines(acme, "forfeit")
    # dated the period's end, but never inside a month that is over: December began
    assert (forfeit.minutes, forfeit.recorded_on) == (-300, date(2026, 12, 1))
    view = balance_of(acme, "acme")
    assert (view.remaining_minutes, view.purchased_minutes, view.forfeited_minutes) == (720, 1200, 300)


def test_a_missed_run_catches_up_every_period_in_order(acme: Context, clock: FixedClock, admin: Actor) -> None:
    do(acme, admin, "client set acme monthly 10h rollover 15h")
    at(clock, "2027-02-10T12:00:00+00:00")  # December, January and February were never granted
    assert run_job(acme, "allotments", date(2027, 2, 10)).summary.startswith("granted 3 allotment blocks")
    found = blocks(acme)
    assert [b.period_start for b in found] == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    assert [b.rolled_in_minutes for b in found] == [0, 600, 900, 900]  # 10h, then 20h capped at 15h
    assert [b.forfeited_minutes for b in found] == [0, 300, 600, 0]
    assert balance_of(acme, "acme").remaining_minutes == 1500
    facts = statement(acme, "2027-02")
    assert reconciles(facts) and facts["rolled_over_minutes"] == 2400 and facts["forfeited_minutes"] == 900
    assert facts["bought_minutes"] == 1800  # every missed period recorded now, in the month it was caught up


def test_any_write_grants_the_period_first(acme: Context, clock: FixedClock, admin: Actor) -> None:
    do(acme, admin, "client set acme monthly 10h rollover 20h")
    at(clock, "2026-12-01T09:00:00+00:00")
    result = do(acme, admin, "logtime acme 1h printer")
    assert result.remaining_minutes == 600 + 600 - 60
    assert lines(acme, "rollover")[0].recorded_on == date(2026, 12, 1)


def test_a_period_begins_at_midnight_in_the_clients_time_zone(acme: Context, clock: FixedClock, admin: Actor) -> None:
    do(acme, admin, "client set acme timezone Pacific/Auckland monthly 10h")
    at(clock, "2026-11-30T10:30:00+00:00")  # 23:30 on 30 November in Auckland
    renew_allotments(acme)
    assert len(blocks(acme)) == 1
    at(clock, "2026-11-30T11:30:00+00:00")  # 00:30 on 1 December in Auckland, still November in UTC
    renew_allotments(acme)
    assert [b.period_start for b in blocks(acme)] == [date(2026, 11, 1), date(2026, 12, 1)]


def test_quarterly_and_yearly_periods_follow_the_month_they_began_in_across_a_leap_day(
    acme: Context, clock: FixedClock, admin: Actor
) -> None:
    at(clock, "2027-12-15T12:00:00+00:00")
    do(acme, admin, "client set acme quarterly 30h rollover 0")
    at(clock, "2028-02-29T23:00:00+00:00")
    renew_allotments(acme)
    assert len(blocks(acme)) == 1  # the quarter of December 2027 runs to 29 February 2028
    assert blocks(acme)[0].expires_on == date(2028, 2, 29)
    at(clock, "2028-03-01T00:10:00+00:00")
    renew_allotments(acme)
    december, march = blocks(acme)
    assert (march.period_start, march.expires_on) == (date(2028, 3, 1), date(2028, 5, 31))
    assert (december.forfeited_minutes, december.rolled_out_minutes) == (1800, 0)  # rollover 0: none
    do(acme, admin, "client set acme yearly 100h")  # the anchor stays: next March
    at(clock, "2029-02-28T12:00:00+00:00")
    renew_allotments(acme)
    assert len(blocks(acme)) == 2
    at(clock, "2029-03-01T12:00:00+00:00")
    renew_allotments(acme)
    assert (blocks(acme)[-1].minutes, blocks(acme)[-1].expires_on) == (6000, date(2030, 2, 28))


def test_recurring_off_stops_it_and_on_again_in_the_same_month_grants_nothing_twice(
    acme: Context, clock: FixedClock, admin: Actor
) -> None:
    do(acme, admin, "client set acme monthly 10h rollover 20h")
    off = do(acme, admin, "client set acme recurring off")
    assert (off.recurring_period, off.recurring_minutes, off.rollover_minutes) == (None, None, None)
    do(acme, admin, "client set acme monthly 10h")
    assert len(blocks(acme)) == 1
    do(acme, admin, "client set acme recurring off")
    at(clock, "2027-01-05T12:00:00+00:00")
    renew_allotments(acme)
    assert len(blocks(acme)) == 1  # off: nothing granted, the November block forfeited as any other
    do(acme, admin, "client set acme monthly 10h")  # on again after a month off: begins with January
    assert [b.period_start for b in blocks(acme)] == [date(2026, 11, 1), date(2027, 1, 1)]
    assert blocks(acme)[1].rolled_in_minutes == 0


def test_with_a_grace_period_late_work_draws_from_the_last_period_before_it_rolls_over(
    acme: Context, clock: FixedClock, admin: Actor
) -> None:
    do(acme, admin, "client set acme grace 3d monthly 10h rollover 20h")
    at(clock, "2026-12-02T12:00:00+00:00")
    do(acme, admin, "logtime acme 2h 2026-11-30 late server work")
    nov, dec = blocks(acme)
    assert (nov.remaining_minutes, dec.remaining_minutes, dec.rolled_in_minutes) == (480, 600, 0)
    at(clock, "2026-12-04T12:00:00+00:00")  # November closed on 3 December
    renew_allotments(acme)
    nov, dec = blocks(acme)
    assert (nov.rolled_out_minutes, dec.rolled_in_minutes, dec.remaining_minutes) == (480, 480, 1080)


def test_a_month_already_over_never_changes_and_statements_reconcile(
    acme: Context, clock: FixedClock, admin: Actor
) -> None:
    do(acme, admin, "client set acme monthly 10h rollover 2h")
    do(acme, admin, "logtime acme 1h a")
    at(clock, "2026-12-01T00:00:01+00:00")
    november = statement(acme, "2026-11")  # sent on the 1st before anything else ran
    renew_allotments(acme)
    do(acme, admin, "logtime acme 30m b")
    assert statement(acme, "2026-11") == november
    december = statement(acme, "2026-12")
    assert reconciles(november) and reconciles(december)
    assert december["opening_minutes"] == november["closing_minutes"] == 540
    assert (december["rolled_over_minutes"], december["forfeited_minutes"], december["bought_minutes"]) == (
        120,
        420,
        600,
    )
    assert december["closing_minutes"] == balance_of(acme, "acme").remaining_minutes == 690


def test_two_processes_at_once_grant_one_block(acme: Context, clock: FixedClock, admin: Actor) -> None:
    do(acme, admin, "client set acme monthly 10h rollover 20h")
    at(clock, "2026-12-01T00:30:00+00:00")
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def race(n: int) -> None:
        start.wait()
        try:
            if n % 2:
                renew_allotments(acme)
            else:
                do(acme, admin, f"logtime acme 15m race {n}")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [b.period_start for b in blocks(acme)] == [date(2026, 11, 1), date(2026, 12, 1)]
    assert len(lines(acme, "rollover")) == 1
    assert balance_of(acme, "acme").remaining_minutes == 1200 - 30


def test_a_block_holding_rolled_over_hours_is_not_voided(acme: Context, clock: FixedClock, admin: Actor) -> None:
    do(acme, admin, "client set acme monthly 10h rollover 20h")
    at(clock, "2026-12-01T00:30:00+00:00")
    renew_allotments(acme)
    with pytest.raises(Refused, match="rolled over"):
        do(acme, admin, "void topup acme 2 mistake")


def test_the_job_is_scheduled_every_hour(ctx: Context) -> None:
    from bot.jobs.scheduler import triggers

    berlin = Context(ctx.db, replace(ctx.settings, timezone="Europe/Berlin"), ctx.clock)
    trigger = triggers(berlin)["allotments"]
    first = trigger.get_next_fire_time(None, datetime(2026, 12, 1, tzinfo=UTC))
    second = trigger.get_next_fire_time(first, first.replace(minute=3))
    assert (second - first).total_seconds() == 3600


def test_the_setting_is_audited_with_before_and_after(acme: Context, admin: Actor) -> None:
    do(acme, admin, "client set acme monthly 10h rollover 20h")
    do(acme, admin, "client set acme recurring off")
    with acme.db.unit_of_work(read_only=True) as uow:
        rows = list(uow.session.scalars(select(AuditLog).where(AuditLog.action == "client_set").order_by(AuditLog.id)))
        changes = [(json.loads(r.before or "{}"), json.loads(r.after or "{}")) for r in rows][-2:]
    (before_on, after_on), (before_off, after_off) = changes
    assert (before_on["recurring_period"], after_on["recurring_period"], after_on["rollover_minutes"]) == (
        None,
        "monthly",
        1200,
    )
    assert (before_off["recurring_minutes"], after_off["recurring_minutes"]) == (600, None)


def test_each_period_block_reaches_the_psa_once(database: Database, psa_fake: Any, clock: FixedClock) -> None:
    at(clock, "2026-11-25T15:00:00+00:00")
    ctx = linked(Context(database, psa_settings(psa_fake, psa_product_id="12"), clock))
    admin = Actor.local_admin()
    do(ctx, admin, "client set acme monthly 10h rollover 20h")
    at(clock, "2026-12-01T00:30:00+00:00")
    renew_allotments(ctx)
    renew_allotments(ctx)
    assert deliver(ctx) == 2  # November's block, granted with the setting, and December's
    assert deliver(ctx) == 0
    written = psa_fake.blocks_written()
    assert sorted(record["hours"] for record in written) == [10, 10]
