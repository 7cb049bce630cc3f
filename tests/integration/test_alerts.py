"""Threshold crossings written to the outbox with the change that caused them."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.domain.errors import Refused
from bot.services import Actor, Context
from storage.models import OutboxMessage
from tests.helpers import do


@pytest.fixture
def alerting(ctx: Context) -> Context:
    return Context(ctx.db, replace(ctx.settings, alert_channel="CALERTS"), ctx.clock)


def alerts(ctx: Context, destination: str = "slack") -> list[dict]:  # type: ignore[type-arg]
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = uow.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "threshold", OutboxMessage.destination == destination)
            .order_by(OutboxMessage.id)
        )
        return [{**json.loads(r.payload), "target": r.target} for r in rows]


@pytest.fixture
def acme(alerting: Context, admin: Actor) -> str:
    do(alerting, admin, "client add acme Acme")
    do(alerting, admin, "topup acme 10")
    return "acme"


def test_each_threshold_fires_once_as_the_balance_falls(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme overdraft 1h")
    for duration in ["4h", "1h", "30m", "2h", "1h30m", "15m", "45m", "15m"]:
        do(alerting, admin, f"logtime acme {duration} work")
    fired = alerts(alerting)
    assert [a["threshold"] for a in fired] == ["50%", "25%", "10%", "0m"]
    assert [a["remaining_minutes"] for a in fired] == [300, 150, 60, 0]
    assert all(a["target"] == "CALERTS" for a in fired)


def test_one_change_through_several_thresholds_alerts_once_for_the_lowest(
    alerting: Context, admin: Actor, acme: str
) -> None:
    do(alerting, admin, "logtime acme 9h30m migration")
    assert [a["threshold"] for a in alerts(alerting)] == ["10%"]


def test_a_topup_re_arms_thresholds_but_not_within_a_day(
    alerting: Context, admin: Actor, clock: FixedClock, acme: str
) -> None:
    do(alerting, admin, "logtime acme 6h a")  # 240 left: crosses 50%
    do(alerting, admin, "topup acme 10")  # 840 of 1200: above 50% again
    do(alerting, admin, "logtime acme 4h b")  # 600 = 50% of 1200, the same day: not again
    assert [a["threshold"] for a in alerts(alerting)] == ["50%"]
    clock.advance(days=1)
    do(alerting, admin, "topup acme 5")  # 900 left, in current blocks of 10h + 5h (the first is used up)
    do(alerting, admin, "logtime acme 8h c")  # 420 < 450: 50% again, a day later, after hours were bought
    assert [a["threshold"] for a in alerts(alerting)] == ["50%", "50%"]


def test_voids_and_edits_never_re_send_an_alert(alerting: Context, admin: Actor, clock: FixedClock, acme: str) -> None:
    first = do(alerting, admin, "logtime acme 6h a")
    do(alerting, admin, f"void {first.entry_id}")
    second = do(alerting, admin, "logtime acme 6h b")
    do(alerting, admin, f"edit {second.entry_id} 6h30m")
    do(alerting, admin, "topup acme 0.5")  # a small top-up that does not lift it above 50%
    clock.advance(days=2)
    third = do(alerting, admin, "logtime acme 15m c")
    do(alerting, admin, f"void {third.entry_id}")
    do(alerting, admin, "logtime acme 15m d")
    assert [a["threshold"] for a in alerts(alerting)] == ["50%"]


def test_a_refused_change_writes_no_alert(alerting: Context, admin: Actor, acme: str) -> None:
    with pytest.raises(Refused):
        do(alerting, admin, "logtime acme 11h too much")
    assert alerts(alerting) == []


def test_alert_facts_carry_usage_burn_rate_and_run_out(
    alerting: Context, admin: Actor, clock: FixedClock, acme: str
) -> None:
    do(alerting, admin, "client set acme manager <@UAM>")
    do(alerting, admin, "logtime acme 5h work")
    fact = alerts(alerting)[0]
    assert fact["account_manager"] == "UAM" and fact["used_30d_minutes"] == 300 and fact["percent_left"] == 50
    assert fact["burn_per_day_minutes"] == "10.0" and fact["run_out_on"] == "2026-12-25"


def test_snoozed_clients_do_not_alert(alerting: Context, admin: Actor, clock: FixedClock, acme: str) -> None:
    do(alerting, admin, "snooze acme 7")
    do(alerting, admin, "logtime acme 6h a")
    assert alerts(alerting) == []
    clock.advance(days=8)
    do(alerting, admin, "logtime acme 2h b")
    assert [a["threshold"] for a in alerts(alerting)] == ["25%"]


def test_technicians_cannot_snooze(alerting: Context, tech: Actor, acme: str) -> None:
    from bot.domain.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        do(alerting, tech, "snooze acme")


def test_destinations_follow_client_then_global_settings(ctx: Context, admin: Actor) -> None:
    settings = replace(
        ctx.settings,
        alert_channel="CDEFAULT",
        smtp_url="smtp://127.0.0.1:1",
        alert_email_to="ops@msp.example",
        alert_webhook_url="https://psa.example/hook",
    )
    alerting = Context(ctx.db, settings, ctx.clock)
    do(alerting, admin, "client add acme Acme")
    do(alerting, admin, "client set acme channel <#CACME|acme> email am@msp.example")
    do(alerting, admin, "topup acme 1")
    do(alerting, admin, "logtime acme 45m x")
    assert [a["target"] for a in alerts(alerting, "slack")] == ["CACME"]
    assert [a["target"] for a in alerts(alerting, "email")] == ["am@msp.example"]
    assert [a["target"] for a in alerts(alerting, "webhook")] == ["https://psa.example/hook"]


def test_a_storm_of_parallel_entries_gives_each_alert_exactly_once(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme overdraft unlimited")
    writers, each = 12, 8
    start = threading.Barrier(writers)

    def writer(n: int) -> None:
        start.wait()
        for _ in range(each):
            do(alerting, Actor(f"U{n}"), "logtime acme 10m storm")

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(writer, range(writers)))
    levels = [a["level_minutes"] for a in alerts(alerting)]
    # 600 -> -360 in steps of 10: 50%, 25%, 10%, 0, then each further hour of overage
    assert levels == [300, 150, 60, 0, -60, -120, -180, -240, -300, -360]
