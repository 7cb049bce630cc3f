"""Voiding the entry whose logging set off an automatic refill keeps the refill (a sale, perhaps in the
PSA already) and says so in the void's reply and ``--json`` (``refill_block``); a voided refill block does
not count toward the monthly cap (both databases)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.phrasebook import void_line
from bot.services import Actor, Context
from tests.helpers import balance_of, do
from tests.integration.test_refills import refills


@pytest.fixture
def alerting(ctx: Context) -> Context:
    return Context(ctx.db, replace(ctx.settings, alert_channel="CALERTS"), ctx.clock)


@pytest.fixture
def acme(alerting: Context, admin: Actor) -> str:
    do(alerting, admin, "client add acme Acme Corp")
    do(alerting, admin, "client set acme overdraft unlimited")
    do(alerting, admin, "topup acme 10")
    do(alerting, admin, "client set acme refill auto 10h")
    return "acme"


def test_the_void_of_the_entry_that_refilled_names_the_refill_block(alerting: Context, admin: Actor, acme: str) -> None:
    logged = do(alerting, admin, "logtime acme 9h30m migration")  # 10h -> 30m: refill block 2
    assert logged.refill is not None and logged.refill.block == 2
    result = do(alerting, admin, f"void {logged.entry_id} logged twice")
    assert (
        "Block 2 (10h refill, unpaid) was added when this entry was logged; `void topup acme 2` if it is not wanted."
        in void_line(result)
    )
    assert result.as_dict()["refill_block"] == {"number": 2, "minutes": 600, "paid": False}
    assert [r.voided_at for r in refills(alerting)] == [None]  # the refill stays
    assert balance_of(alerting, "acme").remaining_minutes == 20 * 60


def test_the_void_of_another_entry_says_nothing_of_a_refill(alerting: Context, admin: Actor, acme: str) -> None:
    first = do(alerting, admin, "logtime acme 1h printer")
    do(alerting, admin, "logtime acme 8h30m migration")  # the refill
    result = do(alerting, admin, f"void {first.entry_id} wrong client")
    assert result.as_dict()["refill_block"] is None
    assert "refill" not in void_line(result)


def test_once_the_refill_is_voided_the_entrys_void_says_nothing_of_it(
    alerting: Context, admin: Actor, acme: str
) -> None:
    logged = do(alerting, admin, "logtime acme 9h30m migration")
    do(alerting, admin, "void topup acme 2 not wanted")
    result = do(alerting, admin, f"void {logged.entry_id} logged twice")
    assert result.as_dict()["refill_block"] is None


def test_a_voided_refill_block_does_not_count_toward_the_monthly_cap(
    alerting: Context, admin: Actor, acme: str
) -> None:
    logged = do(alerting, admin, "logtime acme 9h30m migration")  # refill 1 of 1 this month
    do(alerting, admin, "void topup acme 2 not wanted")
    do(alerting, admin, f"void {logged.entry_id} logged twice")  # 10h again: re-armed
    again = do(alerting, admin, "logtime acme 9h45m migration")
    assert again.refill is not None and again.refill.action == "added"
    assert [r.voided_at is None for r in refills(alerting)] == [False, True]
