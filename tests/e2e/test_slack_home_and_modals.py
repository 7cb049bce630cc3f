"""App Home and the modals, through the real app and the fake Web API."""

from __future__ import annotations

import json
import logging

import pytest

from bot.services import Actor, Context
from tests.e2e.slack_harness import SlackDriver, assert_valid_message, assert_valid_view, static_select, text_state
from tests.fakes.slack_api import FakeSlack
from tests.helpers import balance_of, do, eventually


def test_opening_app_home_publishes_the_dashboard_lowest_first(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    do(slack_ctx, Actor.local_admin(), "client add globex Globex Ltd")
    do(slack_ctx, Actor.local_admin(), "topup globex 2 expires 2099-01-01")
    do(slack_ctx, Actor("UTECH", "Tess Tech"), "logtime globex 30m patching")
    slack.event(
        {"type": "app_home_opened", "user": "UTECH", "channel": "D1", "tab": "home", "event_ts": "1700000000.1"}
    )
    call = fake_slack.wait_for("views.publish")[0].params
    assert call["user_id"] == "UTECH"
    view = call["view"]
    assert_valid_view(view)
    text = json.dumps(view)
    assert text.index("Globex Ltd") < text.index("Acme Corp")
    assert "75%" in text and "2099-01-01" in text and "Tess Tech" in text and "patching" in text
    actions = [b for b in view["blocks"] if b["type"] == "actions"][0]["elements"]
    assert {a["action_id"] for a in actions} == {"home_log_time"}  # a technician: no Top up button


def test_the_home_tab_is_refreshed_after_a_change(slack: SlackDriver, fake_slack: FakeSlack, acme: str) -> None:
    slack.command("/logtime", "acme 15m advice")
    call = fake_slack.wait_for("views.publish")[0].params
    assert call["user_id"] == "UTECH" and "9h 45m" in json.dumps(call["view"])


def test_the_home_tab_lists_at_most_what_slack_allows(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack
) -> None:
    for n in range(60):
        do(slack_ctx, Actor.local_admin(), f"client add c{n} Client {n}")
    slack.event({"type": "app_home_opened", "user": "UTECH", "tab": "home", "event_ts": "1.1"})
    view = fake_slack.wait_for("views.publish")[0].params["view"]
    assert_valid_view(view)
    assert "more clients" in json.dumps(view)


def test_topup_without_arguments_opens_the_modal(slack: SlackDriver, fake_slack: FakeSlack, acme: str) -> None:
    reply = slack.command("/topup", "", user="UMGR", trigger_id="trig.modal")
    assert reply.status == 200
    call = fake_slack.wait_for("views.open")[0].params
    assert call["trigger_id"] == "trig.modal"
    assert_valid_view(call["view"])
    assert {b["block_id"] for b in call["view"]["blocks"]} == {
        "client",
        "hours",
        "paid",
        "expires",
        "price",
        "reference",
        "note",
    }


def test_a_technician_is_told_instead_of_getting_the_modal(
    slack: SlackDriver, fake_slack: FakeSlack, acme: str
) -> None:
    body = slack.command("/topup", "", user="UTECH").json
    assert "Only account managers and admins can top up" in json.dumps(body)
    assert not fake_slack.of("views.open")


def test_the_topup_modal_shows_field_errors_and_writes_nothing(
    slack: SlackDriver, slack_ctx: Context, acme: str
) -> None:
    reply = slack.submit(
        "topup_modal",
        {
            "client": static_select("acme"),
            "hours": text_state("ten"),
            "expires": {"type": "datepicker", "selected_date": None},
            "price": text_state("12.345"),
            "reference": text_state(None),
            "note": text_state(None),
        },
        user="UMGR",
    )
    body = reply.json
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"hours", "price"}
    assert balance_of(slack_ctx, "acme").purchased_minutes == 600


