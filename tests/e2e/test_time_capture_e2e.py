"""Work types and timers (issue 16) through the installed CLI and through Slack."""

from __future__ import annotations

import json

from bot.domain.commands import Link
from bot.services import Actor, Context
from bot.services.channels import link_channel
from tests.e2e.processes import Cli
from tests.e2e.slack_harness import SlackDriver, thread_message
from tests.fakes.slack_api import FakeSlack
from tests.helpers import balance_of, do


def test_work_types_from_the_cli(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    cli.run("topup", "acme", "10")
    assert cli.run("worktype", "add", "onsite", "1.5").returncode == 0
    logged = cli.json("logtime", "acme", "1h", "as", "onsite", "printer", "fix")
    assert (logged["minutes"], logged["billable_minutes"], logged["work_type"], logged["multiplier"]) == (
        60,
        90,
        "onsite",
        "1.5",
    )
    entry = cli.json("entries", "acme")["entries"][0]
    assert (entry["work_type"], entry["multiplier"], entry["minutes"], entry["billable_minutes"]) == (
        "onsite",
        "1.5",
        60,
        90,
    )
    assert "onsite ×1.5" in cli.run("worktype", "list").stdout


def test_a_thread_line_may_name_its_work_type(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    do(slack_ctx, Actor.local_admin(), "worktype add onsite 1.5")
    link_channel(slack_ctx, Actor("UADMIN"), "CACME", Link("acme"))
    slack.event(thread_message("+1h as onsite replaced toner", channel="CACME", thread_ts="1700000000.000100"))
    confirmation = fake_slack.wait_for("chat.postEphemeral")[0].params
    assert "1h onsite ×1.5 → 1h 30m deducted" in json.dumps(confirmation["blocks"], ensure_ascii=False)
    entry = balance_of(slack_ctx, "acme").last_entries[0]
    assert (entry.minutes, entry.billable_minutes, entry.work_type, entry.note) == (60, 90, "onsite", "replaced toner")


def test_a_timer_from_slack(slack: SlackDriver, slack_ctx: Context, clock, acme: str) -> None:  # type: ignore[no-untyped-def]
    started = slack.command("/logtime", "start acme printer fix").json
    assert started["response_type"] == "ephemeral" and "Timer started for Acme Corp" in started["text"]
    clock.advance(minutes=40)
    assert "40m" in slack.command("/logtime", "timer").json["text"]
    stopped = slack.command("/logtime", "stop").json
    assert "Logged" in stopped["text"] and "undo_entry" in json.dumps(stopped["blocks"])
    assert balance_of(slack_ctx, "acme").used_minutes == 40


def test_a_timer_lives_in_the_database_across_processes_and_is_logged_once(cli_process: Cli) -> None:
    """Started by one process, seen by another, stopped by two at once: one entry (on PostgreSQL in
    the PostgreSQL run: each ``blocktime`` is a process of its own). Every step runs in a process, so
    all of them act at the system clock: a timer started at the test's clock would have run for days
    by the time a process stops it at the system's."""
    import subprocess

    from tests.e2e.processes import SCRIPT

    cli_process.run("client", "add", "acme", "Acme")
    cli_process.run("topup", "acme", "10")
    started = cli_process.json("--as", "UTECH", "logtime", "start", "acme", "printer", "fix")
    shown = cli_process.json("--as", "UTECH", "logtime", "timer")
    assert shown["data"]["started_at"] == started["data"]["started_at"] and shown["data"]["client"] == "acme"
    stops = [
        subprocess.Popen(
            [str(SCRIPT), "--json", "--as", "UTECH", "logtime", "stop"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_process.env,
            cwd=cli_process.cwd,
        )
        for _ in range(2)
    ]
    answers = [json.loads(p.communicate(timeout=60)[0]) for p in stops]
    logged = [a for a in answers if "entry_id" in a]
    assert logged and len({a["entry_id"] for a in logged}) == 1  # the same entry, however many stops
    assert all("entry_id" in a or "no timer running" in a["error"] for a in answers)
    entries = cli_process.json("entries", "acme")["entries"]
    assert len(entries) == 1 and entries[0]["note"] == "printer fix"
    assert "No timer running" in cli_process.json("--as", "UTECH", "logtime", "timer")["message"]
