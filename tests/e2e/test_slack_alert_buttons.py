"""The buttons on a low-balance alert: Add hours, Snooze 7 days, Entries."""

from __future__ import annotations

import json

from bot.services import Context
from tests.e2e.slack_harness import SlackDriver, assert_valid_message, assert_valid_view
from tests.fakes.slack_api import FakeSlack


def test_add_hours_opens_the_topup_modal_for_managers_only(
    slack: SlackDriver, fake_slack: FakeSlack, acme: str
) -> None:
    slack.click("alert_add_hours", "acme", user="UTECH", channel="CALERTS")
    refusal = fake_slack.wait_for("response_url")[0].params
    assert "Only account managers" in refusal["text"] and not fake_slack.of("views.open")
    slack.click("alert_add_hours", "acme", user="UMGR", channel="CALERTS")
    view = fake_slack.wait_for("views.open")[0].params["view"]
    assert_valid_view(view)
    client = next(b for b in view["blocks"] if b["block_id"] == "client")
    assert client["element"]["initial_option"]["value"] == "acme"
    assert json.loads(view["private_metadata"]) == {"channel": "CALERTS"}


def test_snooze_silences_the_client_for_seven_days(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    slack.click("alert_snooze", "acme", user="UMGR")
    answer = fake_slack.wait_for("response_url")[0].params
    assert "snoozed until 2026-12-02" in answer["text"] and answer["replace_original"] is False
    slack.click("alert_snooze", "acme", user="UTECH")
    assert "Only account managers" in fake_slack.wait_for("response_url", 2)[-1].params["text"]


def test_entries_shows_this_months_entries(slack: SlackDriver, fake_slack: FakeSlack, acme: str) -> None:
    slack.command("/logtime", "acme 30m printer #9")
    slack.click("alert_entries", "acme", user="UMGR")
    answer = fake_slack.wait_for("response_url")[0].params
    assert_valid_message(answer["blocks"], answer["text"])
    assert "#9" in json.dumps(answer["blocks"])
