"""The same month in Slack, through the real app: the technician's confirmation says when an entry set
off a refill, and ``/blocktime blocks`` and App Home say where each block came from and what rolled in
(the same words as the CLI)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.clock import FixedClock
from bot.jobs.scheduler import run_job
from bot.services import Actor, Context
from tests.e2e.slack_harness import SlackDriver, assert_valid_view
from tests.e2e.test_slack_commands import ack_of, all_text
from tests.fakes.slack_api import FakeSlack
from tests.helpers import do


def test_the_confirmation_says_a_refill_was_added(slack: SlackDriver, slack_ctx: Context, acme: str) -> None:
    do(slack_ctx, Actor.local_admin(), "client set acme overdraft unlimited refill auto 5h")
    body = ack_of(slack.command("/logtime", "acme 9h30m migration"))  # 10h -> 30m: through 10%
    assert "Refill: 5h added by rule refill auto 5h (unpaid)." in all_text(body)


def test_blocks_and_app_home_say_what_rolled_in(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, clock: FixedClock
) -> None:
    admin = Actor.local_admin()
    clock.at = datetime(2026, 11, 25, 12, tzinfo=UTC)
    do(slack_ctx, admin, "client add acme Acme Corp")
    do(slack_ctx, admin, "client set acme grace 0d monthly 10h rollover 2h")
    clock.at = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)
    assert run_job(slack_ctx, "allotments", clock.at.date()).ran
    said = all_text(ack_of(slack.command("/blocktime", "blocks acme", user="UADMIN")))
    assert "allotment from 2026-12-01, 2h rolled in" in said, said
    slack.event({"type": "app_home_opened", "user": "UTECH", "tab": "home", "event_ts": "1.1"})
    view = fake_slack.wait_for("views.publish")[0].params["view"]
    assert_valid_view(view)
    said = json.dumps(view, ensure_ascii=False)
    assert "Block 2: 12h of 10h left · allotment from 2026-12-01, 2h rolled in" in said, said
