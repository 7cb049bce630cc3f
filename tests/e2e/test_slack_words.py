"""What Slack shows and notifies, through the real app: user text escaped in the notification text
too, replies that say what made the billable time, thread replies that say what an edit deducts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.bootstrap import transports_for
from bot.config import Settings
from bot.domain.commands import Link
from bot.jobs.dispatcher import Dispatcher
from bot.jobs.scheduler import run_job
from bot.services import Actor, Context
from bot.services.channels import link_channel
from tests.e2e.slack_harness import RunningApp, SlackDriver, assert_valid_message, assert_valid_view, thread_message
from tests.fakes.slack_api import FakeSlack
from tests.helpers import do

THREAD = "1700000000.000100"


@pytest.fixture
def alerting_ctx(slack_ctx: Context, slack_settings: Settings) -> Context:
    settings = replace(slack_settings, alert_channel="CALERTS", managers_channel="CMANAGERS")
    return Context(slack_ctx.db, settings, slack_ctx.clock)


@pytest.fixture
def alerting(alerting_ctx: Context, fake_slack: FakeSlack) -> Iterator[SlackDriver]:
    fake_slack.reset()
    running = RunningApp(alerting_ctx)
    yield SlackDriver(running.port, fake_slack, running.app)
    running.stop()


def test_a_client_name_with_slack_markup_pings_no_one_in_any_notification_text(
    alerting: SlackDriver, alerting_ctx: Context, fake_slack: FakeSlack
) -> None:
    admin = Actor.local_admin()
    do(alerting_ctx, admin, "client add acme Acme <!channel> Corp")
    do(alerting_ctx, admin, "topup acme 10")
    link_channel(alerting_ctx, Actor("UADMIN"), "CACME", Link("acme"))
    card = alerting.command("/balance", "public", user="UADMIN", channel="CACME").json
    logged = alerting.command("/logtime", "acme 6h migration", user="UADMIN").json
    alerting.settle()
    Dispatcher(alerting_ctx, transports_for(alerting_ctx)).run_once()
    [alert] = [c.params for c in fake_slack.of("chat.postMessage") if c.params.get("channel") == "CALERTS"]
    for message in (card, logged, alert):
        assert_valid_message(message["blocks"], message["text"])
        assert "<!channel>" not in message["text"] and "Acme &lt;!channel&gt; Corp" in message["text"]
        assert "<!channel>" not in json.dumps(message["blocks"])


def test_the_reply_says_what_made_the_billable_time(slack: SlackDriver, slack_ctx: Context, acme: str) -> None:
    admin = Actor.local_admin()
    do(slack_ctx, admin, "worktype add onsite 1.5")
    rated = json.dumps(slack.command("/logtime", "acme 1h as onsite printer").json["blocks"], ensure_ascii=False)
    assert "1h 30m billable after the ×1.5 rate)" in rated and "rounding" not in rated
    do(slack_ctx, admin, "client set acme rounding 15m minimum 30m")
    rounded = json.dumps(slack.command("/logtime", "acme 35m printer").json["blocks"])
    assert "45m billable after rounding up to 15m)" in rounded
    minimum = json.dumps(slack.command("/logtime", "acme 5m call").json["blocks"])
    assert "30m billable after rounding up to 15m and the 30m minimum)" in minimum


def test_an_edited_after_hours_line_says_what_it_deducts(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    slack_ctx.settings = replace(slack_ctx.settings, after_hours_type="afterhours")
    admin = Actor.local_admin()
    do(slack_ctx, admin, "worktype add afterhours 2")
    do(slack_ctx, admin, "client set acme timezone America/New_York hours mon-fri 08:00-18:00")
    link_channel(slack_ctx, Actor("UADMIN"), "CACME", Link("acme"))
    late = datetime(2026, 11, 24, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    original = thread_message("+1h restored backups", channel="CACME", thread_ts=THREAD, ts=f"{late.timestamp():.6f}")
    slack.event(original)
    fake_slack.wait_for("chat.postEphemeral")
    edited = {**original, "text": "+2h restored backups", "edited": {"user": "UTECH", "ts": "1700000200.0"}}
    slack.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "CACME",
            "hidden": True,
            "ts": "1700000200.000300",
            "event_ts": "1700000200.000300",
            "message": edited,
            "previous_message": original,
        }
    )
    answer = fake_slack.wait_for("chat.postEphemeral", 2)[-1].params["text"]
    assert "Corrected" in answer and "(4h billable)" in answer and "afterhours ×2 → 4h deducted" in answer


def test_app_home_totals_all_of_todays_entries_and_says_when_it_lists_only_the_newest(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    tess = Actor("UTECH", "Tess Tech")
    for minutes in [30, 30] + [50] * 10:
        do(slack_ctx, tess, f"logtime acme {minutes}m work")
    slack.event({"type": "app_home_opened", "user": "UTECH", "tab": "home", "event_ts": "1.1"})
    view = fake_slack.wait_for("views.publish")[0].params["view"]
    assert_valid_view(view)
    assert "*Your entries today* (9h 20m deducted in all; the newest 10 of 12 shown)" in json.dumps(view)


def test_app_home_says_a_client_at_zero_has_used_up_its_hours_rather_than_forecasting_a_run_out(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    do(slack_ctx, Actor("UTECH", "Tess Tech"), "logtime acme 10h migration")
    slack.event({"type": "app_home_opened", "user": "UTECH", "tab": "home", "event_ts": "1.1"})
    text = json.dumps(fake_slack.wait_for("views.publish")[0].params["view"])
    assert "runs out" not in text and "hours used up" in text


def test_the_digests_low_heading_says_the_rule_it_lists_by(
    alerting: SlackDriver, alerting_ctx: Context, fake_slack: FakeSlack
) -> None:
    """Thresholds 50%,25%,10%,0: acme (8% left) is above its lowest threshold, 0, but under 10%, the
    lowest above zero, and is listed as such; globex (20% left) is under 25% but above 10%: not low."""
    admin = Actor.local_admin()
    for handle in ("acme", "globex"):
        do(alerting_ctx, admin, f"client add {handle} {handle.title()} Corp")
        do(alerting_ctx, admin, f"client set {handle} thresholds 50%,25%,10%,0")
        do(alerting_ctx, admin, f"topup {handle} 10")
    do(alerting_ctx, admin, "logtime acme 9h12m migration")  # 48m left: 8%
    do(alerting_ctx, admin, "logtime globex 8h migration")  # 2h left: 20%
    run_job(alerting_ctx, "digest", date(2026, 11, 25))
    Dispatcher(alerting_ctx, transports_for(alerting_ctx)).run_once(limit=100)
    [digest] = [c.params for c in fake_slack.of("chat.postMessage") if c.params.get("channel") == "CMANAGERS"]
    assert_valid_message(digest["blocks"], digest["text"])
    shown = json.dumps(digest["blocks"], ensure_ascii=False)
    assert "*Low: at or under their lowest threshold above zero*\\n• *Acme Corp*: 48m left (at or under 10%)" in shown
    assert "Globex" not in shown and "1 low" in digest["text"]
