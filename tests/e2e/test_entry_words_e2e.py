"""Issue 24's command-grammar findings, end to end: the exact lines, from the CLI and from Slack's
``/logtime`` over signed HTTP. A date after the note dates the work; what reads two ways is refused and
writes nothing; timers say how they are used."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.clock import FixedClock
from bot.services import Actor, Context
from tests.e2e.processes import Cli
from tests.e2e.slack_harness import SlackDriver
from tests.e2e.test_slack_commands import ack_of, all_text
from tests.helpers import balance_of, do, entry_count

# TODAY is Wednesday 2026-11-25 (tests/conftest.py)
READ = [
    ("1h #77 2026-11-20", "2026-11-20", "#77", "#77"),
    ("1h printer yesterday", "2026-11-24", "printer", None),
    ("1h printer on friday", "2026-11-20", "printer", None),
]
REFUSED = [
    ("1h #77 2026-11-27", "future"),
    ("1h fixed printer tomorrow", "future"),
    ("1h fixed printer 11/12", "could be 12 Nov or 11 Dec"),
    ("1h printer last month", "names no single day"),
    ("1h as onsite as afterhours", "Two work types"),
    ("1h -30m", "`-30m`"),
    ("1h 30m 15m", "Two durations: 1h 30m and 15m"),
]


@pytest.fixture
def demo_cli(cli: Cli) -> Cli:
    for line in ("client add demo Demo Ltd", "topup demo 10", "worktype add onsite 1.5", "worktype add afterhours 2"):
        assert cli.run(*line.split()).returncode == 0
    return cli


@pytest.mark.parametrize(("words", "work_date", "note", "ticket"), READ)
def test_the_cli_dates_work_by_a_date_after_the_note(
    demo_cli: Cli, words: str, work_date: str, note: str, ticket: str | None
) -> None:
    demo_cli.json("logtime", "demo", *words.split())
    (entry,) = demo_cli.json("entries", "demo", "2026-11")["entries"]
    assert (entry["work_date"], entry["note"], entry["ticket"], entry["minutes"]) == (work_date, note, ticket, 60)


def test_the_cli_bills_the_type_named_after_the_note(demo_cli: Cli) -> None:
    logged = demo_cli.json("logtime", "demo", "1h", "printer", "fix", "as", "onsite")
    assert logged["billable_minutes"] == 90 and logged["work_type"] == "onsite"


@pytest.mark.parametrize(("words", "why"), REFUSED)
def test_the_cli_refuses_what_reads_two_ways_and_writes_nothing(demo_cli: Cli, words: str, why: str) -> None:
    done = demo_cli.run("logtime", "demo", *words.split())
    assert done.returncode == 1 and why in done.stderr and "Example:" in done.stderr, done.stderr
    assert demo_cli.json("entries", "demo", "2026-11")["entries"] == []


def test_the_cli_timer_takes_its_type_anywhere_and_is_stored_as_cli_with_its_start(
    demo_cli: Cli, clock: FixedClock
) -> None:
    done = demo_cli.run("logtime", "start", "2h", "demo")
    assert done.returncode == 1 and "A timer takes no duration" in done.stderr
    assert "logtime demo 2h printer fix" in done.stderr
    started = clock.now()
    assert demo_cli.run("logtime", "start", "demo", "short", "as", "onsite").returncode == 0
    clock.advance(minutes=10)
    stopped = demo_cli.json("logtime", "stop")
    assert (stopped["work_type"], stopped["billable_minutes"], stopped["note"]) == ("onsite", 15, "short")
    (entry,) = demo_cli.json("entries", "demo")["entries"]
    assert entry["source"] == "cli" and datetime.fromisoformat(entry["started_at"]) == started


def test_the_cli_says_a_short_timer_was_logged_with_the_time_given(demo_cli: Cli, clock: FixedClock) -> None:
    demo_cli.run("logtime", "start", "demo", "printer")
    clock.advance(seconds=20)
    done = demo_cli.run("logtime", "stop", "2h")
    assert done.returncode == 0 and "2h logged as you gave it, not the timer's 1m." in done.stdout


def test_the_cli_suggests_unlimited_for_a_huge_overdraft_and_helps_with_topup_options(demo_cli: Cli) -> None:
    done = demo_cli.run("client", "set", "demo", "overdraft", "99999999h")
    assert done.returncode != 0 and "overdraft unlimited" in done.stderr and "overdraft none" not in done.stderr
    shown = demo_cli.run("help").stdout
    assert "[starts YYYY-MM-DD]" in shown and "[renew monthly|quarterly|yearly|6months]" in shown


@pytest.fixture
def onsite(slack_ctx: Context, acme: str) -> str:
    do(slack_ctx, Actor.local_admin(), "worktype add onsite 1.5")
    do(slack_ctx, Actor.local_admin(), "worktype add afterhours 2")
    return acme


@pytest.mark.parametrize(("words", "work_date", "note", "ticket"), READ)
def test_slack_dates_work_by_a_date_after_the_note(
    slack: SlackDriver, slack_ctx: Context, onsite: str, words: str, work_date: str, note: str, ticket: str | None
) -> None:
    body = ack_of(slack.command("/logtime", f"acme {words}"))
    assert f"on {work_date}" in all_text(body)
    (entry,) = balance_of(slack_ctx, "acme").last_entries
    assert (entry.work_date.isoformat(), entry.note, entry.ticket, entry.source) == (work_date, note, ticket, "slack")


def test_slack_bills_the_type_named_after_the_note(slack: SlackDriver, slack_ctx: Context, onsite: str) -> None:
    body = ack_of(slack.command("/logtime", "acme 1h printer fix as onsite"))
    assert "1h onsite ×1.5 → 1h 30m deducted" in all_text(body)
    assert balance_of(slack_ctx, "acme").used_minutes == 90


@pytest.mark.parametrize(("words", "why"), REFUSED)
def test_slack_refuses_what_reads_two_ways_and_writes_nothing(
    slack: SlackDriver, slack_ctx: Context, onsite: str, words: str, why: str
) -> None:
    body = ack_of(slack.command("/logtime", f"acme {words}"))
    assert body["response_type"] == "ephemeral" and why in all_text(body)
    assert entry_count(slack_ctx) == 0


def test_slack_timers_say_how_they_are_used(
    slack: SlackDriver, slack_ctx: Context, clock: FixedClock, onsite: str
) -> None:
    assert "A timer takes no duration" in all_text(ack_of(slack.command("/logtime", "start 2h acme")))
    assert entry_count(slack_ctx) == 0
    assert "Timer started" in all_text(ack_of(slack.command("/logtime", "start acme short as onsite")))
    clock.advance(seconds=20)
    text = all_text(ack_of(slack.command("/logtime", "stop 2h")))
    assert "2h logged as you gave it, not the timer's 1m." in text and "onsite" in text
    (entry,) = balance_of(slack_ctx, "acme").last_entries
    assert (entry.minutes, entry.work_type, entry.source) == (120, "onsite", "slack")
