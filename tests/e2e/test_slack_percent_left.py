"""One denominator for "% left" (the size of the client's current blocks, used up or not), through
the real app: the /logtime reply, the threshold alert, App Home and the digest agree."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

import pytest

from bot.bootstrap import transports_for
from bot.clock import FixedClock
from bot.config import Settings
from bot.jobs.dispatcher import Dispatcher
from bot.jobs.scheduler import run_job
from bot.services import Actor, Context
from tests.e2e.slack_harness import RunningApp, SlackDriver, assert_valid_message
from tests.fakes.slack_api import FakeSlack
from tests.helpers import do


@pytest.fixture
def alerting_ctx(slack_ctx: Context, slack_settings: Settings) -> Context:
    settings = replace(slack_settings, alert_channel="CALERTS", managers_channel="CMANAGERS")
    return Context(slack_ctx.db, settings, slack_ctx.clock)


@pytest.fixture
def alerting(alerting_ctx: Context, fake_slack: FakeSlack) -> Iterator[SlackDriver]:
    fake_slack.reset()
    fake_slack.names.update({"UTECH": "Tess Tech"})
    running = RunningApp(alerting_ctx)
    yield SlackDriver(running.port, fake_slack, running.app)
    running.stop()


def posted_to(fake: FakeSlack, channel: str) -> list[dict]:  # type: ignore[type-arg]
    return [c.params for c in fake.of("chat.postMessage") if c.params.get("channel") == channel]


def home_text(slack: SlackDriver, fake: FakeSlack) -> str:
    before = len(fake.of("views.publish"))
    slack.event({"type": "app_home_opened", "user": "UTECH", "tab": "home", "event_ts": "1.1"})
    return json.dumps(fake.wait_for("views.publish", before + 1)[-1].params["view"])


def test_percent_left_is_a_share_of_every_current_block_used_up_or_not(
    alerting: SlackDriver, alerting_ctx: Context, fake_slack: FakeSlack
) -> None:
    admin = Actor.local_admin()
    do(alerting_ctx, admin, "client add acme Acme Corp")
    do(alerting_ctx, admin, "topup acme 10")
    do(alerting_ctx, admin, "topup acme 5")
    reply = alerting.command("/logtime", "acme 12h45m migration").json  # the 10h block is used up
    assert "2h 15m" in json.dumps(reply["blocks"]) and "15%" in json.dumps(reply["blocks"])
    alerting.settle()
    Dispatcher(alerting_ctx, transports_for(alerting_ctx)).run_once()
    [alert] = posted_to(fake_slack, "CALERTS")
    assert_valid_message(alert["blocks"], alert["text"])
    assert "*25%* threshold" in json.dumps(alert["blocks"]) and "(15%)" in alert["text"]
    assert "15%" in home_text(alerting, fake_slack)
    plain = alerting.command("/logtime", "acme 5m call").json  # the bare unit of work says the same
    assert "2h 10m" in json.dumps(plain["blocks"]) and "14%" in json.dumps(plain["blocks"])


def test_the_digest_lists_a_client_low_against_all_its_current_blocks(
    alerting: SlackDriver, alerting_ctx: Context, fake_slack: FakeSlack
) -> None:
    admin = Actor.local_admin()
    do(alerting_ctx, admin, "client add acme Acme Corp")
    do(alerting_ctx, admin, "topup acme 10")
    do(alerting_ctx, admin, "topup acme 5")
    do(alerting_ctx, Actor("UTECH", "Tess Tech"), "logtime acme 13h45m migration")  # 1h15m left: 8%
    run_job(alerting_ctx, "digest", date(2026, 11, 25))
    Dispatcher(alerting_ctx, transports_for(alerting_ctx)).run_once(limit=100)
    [digest] = posted_to(fake_slack, "CMANAGERS")
    assert_valid_message(digest["blocks"], digest["text"])
    assert "1 low" in digest["text"] and "Acme Corp" in json.dumps(digest["blocks"])


def test_a_never_expiring_block_used_up_before_the_current_ones_does_not_count(
    alerting_ctx: Context, clock: FixedClock
) -> None:
    admin = Actor.local_admin()
    now = clock.at
    clock.at = now - timedelta(days=60)
    do(alerting_ctx, admin, "client add acme Acme Corp")
    do(alerting_ctx, admin, "topup acme 10")
    do(alerting_ctx, admin, "logtime acme 10h old work")
    clock.at = now
    do(alerting_ctx, admin, "topup acme 10")
    do(alerting_ctx, admin, "logtime acme 5h migration")
    [view] = do(alerting_ctx, admin, "balance acme").balances
    assert (view.remaining_minutes, view.percent_left) == (300, 50)
