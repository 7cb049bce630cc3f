"""An auto refill under pay-first never sells a second block while an unpaid one waits for payment: it
falls back to a draft that names the waiting block, and the monthly cap is not spent (both databases)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.phrasebook import log_line
from bot.services import Actor, Context
from tests.helpers import do
from tests.integration.test_refills import alerts, refills


@pytest.fixture
def alerting(ctx: Context) -> Context:
    return Context(ctx.db, replace(ctx.settings, alert_channel="CALERTS"), ctx.clock)


@pytest.fixture
def acme(alerting: Context, admin: Actor) -> str:
    do(alerting, admin, "client add acme Acme Corp")
    do(alerting, admin, "topup acme 10h unpaid invoice INV-1042")
    do(alerting, admin, "topup acme 5h")
    do(alerting, admin, "client set acme pay-first on")
    do(alerting, admin, "client set acme refill auto 10h max 2 per month")
    return "acme"


def test_an_auto_refill_under_pay_first_waits_while_an_unpaid_block_is_held(
    alerting: Context, admin: Actor, acme: str
) -> None:
    do(alerting, admin, "logtime acme 3h30m")
    result = do(alerting, admin, "logtime acme 1h15m")  # 1h30m -> 15m paid: through the lowest threshold
    line = log_line(result)
    assert "Refill: 10h added" not in line
    assert (
        "Refill: the managers were offered a block of 10h to confirm (rule refill auto 10h max 2 per month, unpaid);"
        " not added automatically: block 1 (INV-1042, 10h) is waiting for payment." in line.splitlines()
    )
    refill = result.as_dict()["refill"]
    assert refill["action"] == "draft" and refill["block"] is None
    assert refills(alerting) == []
    last = alerts(alerting)[-1]
    assert last["refill"] == "draft"
    assert last["refill_reason"] == "block 1 (INV-1042, 10h) is waiting for payment"


def test_a_held_refill_does_not_spend_the_cap(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "logtime acme 4h45m")  # held: a draft, no block
    do(alerting, admin, "block paid acme 1")  # 10h15m usable again: re-armed
    result = do(alerting, admin, "logtime acme 10h")  # through the level again: now it refills
    assert result.refill is not None and result.refill.action == "added"
    do(alerting, admin, "block paid acme 3")
    result = do(alerting, admin, "logtime acme 9h45m")
    assert result.refill is not None and result.refill.action == "added"  # the cap of 2 was not spent by the hold
