"""An entry that sets off a refill says so in its own reply (CLI, Slack) and its ``--json``, on both
databases, so a balance that went up after logging reads right: the block added and the rule that added
it, or the block offered to the managers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.phrasebook import log_line
from bot.services import Actor, Context
from tests.helpers import do


@pytest.fixture
def alerting(ctx: Context) -> Context:
    return Context(ctx.db, replace(ctx.settings, alert_channel="CALERTS"), ctx.clock)


@pytest.fixture
def acme(alerting: Context, admin: Actor) -> str:
    do(alerting, admin, "client add acme Acme Corp")
    do(alerting, admin, "client set acme overdraft unlimited")
    do(alerting, admin, "topup acme 5")
    return "acme"


def test_an_automatic_refill_is_said_in_the_entrys_reply_and_json(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme refill auto 5h")
    result = do(alerting, admin, "logtime acme 4h30m migration")  # 5h -> 30m: through 10%
    assert result.remaining_minutes == 30 + 300
    assert "Refill: 5h added by rule refill auto 5h (unpaid)." in log_line(result).splitlines()
    assert result.as_dict()["refill"] == {
        "minutes": 300,
        "paid": False,
        "rule": "refill auto 5h",
        "block": 2,
        "action": "added",
        "reason": None,
    }


def test_a_paid_refill_says_paid(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme refill auto 5h paid")
    result = do(alerting, admin, "logtime acme 4h30m migration")
    assert "Refill: 5h added by rule refill auto 5h paid (paid)." in log_line(result)


def test_a_draft_says_the_managers_were_offered_a_block(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme refill draft 5h")
    result = do(alerting, admin, "logtime acme 4h30m migration")
    assert result.remaining_minutes == 30  # nothing added
    assert "Refill: the managers were offered a block of 5h to confirm (rule refill draft 5h, unpaid)." in log_line(
        result
    )
    assert result.as_dict()["refill"]["action"] == "draft"
    assert result.as_dict()["refill"]["block"] is None


def test_a_capped_refill_says_why_it_waits(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme refill auto 5h")
    do(alerting, admin, "logtime acme 4h30m migration")  # the month's one refill
    result = do(alerting, admin, "logtime acme 5h again")  # 5h30m -> 30m: capped
    line = log_line(result)
    assert "Refill: the managers were offered a block of 5h to confirm" in line
    assert "not added automatically: the cap of 1 refill a month is reached" in line
    assert result.refill is not None and result.refill.reason is not None


def test_an_entry_without_a_refill_says_nothing_of_one(alerting: Context, admin: Actor, acme: str) -> None:
    do(alerting, admin, "client set acme refill auto 5h")
    result = do(alerting, admin, "logtime acme 1h printer")  # 5h -> 4h: above the lowest threshold
    assert result.refill is None and result.as_dict()["refill"] is None
    assert "Refill" not in log_line(result)
