"""Refill policy (issue 26, part 3) on both databases: ``client set acme refill notify|draft|auto``, the
automatic refill in the entry's own posting, once per run-down and within the monthly cap, the draft's
one-click confirmation, and two writers crossing at once."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.domain.errors import OutOfHours, ParseError, PermissionDenied
from bot.domain.roles import Standing
from bot.services import Actor, Context
from bot.services.refills import RefillDraft, confirm_refill
from storage.models import AuditLog, Block, Client, LedgerLine, OutboxMessage
from tests.helpers import balance_of, do


@pytest.fixture
def alerting(ctx: Context) -> Context:
    return Context(ctx.db, replace(ctx.settings, alert_channel="CALERTS"), ctx.clock)


@pytest.fixture
def acme(alerting: Context, admin: Actor) -> str:
    do(alerting, admin, "client add acme Acme")
    do(alerting, admin, "client set acme overdraft unlimited")
    do(alerting, admin, "topup acme 10")
    return "acme"


def refills(ctx: Context) -> list[SimpleNamespace]:
    """The refill blocks, as plain values."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        found = uow.session.scalars(select(Block).where(Block.source == "refill").order_by(Block.id))
        names = ("id", "minutes", "paid", "number", "expires_on", "voided_at", "sold_by")
        return [SimpleNamespace(**{n: getattr(b, n) for n in names}) for b in found]


def alerts(ctx: Context) -> list[dict]:  # type: ignore[type-arg]
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = uow.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "threshold", OutboxMessage.destination == "slack")
            .order_by(OutboxMessage.id)
        )
        return [json.loads(r.payload) for r in rows]


def armed(ctx: Context) -> bool:
    with ctx.db.unit_of_work(read_only=True) as uow:
        client = uow.session.scalar(select(Client).where(Client.handle == "acme"))
        assert client is not None
        return client.refill_armed


def test_the_setting_is_stored_shown_and_audited(alerting: Context, admin: Actor, acme: str) -> None:
    view = do(alerting, admin, "client set acme refill auto 10h paid max 2 per month overage bill")
    assert (view.refill_mode, view.refill_minutes, view.refill_paid, view.refill_cap) == ("auto", 600, True, 2)
    assert view.overage_policy == "bill"
    assert view.refill == "refill auto 10h paid max 2 per month"
    assert view.as_dict()["refill_mode"] == "auto"
    view = do(alerting, admin, "client set acme refill draft 5h")
    assert (view.refill_mode, view.refill_minutes, view.refill_paid, view.refill_cap) == ("draft", 300, False, 1)
    view = do(alerting, admin, "client set acme refill notify")
    assert (view.refill_mode, view.refill_minutes) == ("notify", None)
    with alerting.db.unit_of_work(read_only=True) as uow:
        audits = [a.after for a in uow.session.scalars(select(AuditLog).where(AuditLog.action == "client_set"))]
    assert [json.loads(a or "{}")["refill_mode"] for a in audits[-3:]] == ["auto", "draft", None]


@pytest.mark.parametrize(
    "words",
    ["refill", "refill sometimes", "refill auto", "refill auto soon", "refill draft 5h max 2", "refill auto 5h max 0"],
)
def test_a_bad_refill_setting_is_refused_with_an_example(
    alerting: Context, admin: Actor, acme: str, words: str
) -> None:
    with pytest.raises(ParseError) as refused:
        do(alerting, admin, f"client set acme {words}")
    assert "client set acme refill" in str(refused.value.example)
    assert balance_of(alerting, "acme").remaining_minutes == 600


def test_notify_is_todays_alert_only(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "logtime acme 9h30m migration")
    assert refills(alerting) == []
    assert "refill" not in alerts(alerting)[-1]