def test_the_topup_modal_records_the_block_once(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    values = {
        "client": static_select("acme"),
        "hours": text_state("5"),
        "expires": {"type": "datepicker", "selected_date": "2099-12-31"},
        "price": text_state("750"),
        "reference": text_state("INV-5"),
        "note": text_state("renewal"),
    }
    first = slack.submit("topup_modal", values, user="UMGR", view_id="V77", metadata='{"channel": "CGENERAL"}')
    again = slack.submit("topup_modal", values, user="UMGR", view_id="V77", metadata='{"channel": "CGENERAL"}')
    assert first.status == 200 and again.status == 200 and not first.body
    note = fake_slack.wait_for("chat.postEphemeral")[0].params
    assert note["channel"] == "CGENERAL" and note["user"] == "UMGR"
    assert_valid_message(note["blocks"], note["text"])
    view = balance_of(slack_ctx, "acme")
    assert view.purchased_minutes == 900 and [b.reference for b in view.blocks] == [None, "INV-5"]


def test_a_forged_topup_submission_from_a_technician_is_refused(
    slack: SlackDriver, slack_ctx: Context, acme: str
) -> None:
    body = slack.submit("topup_modal", {"client": static_select("acme"), "hours": text_state("50")}, user="UTECH").json
    assert body["response_action"] == "errors" and "Only account managers" in body["errors"]["client"]
    assert balance_of(slack_ctx, "acme").purchased_minutes == 600


def test_home_buttons_open_the_modals(slack: SlackDriver, fake_slack: FakeSlack, acme: str) -> None:
    slack.click("home_log_time", user="UTECH")
    view = fake_slack.wait_for("views.open")[0].params["view"]
    assert_valid_view(view) and view["callback_id"] == "log_modal"  # type: ignore[func-returns-value]
    slack.click("home_top_up", user="UTECH")
    refusal = fake_slack.wait_for("chat.postMessage")[0].params
    assert refusal["channel"] == "UTECH" and "Only account managers" in refusal["text"]
    slack.click("home_top_up", user="UMGR")
    assert fake_slack.wait_for("views.open", 2)[-1].params["view"]["callback_id"] == "topup_modal"


def test_the_log_modal_logs_time(slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str) -> None:
    values = {
        "client": static_select("acme"),
        "duration": text_state("1h30m"),
        "work_date": {"type": "datepicker", "selected_date": "2026-11-24"},
        "note": text_state("onsite #55"),
        "non_billable": {"type": "checkboxes", "selected_options": []},
    }
    assert slack.submit("log_modal", values, user="UTECH", view_id="V9").status == 200
    dm = fake_slack.wait_for("chat.postMessage")[0].params
    assert dm["channel"] == "UTECH" and "1h30m" in dm["text"]
    entry = balance_of(slack_ctx, "acme").last_entries[0]
    assert (entry.minutes, str(entry.work_date), entry.ticket) == (90, "2026-11-24", "#55")


def test_home_refreshes_come_in_rounds_one_dashboard_for_everyone_waiting(
    slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    """The first change publishes at once; changes soon after wait for one round (at most ``gap``
    later), which publishes the same fresh dashboard to each of those users; a user who changes again
    while cooling down is published once more when the cooldown ends."""
    from bot.app import make_web_client
    from handlers.deps import AfterAck
    from handlers.home import HomeRefresher
    from handlers.people import People

    fake_slack.reset()
    client = make_web_client(slack_ctx.settings)

    def published() -> list[str]:
        return [c.params["user_id"] for c in fake_slack.calls if c.method == "views.publish"]

    later = AfterAck(2)
    try:
        refresher = HomeRefresher(slack_ctx, client, People(client), later, gap=0.5, cooldown=2.0)
        refresher.changed("U1")
        first = fake_slack.wait_for("views.publish", 1)
        do(slack_ctx, Actor("U2", "Two"), "logtime acme 30m cabling")
        for user in ("U2", "U3", "U2"):
            refresher.changed(user)
        calls = fake_slack.wait_for("views.publish", 3)
        # U2's second change waits for its cooldown: U4, changed now, has the next round (``gap``
        # later, well inside U2's cooldown), and nobody is published before it
        refresher.changed("U4")
        fake_slack.wait_for("views.publish", 4)
        assert published() == ["U1", "U2", "U3", "U4"]
        fake_slack.wait_for("views.publish", 5, timeout=5)
        # ... then U2 once at its cooldown's end, and nobody else at theirs: U5, changed now, has the
        # next round, and nobody is published between U2 and U5
        refresher.changed("U5")
        fake_slack.wait_for("views.publish", 6, timeout=5)
        assert published() == ["U1", "U2", "U3", "U4", "U2", "U5"]
    finally:
        later.finish()
    assert first[0].params["view"] != calls[1].params["view"]  # the round computed a fresh dashboard
    two, three = calls[1].params["view"], calls[2].params["view"]
    assert _balances(two) == _balances(three)  # one dashboard for the round
    assert "Your entries today" in json.dumps(two) and "Your entries today" not in json.dumps(three)  # each one's own
    assert "9h 30m" in json.dumps(_balances(two))


def _balances(view: dict) -> list:  # type: ignore[type-arg]
    """The dashboard's part of a Home tab: from its "Balances" heading on."""
    blocks = view["blocks"]
    start = next(i for i, b in enumerate(blocks) if "Balances, lowest first" in json.dumps(b))
    return blocks[start:]


def test_slack_failing_after_the_ack_is_a_warning_not_a_crash(
    slack: SlackDriver, fake_slack: FakeSlack, acme: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The technician's refusal note cannot be posted while Slack answers 500: the click was already
    acknowledged, and the failure is logged as Slack's, not as a bug of ours."""
    fake_slack.fail("chat.postMessage", 500, times=10)
    with caplog.at_level(logging.WARNING, logger="blocktime"):
        reply = slack.click("home_top_up", user="UTECH")
        assert reply.status == 200
        failed = eventually(
            lambda: [r for r in caplog.records if "Slack Web API failed" in r.message],
            message="no 'Slack Web API failed' was logged",
        )
    assert failed[0].levelno == logging.WARNING and "internal_error" in failed[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("blocktime")]
