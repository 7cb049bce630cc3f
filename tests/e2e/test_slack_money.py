"""Issue 13's findings where Slack has the path: work dates, decimal hours, late work, corrections, a
request id reused for another request, all over signed HTTP with the fake Slack Web API."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import FixedClock
from bot.services import Actor, Context
from tests.e2e.slack_harness import SlackDriver, assert_valid_message
from tests.helpers import balance_of, do, entry_count


def ack_text(reply) -> str:  # type: ignore[no-untyped-def]
    assert reply.status == 200, reply.body
    body = reply.json
    assert_valid_message(body.get("blocks", []), body.get("text"))
    return body.get("text", "") + " " + " ".join(str(b) for b in body.get("blocks", []))


def test_a_date_word_in_the_future_or_ambiguous_is_refused_and_writes_nothing(
    slack: SlackDriver, slack_ctx: Context, acme: str
) -> None:
    assert "in the future" in ack_text(slack.command("/logtime", "acme 1h tomorrow printer"))
    assert "use 2026-11-12 or 2026-12-11" in ack_text(slack.command("/logtime", "acme 1h 11/12 printer"))
    assert entry_count(slack_ctx) == 0
    assert "2026-11-20" in ack_text(slack.command("/logtime", "acme 1h last friday printer"))
    assert balance_of(slack_ctx, "acme").last_entries[0].note == "printer"


def test_decimal_hours_are_recorded_to_the_minute_and_the_reply_says_so(
    slack: SlackDriver, slack_ctx: Context, acme: str
) -> None:
    assert "0.33h → 20m" in ack_text(slack.command("/logtime", "acme 0.33h call"))
    assert balance_of(slack_ctx, "acme").used_minutes == 20


def test_late_work_paid_by_todays_blocks_says_so_in_the_reply(
    slack: SlackDriver, slack_ctx: Context, clock: FixedClock
) -> None:
    admin = Actor.local_admin()
    do(slack_ctx, admin, "client add acme Acme Corp")
    clock.at = datetime(2026, 11, 10, 12, tzinfo=UTC)
    do(slack_ctx, admin, "topup acme 1 expires 2026-11-20")
    clock.at = datetime(2026, 11, 25, 15, tzinfo=UTC)
    do(slack_ctx, admin, "topup acme 10")
    text = ack_text(slack.command("/logtime", "acme 2h 2026-11-18 migration"))
    assert "No block valid on 2026-11-18 had hours left: 1h drawn from the current blocks." in text
    assert balance_of(slack_ctx, "acme").remaining_minutes == 540


def test_an_edit_from_slack_keeps_the_non_billable_flag(slack: SlackDriver, slack_ctx: Context, acme: str) -> None:
    ack_text(slack.command("/logtime", "acme 20m --nb courtesy call"))
    entry = balance_of(slack_ctx, "acme").last_entries[0]
    text = ack_text(slack.command("/blocktime", f"edit {entry.id} 30m"))
    assert f"replaces #{entry.id}" in text and "non-billable" in text
    view = balance_of(slack_ctx, "acme")
    assert view.used_minutes == 0 and view.last_entries[0].note == "courtesy call"


def test_a_trigger_id_reused_with_other_content_is_refused(slack: SlackDriver, slack_ctx: Context, acme: str) -> None:
    ack_text(slack.command("/logtime", "acme 15m laptop", trigger_id="trig.same"))
    again = ack_text(slack.command("/logtime", "acme 15m laptop", trigger_id="trig.same"))
    assert "Already logged" in again
    other = ack_text(slack.command("/logtime", "acme 3h something else", trigger_id="trig.same"))
    assert "already used for a different request" in other
    assert entry_count(slack_ctx) == 1


def test_billed_overage_is_its_own_figure_in_slack_too(slack: SlackDriver, slack_ctx: Context) -> None:
    admin = Actor.local_admin()
    do(slack_ctx, admin, "client add acme Acme Corp")
    do(slack_ctx, admin, "client set acme overdraft unlimited overage bill")
    do(slack_ctx, admin, "topup acme 2")
    do(slack_ctx, admin, "logtime acme 4h big job")
    do(slack_ctx, admin, "topup acme 10")
    text = ack_text(slack.command("/balance", "acme"))
    assert "Purchased 12h − used 4h + overage billed on its own 2h = 10h left" in text


def test_a_renewing_top_up_from_slack_says_its_rule_and_gets_an_expiry(
    slack: SlackDriver, slack_ctx: Context, acme: str
) -> None:
    text = ack_text(slack.command("/topup", "acme 20 renew yearly price 2000", user="UMGR"))
    assert "renews yearly" in text and "expires 2027-11-24" in text
    blocks = ack_text(slack.command("/blocktime", "blocks acme"))
    assert "renews yearly" in blocks
