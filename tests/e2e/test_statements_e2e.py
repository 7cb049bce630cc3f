"""Issue 24's findings where a user meets them: the CLI (in-process, at the test's clock) and Slack
over signed HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from bot.clock import FixedClock
from bot.services import Actor, Context
from tests.e2e.processes import Cli
from tests.e2e.slack_harness import SlackDriver, assert_valid_message
from tests.helpers import do


def reply_text(reply) -> str:  # type: ignore[no-untyped-def]
    assert reply.status == 200, reply.body
    body = reply.json
    assert_valid_message(body.get("blocks", []), body.get("text"))
    return body.get("text", "") + " " + " ".join(str(b) for b in body.get("blocks", []))


def test_the_cli_names_a_clients_block_by_the_number_void_topup_takes(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    cli.run("client", "add", "initech", "Initech")
    for _ in range(5):
        cli.run("topup", "acme", "1")
    added = cli.run("topup", "initech", "5")
    assert added.returncode == 0 and "Added block 1: 5h for Initech" in added.stdout
    second = cli.json("topup", "initech", "2")
    assert (second["block_id"], second["block_number"]) == (7, 2)
    voided = cli.run("void", "topup", "initech", "2", "typo")
    assert voided.returncode == 0 and "Block 2 voided (2h). Initech now has 5h left." in voided.stdout
    again = cli.run("--json", "void", "topup", "initech", "2")
    assert again.returncode != 0 and "Block 2 of Initech is already voided" in again.stdout + again.stderr


def test_slack_names_a_clients_block_by_the_number_void_topup_takes(slack: SlackDriver, slack_ctx: Context) -> None:
    admin = Actor.local_admin()
    do(slack_ctx, admin, "client add acme Acme Corp")
    do(slack_ctx, admin, "client add initech Initech")
    do(slack_ctx, admin, "topup acme 10")
    do(slack_ctx, admin, "role <@UMGR> manager")
    added = reply_text(slack.command("/topup", "initech 5", user="UMGR"))
    assert "block 1," in added and "block 2" not in added
    voided = reply_text(slack.command("/blocktime", "void topup initech 1 typo", user="UMGR"))
    assert "Block 1 voided (5h)" in voided


def test_a_clients_hours_sum_the_same_in_its_own_csv_and_in_report_all(cli: Cli, tmp_path: Path) -> None:
    for handle in ("globex", "acme"):
        cli.run("client", "add", handle, handle.title())
        cli.run("client", "set", handle, "rounding", "none", "minimum", "none")
        cli.run("topup", handle, "10")
    cli.run("logtime", "globex", "7m", "dns")
    for minutes in ("7m", "13m", "29m"):
        cli.run("logtime", "acme", minutes, "printer")
    assert cli.run("report", "acme", "--out", "acme.csv", "--chart", "acme.png").returncode == 0
    assert cli.run("report", "--all", "--out", "all.csv").returncode == 0
    own = list(csv.DictReader((tmp_path / "acme.csv").read_text().splitlines()))
    every = [r for r in csv.DictReader((tmp_path / "all.csv").read_text().splitlines()) if r["client"] == "acme"]
    assert sum(Decimal(r["billable_hours"]) for r in own) == Decimal("0.82")  # 49 min
    assert sum(Decimal(r["billable_hours"]) for r in every) == Decimal("0.82")


def test_the_cli_statement_counts_only_overage_still_open_or_billed_and_marks_replaced_late_work(
    cli: Cli, clock: FixedClock
) -> None:
    cli.run("client", "add", "acme", "Acme")
    cli.run("client", "set", "acme", "overdraft", "unlimited")
    cli.run("topup", "acme", "1")
    first = cli.json("logtime", "acme", "3h", "2026-11-02", "migration")
    edited = cli.json("edit", str(first["entry_id"]), "2h30m")
    open_ = cli.json("report", "acme", "--out", "a.csv", "--chart", "a.png")["statement"]
    assert open_["overage_minutes"] == 90
    clock.at += timedelta(hours=1)
    cli.run("topup", "acme", "10")  # pays the 1h 30m of overage off
    text = cli.run("report", "acme", "--out", "b.csv", "--chart", "b.png").stdout
    assert "overage" not in text.split("Late:")[0].split("\n", 2)[2]
    assert f"(entry #{first['entry_id']}, replaced by #{edited['entry_id']})" in text
    assert f"(entry #{edited['entry_id']}, replaces #{first['entry_id']})" in text


def test_the_cli_labels_used_by_its_date_and_names_hours_in_grace(cli: Cli, clock: FixedClock) -> None:
    cli.run("client", "add", "acme", "Acme")
    cli.run("client", "add", "globex", "Globex")
    clock.at -= timedelta(days=10)
    cli.run("topup", "acme", "5", "expires", "2026-11-24")  # expired yesterday: in grace until 1 Dec
    clock.at += timedelta(days=10)
    cli.run("topup", "acme", "10")
    assert "used this month (by work date) 0m" in cli.run("balance", "acme").stdout
    assert "Used this month (by work date)" in cli.run("balance").stdout
    text = cli.run("report", "acme", "--out", "a.csv", "--chart", "a.png").stdout
    assert "− used (recorded this month) 0m" in text
    assert "On 2026-11-25, 5h of block 1 (expired 2026-11-24) are in their grace period" in text
    assert "until 2026-12-01, then they are forfeited" in text
