"""A month of one client as an account manager reads it in the ``blocktime`` command, on SQLite and
PostgreSQL: an entry that set off a refill says so, and ``blocks``/``balance`` say where each block came
from and what rolled in and out of it."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import FixedClock
from tests.e2e.processes import Cli


def test_an_entry_that_refills_says_so_in_text_and_json(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme Corp")
    cli.run("client", "set", "acme", "overdraft", "unlimited", "refill", "auto", "5h")
    cli.run("topup", "acme", "5h")
    logged = cli.run("logtime", "acme", "3h", "migration")
    assert "Refill" not in logged.stdout  # 5h -> 2h: above the lowest threshold (10% of 5h)
    logged = cli.json("logtime", "acme", "1h45m", "more migration")  # 2h -> 15m: through it
    assert logged["refill"] == {
        "minutes": 300,
        "paid": False,
        "rule": "refill auto 5h",
        "block": 2,
        "action": "added",
        "reason": None,
    }
    assert logged["remaining_minutes"] == 15 + 300
    cli.run("topup", "acme", "1h")
    cli.run("client", "set", "acme", "refill", "auto", "5h", "max", "3", "per", "month")
    said = cli.run("logtime", "acme", "5h30m", "upgrade")  # 6h15m -> 45m: through 10% of 11h, a new run-down
    assert said.returncode == 0, said.stdout + said.stderr
    assert "Refill: 5h added by rule refill auto 5h max 3 per month (unpaid)." in said.stdout


def test_blocks_and_balance_say_where_each_block_came_from_and_what_rolled(cli: Cli, clock: FixedClock) -> None:
    clock.at = datetime(2026, 11, 25, 12, tzinfo=UTC)
    cli.run("client", "add", "acme", "Acme Corp")
    cli.run("client", "set", "acme", "grace", "0d", "overdraft", "unlimited")
    cli.run("client", "set", "acme", "monthly", "10h", "rollover", "2h")
    cli.run("logtime", "acme", "1h", "server")
    clock.at = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)
    assert cli.json("jobs", "run", "allotments")["ran"]
    cli.run("client", "set", "acme", "refill", "auto", "5h")
    cli.run("logtime", "acme", "11h30m", "migration")  # 12h -> 30m: through 10%, a refill of 5h
    shown = " ".join(cli.run("blocks", "acme").stdout.split())
    assert "Source" in shown
    assert "allotment from 2026-11-01, 2h rolled out" in shown, shown
    assert "allotment from 2026-12-01, 2h rolled in" in shown, shown
    assert "refill" in shown
    balance = " ".join(cli.run("balance", "acme").stdout.split())
    assert "allotment from 2026-12-01, 2h rolled in" in balance, balance
    assert "Source" in balance


def test_a_plain_top_up_reads_as_a_top_up(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme Corp")
    cli.run("topup", "acme", "10h")
    shown = " ".join(cli.run("blocks", "acme").stdout.split())
    assert "Source" in shown and "top-up" in shown, shown
