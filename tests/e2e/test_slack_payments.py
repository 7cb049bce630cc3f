"""Paid and unpaid blocks (issue 26, part 1) through the real Bolt app over signed HTTP and the fake Web
API: the slash command, the top-up form's payment choice, the **Mark paid** button in App Home and in
the managers' digest (managers only: a technician, a guest and a Slack Connect member are refused, and
nothing changes), and the technician's confirmation under pay-first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest

from bot.bootstrap import transports_for
from bot.clock import FixedClock
from bot.jobs.dispatcher import Dispatcher
from bot.jobs.scheduler import run_job
from bot.services import Actor, Context
from storage.db import Database
from tests.e2e.slack_harness import (
    RunningApp,
    SlackDriver,
    assert_valid_message,
    assert_valid_view,
    static_select,
    text_state,
)
from tests.fakes.slack_api import FakeSlack
from tests.helpers import balance_of, do

GUEST, EXTERNAL = "UGUEST", "UEXT"


@pytest.fixture
def pay_ctx(database: Database, slack_ctx: Context, clock: FixedClock) -> Context:
    """Managers' digest to CMANAGERS; Acme with an unpaid block 1 of 10h (invoice INV-1042)."""
    ctx = Context(database, replace(slack_ctx.settings, managers_channel="CMANAGERS"), clock)
    admin = Actor.local_admin()
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "topup acme 10h unpaid invoice INV-1042")
    do(ctx, admin, "role <@UMGR> manager")
    return ctx


@pytest.fixture
def pay_slack(pay_ctx: Context, fake_slack: FakeSlack) -> Iterator[SlackDriver]:
    fake_slack.reset()
    fake_slack.names.update({"UTECH": "Tess Tech", "UMGR": "Max Manager", GUEST: "Gina Guest", EXTERNAL: "Eve"})
    fake_slack.user_facts[GUEST] = {"is_restricted": True, "is_ultra_restricted": True}
    fake_slack.user_facts[EXTERNAL] = {"team_id": "TCLIENT", "profile": {"real_name": "Eve Client", "team": "TCLIENT"}}
    running = RunningApp(pay_ctx)
    yield SlackDriver(running.port, fake_slack, running.app)
    running.stop()


def _text(reply) -> str:  # type: ignore[no-untyped-def]
    assert reply.status == 200, reply.body
    body = reply.json
    assert_valid_message(body.get("blocks", []), body.get("text"))
    return body.get("text", "") + " " + json.dumps(body.get("blocks", []))


def _paid(ctx: Context) -> bool:
    return bool(balance_of(ctx, "acme").blocks[0].paid)


def _home(slack: SlackDriver, fake: FakeSlack, user: str) -> dict:  # type: ignore[type-arg]
    before = len(fake.of("views.publish"))
    slack.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home", "event_ts": "1.1"})
    view = fake.wait_for("views.publish", before + 1)[-1].params["view"]
    assert_valid_view(view)
    return view  # type: ignore[no-any-return]


