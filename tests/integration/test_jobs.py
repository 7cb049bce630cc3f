"""The scheduled jobs, one step at a time with an injected clock: never the live scheduler, never a
sleep."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.jobs.scheduler import run_job, triggers
from bot.services import Actor, Context
from storage.models import Block, LedgerLine, OutboxMessage
from tests.helpers import balance_of, do


@pytest.fixture
def jobs_ctx(ctx: Context) -> Context:
    settings = replace(ctx.settings, alert_channel="CALERTS", managers_channel="CMANAGERS")
    return Context(ctx.db, settings, ctx.clock)


def at(clock: FixedClock, day: str) -> date:
    clock.at = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
    return clock.at.date()


def outbox(ctx: Context, kind: str) -> list[dict]:  # type: ignore[type-arg]
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))
        return [{**json.loads(r.payload), "target": r.target} for r in rows]


def test_expiry_forfeits_after_the_grace_period_dated_the_closing_day_and_posts_it_once(
    jobs_ctx: Context, clock: FixedClock, admin: Actor
) -> None:
    do(jobs_ctx, admin, "client add acme Acme")
    do(jobs_ctx, admin, "topup acme 2 expires 2026-11-30")
    do(jobs_ctx, admin, "logtime acme 30m a")
    # the default grace period is 7 days: the block closes on 2026-12-07 and is forfeited after it
    assert run_job(jobs_ctx, "expiry", at(clock, "2026-12-01")).summary.startswith("forfeited 0 min")
    assert balance_of(jobs_ctx, "acme").in_grace_minutes == 90
    assert run_job(jobs_ctx, "expiry", at(clock, "2026-12-07")).summary.startswith("forfeited 0 min")
    assert run_job(jobs_ctx, "expiry", at(clock, "2026-12-08")).summary == "forfeited 90 min across 1 client"
    again = run_job(jobs_ctx, "expiry", at(clock, "2026-12-08"))
    assert not again.ran and "already finished" in again.summary
    notices = outbox(jobs_ctx, "expiry")
    assert len(notices) == 1 and notices[0]["forfeited_minutes"] == 90 and notices[0]["target"] == "CALERTS"
    view = balance_of(jobs_ctx, "acme")
    assert (view.forfeited_minutes, view.in_grace_minutes) == (90, 0)
    with jobs_ctx.db.unit_of_work(read_only=True) as uow:
        line = uow.session.scalar(select(LedgerLine).where(LedgerLine.kind == "forfeit"))
        assert line is not None and (line.minutes, line.at.date()) == (-90, date(2026, 12, 7))


def test_renewal_adds_the_next_block_on_the_anniversary_only(
    jobs_ctx: Context, clock: FixedClock, admin: Actor
) -> None:
    at(clock, "2025-12-01")
    do(jobs_ctx, admin, "client add acme Acme")
    do(jobs_ctx, admin, "topup acme 20 expires 2026-11-30 price 2000 renew yearly")
    assert run_job(jobs_ctx, "renewal", at(clock, "2026-11-30")).summary == "renewed 0 blocks"
    assert run_job(jobs_ctx, "renewal", at(clock, "2026-12-01")).summary == "renewed 1 blocks"
    with jobs_ctx.db.unit_of_work(read_only=True) as uow:
        blocks = [(b.start_on, b.expires_on, b.renewal_of_id, str(b.price)) for b in uow.session.scalars(select(Block))]
    assert blocks[1] == (date(2026, 12, 1), date(2027, 11, 30), 1, "2000.00")
    # a second run the same day, even one that gets past the run lock, renews nothing more
    from bot.jobs.tasks import renewal

    assert renewal(jobs_ctx, date(2026, 12, 1)) == "renewed 0 blocks"
    assert len(outbox(jobs_ctx, "renewal")) == 1


def test_the_digest_lists_low_overdrawn_and_expiring_clients_once_a_day(
    jobs_ctx: Context, clock: FixedClock, admin: Actor
) -> None:
    for handle in ("low", "over", "fine"):
        do(jobs_ctx, admin, f"client add {handle} {handle.title()}")
    do(jobs_ctx, admin, "topup low 10")
    do(jobs_ctx, admin, "logtime low 9h30m a")
    do(jobs_ctx, admin, "client set over overdraft 2h")
    do(jobs_ctx, admin, "logtime over 1h a")
    do(jobs_ctx, admin, "topup fine 10 expires 2026-12-15")
    first = run_job(jobs_ctx, "digest", at(clock, "2026-11-25"))
    assert first.ran and first.summary == "1 low, 1 overdrawn, 1 expiring"
    assert not run_job(jobs_ctx, "digest", at(clock, "2026-11-25")).ran
    from bot.jobs.tasks import digest

    digest(jobs_ctx, date(2026, 11, 25))  # even past the run lock, the same day's digest is posted once
    posted = outbox(jobs_ctx, "digest")
    assert len(posted) == 1 and posted[0]["target"] == "CMANAGERS"
    assert [c["client"] for c in posted[0]["low"]] == ["low"]
    assert [c["client"] for c in posted[0]["overdrawn"]] == ["over"]
    assert posted[0]["expiring"][0]["expires_on"] == "2026-12-15"


def test_the_statement_covers_last_month_from_the_ledger(jobs_ctx: Context, clock: FixedClock, admin: Actor) -> None:
    at(clock, "2026-10-01")
    do(jobs_ctx, admin, "client add acme Acme")
    do(jobs_ctx, admin, "topup acme 10")
    do(jobs_ctx, Actor("U1", "Tess"), "logtime acme 1h30m printer #12")
    do(jobs_ctx, Actor("U2", "Raj"), "logtime acme 45m vpn #12")
    do(jobs_ctx, Actor("U2", "Raj"), "logtime acme 20m --nb coffee")
    at(clock, "2026-11-02")
    do(jobs_ctx, Actor("U1", "Tess"), "logtime acme 1h november work")
    assert run_job(jobs_ctx, "statement", at(clock, "2026-11-01")).ran
    facts = outbox(jobs_ctx, "statement")[0]
    assert facts["period"] == "October 2026" and facts["bought_minutes"] == 600
    assert facts["used_minutes"] == 135 and facts["non_billable_minutes"] == 20
    assert facts["by_technician"] == [["Tess", 90], ["Raj", 45]]
    assert facts["remaining_minutes"] == 465 and facts["entry_count"] == 3


def test_two_processes_racing_for_one_job_run_it_once(jobs_ctx: Context, clock: FixedClock, admin: Actor) -> None:
    at(clock, "2026-11-25")
    start = threading.Barrier(6)
    outcomes: list[bool] = []

    def race(n: int) -> None:
        start.wait()
        outcomes.append(run_job(jobs_ctx, "digest", date(2026, 11, 25), owner=f"proc{n}").ran)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [False] * 5 + [True]


def test_a_run_whose_process_died_is_taken_over_after_its_lease(jobs_ctx: Context, clock: FixedClock) -> None:
    from bot.jobs.runs import run_once

    at(clock, "2026-11-25")

    def crash() -> str:
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        run_once(jobs_ctx, "digest", "2026-11-25", "dead", crash)
    assert not run_once(jobs_ctx, "digest", "2026-11-25", "other", lambda: "ran").ran
    clock.advance(minutes=31)
    assert run_once(jobs_ctx, "digest", "2026-11-25", "other", lambda: "ran").ran


def fire_times(trigger, start: datetime, end: datetime) -> list[datetime]:  # type: ignore[no-untyped-def]
    found, previous = [], None
    moment = start
    while True:
        moment = trigger.get_next_fire_time(previous, moment)
        if moment is None or moment >= end:
            return found
        found.append(moment)
        previous = moment
        moment = moment + timedelta(seconds=1)


def test_jobs_are_scheduled_on_the_right_days_in_the_workspace_timezone(ctx: Context) -> None:
    berlin = Context(ctx.db, replace(ctx.settings, timezone="Europe/Berlin", digest_time="08:30"), ctx.clock)
    schedule = triggers(berlin)
    start = datetime(2026, 12, 1, tzinfo=UTC)
    end = datetime(2026, 12, 15, tzinfo=UTC)
    digest = fire_times(schedule["digest"], start, end)
    assert [d.day for d in digest] == [1, 2, 3, 4, 7, 8, 9, 10, 11, 14]
    assert all((d.hour, d.minute, str(d.tzinfo)) == (8, 30, "Europe/Berlin") for d in digest)
    statement = fire_times(schedule["statement"], datetime(2026, 11, 15, tzinfo=UTC), datetime(2027, 2, 15, tzinfo=UTC))
    # every hour of the 1st and 2nd: each client's statements go at 08:00 on the 1st in its own time zone
    assert sorted({(d.month, d.day) for d in statement}) == [(1, 1), (1, 2), (2, 1), (2, 2), (12, 1), (12, 2)]
    assert len(statement) == 3 * 48 and {d.minute for d in statement} == {0}
    assert len(fire_times(schedule["expiry"], start, end)) == 14
    assert len(fire_times(schedule["renewal"], start, end)) == 14
