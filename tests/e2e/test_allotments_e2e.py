"""Recurring allotments (issue 26, part 4) through the ``blocktime`` command and the Slack slash
command: the setting with ``--json``, the settings view, the hourly job run by hand, ``blocks --json``
and the statement that shows what rolled over and what was forfeited."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import FixedClock
from bot.services import Context
from tests.e2e.processes import Cli
from tests.e2e.slack_harness import SlackDriver
from tests.e2e.test_slack_commands import ack_of, all_text


def test_the_cli_sets_an_allotment_and_the_job_rolls_it_over(cli: Cli, clock: FixedClock) -> None:
    clock.at = datetime(2026, 11, 25, 12, tzinfo=UTC)
    cli.run("client", "add", "acme", "Acme")
    cli.run("client", "set", "acme", "grace", "0d")
    view = cli.json("client", "set", "acme", "monthly", "10h", "rollover", "2h")
    assert (view["recurring_period"], view["recurring_minutes"], view["rollover_minutes"]) == ("monthly", 600, 120)
    assert view["recurring_last_start"] == "2026-11-01"
    assert "monthly 10h, rollover up to 2h" in " ".join(cli.run("client", "show", "acme").stdout.split())
    cli.run("logtime", "acme", "1h", "server")
    clock.at = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)
    ran = cli.json("jobs", "run", "allotments")
    assert ran["ran"] and ran["summary"].startswith("granted 1 allotment block"), ran
    again = cli.json("jobs", "run", "allotments")
    assert again["summary"].startswith("granted 0 allotment blocks"), again
    blocks = cli.json("blocks", "acme")["blocks"]
    november, december = sorted(blocks, key=lambda b: b["id"])
    assert (november["source"], november["rolled_out_minutes"], november["forfeited_minutes"]) == (
        "recurring",
        120,
        420,
    )
    assert (december["period_start"], december["rolled_in_minutes"], december["remaining_minutes"]) == (
        "2026-12-01",
        120,
        720,
    )
    statement = cli.json("report", "acme", "this", "month")["statement"]
    assert (statement["rolled_over_minutes"], statement["forfeited_minutes"], statement["closing_minutes"]) == (
        120,
        420,
        720,
    )
    said = " ".join(cli.run("report", "acme", "this", "month").stdout.split())
    assert "Rolled over: 2h" in said and "forfeited: 7h" in said, said
    off = cli.json("client", "set", "acme", "recurring", "off")
    assert off["recurring_period"] is None and off["recurring_last_start"] == "2026-12-01"


def test_a_bad_allotment_is_refused_with_an_example_and_writes_nothing(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    done = cli.run("client", "set", "acme", "monthly", "lots")
    said = " ".join((done.stdout + done.stderr).split())
    assert done.returncode != 0 and "client set acme monthly 10h rollover 20h" in said, said
    assert cli.json("client", "show", "acme")["recurring_period"] is None
    assert cli.json("balance", "acme")["purchased_minutes"] == 0


def test_slack_sets_an_allotment_for_admins_only(slack: SlackDriver, slack_ctx: Context, acme: str) -> None:
    refused = all_text(ack_of(slack.command("/blocktime", "client set acme monthly 10h rollover 20h", user="UTECH")))
    assert "Only admins" in refused
    done = all_text(ack_of(slack.command("/blocktime", "client set acme monthly 10h rollover 20h", user="UADMIN")))
    assert "allotment monthly 10h, rollover up to 20h" in done, done
    blocks = all_text(ack_of(slack.command("/blocktime", "blocks acme", user="UADMIN")))
    assert "allotment from 2026-11-01" in blocks, blocks