def _mark_paid_buttons(blocks: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    return [
        b["accessory"]
        for b in blocks
        if b.get("type") == "section" and (b.get("accessory") or {}).get("action_id") == "block_mark_paid"
    ]


def test_the_slash_command_tops_up_unpaid_and_a_manager_marks_it_paid(pay_slack: SlackDriver, pay_ctx: Context) -> None:
    text = _text(pay_slack.command("/topup", "acme 5 unpaid ref INV-7", user="UMGR"))
    assert "Unpaid: `block paid acme 2` marks it paid." in text
    assert "(15h unpaid)" in _text(pay_slack.command("/balance", "acme"))
    done = _text(pay_slack.command("/blocktime", "block paid acme 2", user="UMGR"))
    assert "Block 2 of Acme Corp (5h, INV-7) marked paid. Acme Corp: 15h left (10h unpaid)." in done
    refused = _text(pay_slack.command("/blocktime", "block unpaid acme 2 typo", user="UMGR"))
    assert "Only admins can mark a paid block unpaid" in refused


def test_the_top_up_form_offers_paid_or_unpaid_and_records_the_choice(
    pay_slack: SlackDriver, pay_ctx: Context, fake_slack: FakeSlack
) -> None:
    pay_slack.command("/topup", "", user="UMGR", trigger_id="trig.form")
    view = fake_slack.wait_for("views.open")[0].params["view"]
    assert_valid_view(view)
    payment = next(b for b in view["blocks"] if b["block_id"] == "paid")
    assert [o["value"] for o in payment["element"]["options"]] == ["paid", "unpaid"]
    assert payment["element"]["initial_option"]["value"] == "paid"
    values = {
        "client": static_select("acme"),
        "hours": text_state("5"),
        "paid": static_select("unpaid"),
        "expires": {"type": "datepicker", "selected_date": None},
        "price": text_state(None),
        "reference": text_state("INV-9"),
        "note": text_state(None),
    }
    reply = pay_slack.submit("topup_modal", values, user="UMGR", view_id="V9")
    assert reply.status == 200 and not reply.body
    blocks = {b.reference: b.paid for b in balance_of(pay_ctx, "acme").blocks}
    assert blocks == {"INV-1042": False, "INV-9": False}


def test_app_home_offers_mark_paid_to_managers_only_and_the_click_marks_it_once(
    pay_slack: SlackDriver, pay_ctx: Context, fake_slack: FakeSlack
) -> None:
    assert _mark_paid_buttons(_home(pay_slack, fake_slack, "UTECH")["blocks"]) == []
    home = _home(pay_slack, fake_slack, "UMGR")
    assert "(10h unpaid)" in json.dumps(home)
    [button] = _mark_paid_buttons(home["blocks"])
    assert button["value"] == "acme 1"
    pay_slack.click("block_mark_paid", button["value"], user="UMGR", home=True)
    dm = fake_slack.wait_for("chat.postMessage")[-1].params
    assert dm["channel"] == "UMGR" and "Block 1 of Acme Corp (10h, INV-1042) marked paid." in dm["text"]
    assert _paid(pay_ctx)
    pay_slack.click("block_mark_paid", button["value"], user="UMGR", home=True)
    again = fake_slack.wait_for("chat.postMessage", 2)[-1].params
    assert "is already paid" in again["text"]
    assert _mark_paid_buttons(_home(pay_slack, fake_slack, "UMGR")["blocks"]) == []


@pytest.mark.parametrize("user", ["UTECH", GUEST, EXTERNAL])
def test_the_mark_paid_button_and_block_paid_are_refused_to_all_but_managers(
    pay_slack: SlackDriver, pay_ctx: Context, fake_slack: FakeSlack, user: str
) -> None:
    pay_slack.click("block_mark_paid", "acme 1", user=user, channel="CMANAGERS")
    said = fake_slack.wait_for("response_url")[-1].params["text"]
    expected = "Only account managers" if user == "UTECH" else "Only the MSP's staff"
    assert expected in said, said
    typed = _text(pay_slack.command("/blocktime", "block paid acme 1", user=user))
    assert expected in typed or "For your hours, ask your account manager" in typed
    assert not _paid(pay_ctx)


def test_a_forged_mark_paid_value_is_refused_and_changes_nothing(
    pay_slack: SlackDriver, pay_ctx: Context, fake_slack: FakeSlack
) -> None:
    pay_slack.click("block_mark_paid", "acme 1; block unpaid acme 1", user="UMGR", channel="CMANAGERS")
    said = fake_slack.wait_for("response_url")[-1].params["text"]
    assert "is not a block number" in said
    assert not _paid(pay_ctx)


def test_the_digest_lists_unpaid_blocks_with_mark_paid(
    pay_slack: SlackDriver, pay_ctx: Context, fake_slack: FakeSlack
) -> None:
    run_job(pay_ctx, "digest", date(2026, 11, 25))
    Dispatcher(pay_ctx, transports_for(pay_ctx)).run_once()
    digest = [c for c in fake_slack.of("chat.postMessage") if c.params.get("channel") == "CMANAGERS"][-1].params
    assert_valid_message(digest["blocks"], digest["text"])
    assert "1 block waiting for payment" in digest["text"]
    [button] = _mark_paid_buttons(digest["blocks"])
    assert "INV-1042" in json.dumps(digest["blocks"])
    pay_slack.click("block_mark_paid", button["value"], user="UMGR", channel="CMANAGERS")
    answer = fake_slack.wait_for("response_url")[-1].params
    assert "marked paid" in answer["text"]
    assert _paid(pay_ctx)


def test_under_pay_first_the_technicians_confirmation_says_the_unpaid_block_is_waiting(
    pay_slack: SlackDriver, pay_ctx: Context
) -> None:
    do(pay_ctx, Actor.local_admin(), "client set acme pay-first on overdraft 5h")
    text = _text(pay_slack.command("/logtime", "acme 1h printer"))
    assert "Acme Corp has 10h unpaid waiting for payment (pay-first); this went to overage." in text
    assert balance_of(pay_ctx, "acme").remaining_minutes == -60
