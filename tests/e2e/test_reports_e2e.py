"""Reports, charts and backups through the installed CLI and through Slack (files upload v2)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from bot.reports.chart import png_size
from bot.services import Actor, Context
from storage.db import Database
from tests.e2e.processes import Cli
from tests.e2e.slack_harness import SlackDriver, assert_valid_message
from tests.fakes.slack_api import FakeSlack
from tests.helpers import do


def seed(ctx: Context) -> None:
    admin = Actor.local_admin()
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "topup acme 10 price 1500")
    do(ctx, Actor("U1", "Tess"), "logtime acme 1h30m printer #7")
    do(ctx, Actor("U2", "Raj"), "logtime acme 45m vpn")


def test_the_cli_report_writes_the_csv_and_the_chart(database: Database, ctx: Context, tmp_path: Path) -> None:
    seed(ctx)
    cli = Cli(database.url, tmp_path, clock=ctx.clock)
    done = cli.run("--json", "report", "acme", "this", "month", "--out", "acme.csv", "--chart", "acme.png")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["statement"]["used_minutes"] == 135 and data["files"] == {"csv": "acme.csv", "chart": "acme.png"}
    rows = list(csv.DictReader(io.StringIO((tmp_path / "acme.csv").read_text())))
    assert [(r["technician"], r["billable_minutes"]) for r in rows] == [("Tess", "90"), ("Raj", "45")]
    assert png_size((tmp_path / "acme.png").read_bytes()) == (1200, 600)
    every = cli.run("report", "--all", "this", "month")
    assert every.returncode == 0 and (tmp_path / f"blocktime-all-{ctx.today():%Y-%m}.csv").exists()
    refused = cli.run("--as", "UTECH", "report", "acme")
    assert refused.returncode == 1 and "reports" in refused.stderr


def test_export_and_import_round_trip_through_the_cli(database: Database, ctx: Context, tmp_path: Path) -> None:
    seed(ctx)
    cli = Cli(database.url, tmp_path, clock=ctx.clock)
    assert cli.run("export", "--out", "backup.json").returncode == 0
    restored = Cli(f"sqlite:///{tmp_path}/restored.db", tmp_path, clock=ctx.clock)
    done = restored.run("--json", "import", "backup.json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["imported"]["entries"] == 2
    assert restored.json("balance", "acme") == cli.json("balance", "acme")
    again = restored.run("import", "backup.json")
    assert again.returncode == 1 and "not empty" in again.stderr


def test_the_slack_report_posts_the_statement_and_uploads_csv_and_chart(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack
) -> None:
    seed(slack_ctx)
    do(slack_ctx, Actor.local_admin(), "role <@UMGR> manager")
    ack = slack.command("/blocktime", "report acme this month", user="UMGR", channel="CREPORTS")
    assert ack.status == 200 and "Working on it" in ack.json["text"]
    statement = fake_slack.wait_for("chat.postMessage")[0].params
    assert statement["channel"] == "CREPORTS" and "Acme Corp" in statement["text"]
    assert_valid_message(statement["blocks"], statement["text"])
    complete = fake_slack.wait_for("files.completeUploadExternal", timeout=15)[0].params
    files = json.loads(complete["files"]) if isinstance(complete["files"], str) else complete["files"]
    assert complete["channel_id"] == "CREPORTS" and complete.get("thread_ts")
    assert sorted(f["title"] for f in files) == ["Acme Corp burn-down", "Entries November 2026"]
    uploads = fake_slack.of("file_upload")
    assert any(u.body.startswith(b"\x89PNG") for u in uploads)
    assert any(b"technician" in u.body and b"Tess" in u.body for u in uploads)


def test_a_technician_asking_for_a_report_is_told_which_role_it_needs(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack
) -> None:
    seed(slack_ctx)
    slack.command("/blocktime", "report acme", user="UTECH")
    answer = fake_slack.wait_for("response_url")[0].params
    assert "Only account managers and admins can run reports" in answer["text"]
    assert not fake_slack.of("files.completeUploadExternal")


def test_insights_in_slack(slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack) -> None:
    seed(slack_ctx)
    slack.command("/blocktime", "insights", user="UADMIN")
    answer = fake_slack.wait_for("response_url")[0].params
    assert_valid_message(answer["blocks"], answer["text"])
    assert "3 complete months" in json.dumps(answer["blocks"])


def test_the_alert_chart_button_uploads_into_the_alert_thread(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack
) -> None:
    seed(slack_ctx)
    do(slack_ctx, Actor.local_admin(), "role <@UMGR> manager")
    slack.interaction(
        {
            "type": "block_actions",
            "team": {"id": "T0"},
            "user": {"id": "UMGR"},
            "api_app_id": "A0",
            "trigger_id": "t",
            "channel": {"id": "CALERTS"},
            "message": {"ts": "1700000000.000100"},
            "container": {"type": "message", "message_ts": "1700000000.000100"},
            "response_url": fake_slack.response_url("a"),
            "actions": [
                {"type": "button", "action_id": "alert_chart", "value": "acme", "block_id": "b", "action_ts": "1"}
            ],
        }
    )
    complete = fake_slack.wait_for("files.completeUploadExternal", timeout=15)[0].params
    assert complete["channel_id"] == "CALERTS" and complete["thread_ts"] == "1700000000.000100"


def test_app_home_shows_what_needs_attention_first(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack
) -> None:
    seed(slack_ctx)
    do(slack_ctx, Actor.local_admin(), "client add globex Globex")
    do(slack_ctx, Actor.local_admin(), "client set globex overdraft 2h")
    do(slack_ctx, Actor.local_admin(), "logtime globex 1h oops")
    slack.event({"type": "app_home_opened", "user": "UTECH", "tab": "home", "event_ts": "1.1"})
    view = fake_slack.wait_for("views.publish")[0].params["view"]
    text = json.dumps(view)
    assert text.index("Needs attention") < text.index("Balances, lowest first")
    assert "overdrawn by 1h" in text