def test_auto_adds_an_unpaid_block_in_the_crossing_entrys_posting(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme refill auto 10h")
    result = do(alerting, admin, "logtime acme 9h30m migration")
    assert result.remaining_minutes == 630  # the entry's reply: the balance with the refill
    [block] = refills(alerting)
    assert (block.minutes, block.paid, block.number, block.expires_on) == (600, False, 2, None)
    assert balance_of(alerting, "acme").remaining_minutes == 630
    [alert] = alerts(alerting)
    assert alert["threshold"] == "10%"
    assert (alert["refill"], alert["refill_minutes"], alert["refill_paid"]) == ("added", 600, False)
    assert alert["refill_rule"] == "refill auto 10h"
    assert not armed(alerting)
    with alerting.db.unit_of_work(read_only=True) as uow:
        kinds = [(line.kind, line.block_id) for line in uow.session.scalars(select(LedgerLine).order_by(LedgerLine.id))]
    assert kinds[-2:] == [("entry", None), ("topup", block.id)]


def test_one_entry_through_every_threshold_refills_once(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme refill auto 2h max 5 per month")
    do(alerting, admin, "logtime acme 11h migration")  # 50%, 25%, 10% and 0 at once: 10h -> -1h
    assert [b.minutes for b in refills(alerting)] == [120]
    # under carry the refill pays off the overage the entry left
    assert balance_of(alerting, "acme").remaining_minutes == 60
    assert [a["refill"] for a in alerts(alerting)] == ["added"]


def test_a_paid_refill_is_paid(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme refill auto 10h paid")
    do(alerting, admin, "logtime acme 9h30m migration")
    assert [b.paid for b in refills(alerting)] == [True]


def test_re_armed_only_once_the_balance_is_lifted_above_the_lowest_threshold(
    alerting: Context, admin: Actor, acme: str
) -> None:
    do(alerting, admin, "client set acme thresholds 2h refill auto 1h max 9 per month")
    do(alerting, admin, "logtime acme 13h big job")  # 10h -> -3h; the refill of 1h leaves -2h
    assert len(refills(alerting)) == 1 and not armed(alerting)
    do(alerting, admin, "logtime acme 30m more")
    do(alerting, admin, "topup acme 3")  # -2h30m -> 30m: still under 2h
    assert len(refills(alerting)) == 1 and not armed(alerting)
    do(alerting, admin, "topup acme 3")  # 3h30m: above 2h again
    assert armed(alerting)
    do(alerting, admin, "logtime acme 2h next job")  # 3h30m -> 1h30m: a new run-down
    assert len(refills(alerting)) == 2


def test_the_cap_falls_back_to_a_draft_and_says_why(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme refill auto 10h")
    do(alerting, admin, "logtime acme 9h30m migration")  # refill 1 of 1 this month
    do(alerting, admin, "logtime acme 10h another")  # 10h30m -> 30m: capped
    assert len(refills(alerting)) == 1
    last = alerts(alerting)[-1]
    assert last["refill"] == "draft" and "cap of 1 refill a month" in last["refill_reason"]
    assert balance_of(alerting, "acme").remaining_minutes == 30


def test_the_cap_counts_the_calendar_month_in_the_clients_zone(
    alerting: Context, admin: Actor, clock: FixedClock, acme: str
) -> None:
    do(alerting, admin, "client set acme refill auto 10h timezone Pacific/Auckland")
    do(alerting, admin, "logtime acme 9h30m migration")
    assert len(refills(alerting)) == 1
    # a month on, in Auckland's calendar: the cap starts again
    clock.advance(days=31)
    do(alerting, admin, "logtime acme 10h another")
    assert len(refills(alerting)) == 2


def test_a_voided_refill_does_not_count_against_the_cap(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme refill auto 10h")
    do(alerting, admin, "logtime acme 9h30m migration")
    do(alerting, admin, "void topup acme 2 sold by mistake")
    do(alerting, admin, "topup acme 10")
    do(alerting, admin, "logtime acme 10h again")
    assert [b.voided_at is None for b in refills(alerting)] == [False, True]


def test_a_snoozed_client_is_still_told_of_its_refill(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme refill auto 10h")
    do(alerting, admin, "snooze acme 7")
    do(alerting, admin, "logtime acme 9h30m migration")
    assert [a["refill"] for a in alerts(alerting)] == ["added"]


def test_two_writers_crossing_at_once_refill_once(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme refill auto 10h max 9 per month")
    do(alerting, admin, "logtime acme 8h30m earlier work")  # 1h30m left: each next entry crosses 10%
    writers = 2
    start = threading.Barrier(writers)

    def writer(n: int) -> None:
        start.wait()
        do(alerting, Actor(f"UTECH{n}", f"Tech {n}"), "logtime acme 1h at once")

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(writer, range(writers)))
    assert len(refills(alerting)) == 1
    assert balance_of(alerting, "acme").remaining_minutes == 90 - 120 + 600


def test_a_storm_of_writers_refills_once_per_run_down(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme refill auto 1h max 30 per month")
    writers, each = 8, 6
    start = threading.Barrier(writers)

    def writer(n: int) -> None:
        start.wait()
        for _ in range(each):
            do(alerting, Actor(f"U{n}"), "logtime acme 15m storm")

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(writer, range(writers)))
    # 600 - 48*15 = -120 before refills: each refill is one run-down through 10% (1h)
    added = refills(alerting)
    balance = balance_of(alerting, "acme").remaining_minutes
    assert balance == 600 - 48 * 15 + 60 * len(added)
    assert 1 <= len(added) <= 4  # never two for one crossing: each came from a fall from above 1h


def test_a_draft_is_offered_and_confirmed_once(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme refill draft 10h")
    do(alerting, admin, "logtime acme 9h30m migration")
    assert refills(alerting) == []
    [alert] = alerts(alerting)
    assert (alert["refill"], alert["refill_minutes"], alert["refill_paid"]) == ("draft", 600, False)
    draft = RefillDraft("acme", alert["refill_line"], alert["refill_minutes"], alert["refill_paid"])
    manager = Actor("UMGR", "Mo Manager")
    do(alerting, admin, "role <@UMGR> manager")
    first = confirm_refill(alerting, manager, draft)
    second = confirm_refill(alerting, manager, draft)
    assert (first.duplicate, second.duplicate, first.block_id) == (False, True, second.block_id)
    [block] = refills(alerting)
    assert (block.minutes, block.paid, block.sold_by) == (600, False, "UMGR")
    assert balance_of(alerting, "acme").remaining_minutes == 630


def test_twin_clicks_at_once_add_one_block(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme refill draft 10h")
    do(alerting, admin, "logtime acme 9h30m migration")
    [alert] = alerts(alerting)
    draft = RefillDraft("acme", alert["refill_line"], 600)
    start = threading.Barrier(2)

    def click(_: int) -> bool:
        start.wait()
        return confirm_refill(alerting, admin, draft).duplicate

    with ThreadPoolExecutor(2) as pool:
        duplicates = sorted(pool.map(click, range(2)))
    assert duplicates == [False, True]
    assert len(refills(alerting)) == 1


def test_a_technician_or_a_guest_may_not_confirm_a_refill(
    alerting: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    do(alerting, admin, "client set acme refill draft 10h")
    do(alerting, admin, "logtime acme 9h30m migration")
    [alert] = alerts(alerting)
    draft = RefillDraft("acme", alert["refill_line"], 600)
    for who in (tech, Actor("UGUEST", "Gina Guest", standing=Standing.GUEST)):
        with pytest.raises(PermissionDenied):
            confirm_refill(alerting, who, draft)
    assert refills(alerting) == []


def test_an_entry_refused_by_the_overdraft_rule_tells_the_managers_once_a_day(
    alerting: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    do(alerting, admin, "client set acme refill auto 10h overdraft none")
    do(alerting, admin, "logtime acme 8h30m earlier work")  # 1h30m left
    for _ in range(2):
        with pytest.raises(OutOfHours):
            do(alerting, tech, "logtime acme 2h too much")
    with alerting.db.unit_of_work(read_only=True) as uow:
        rows = [
            json.loads(r.payload)
            for r in uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "refill_failed", OutboxMessage.destination == "slack")
            )
        ]
    assert [(r["rule"], r["remaining_minutes"]) for r in rows] == [("refill auto 10h", 90)]
    assert "a 2h entry by Tess Tech was refused" in rows[0]["reason"]
    assert refills(alerting) == [] and balance_of(alerting, "acme").remaining_minutes == 90


def test_a_client_on_notify_is_not_told_of_a_refused_entry(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme overdraft none")
    with pytest.raises(OutOfHours):
        do(alerting, admin, "logtime acme 11h too much")
    with alerting.db.unit_of_work(read_only=True) as uow:
        assert uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "refill_failed")).first() is None
