"""Overage under control (issue 26, part 6) over signed HTTP through the real Bolt app, with the fake
Slack Web API answering in Slack's shapes: the technician's confirmation says how far over the client
is, time past the hold is refused the same way from a slash command, a thread line, the log form and
the CLI, and the client-safe card in the client's shared channel carries **Approve up to 2 more
hours**, which only a Slack Connect member of that channel can use, once. Guests and Slack Connect
members are refused every other command and button."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.domain.commands import Link
from bot.services import Actor, Context
from bot.services.channels import link_channel
from bot.services.overage import approval_value
from storage.models import AuditLog, Client, LedgerLine
from tests.e2e.processes import Cli
from tests.e2e.slack_harness import (
    SlackDriver,
    assert_valid_message,
    date_state,
    static_select,
    text_state,
    thread_message,
)
from tests.fakes.slack_api import FakeSlack
from tests.helpers import balance_of, do, entry_count

CHANNEL, OTHER_CHANNEL = "CACME", "CGLOBEX"  # shared with Acme's and Globex's organisations
GUEST, EXTERNAL, OTHER_CLIENT = "UGUEST", "UEXT", "UGLOBEXC"
HELD = "Acme Corp is 2h over; ask an account manager or the client to approve more"
APPROVE = "overage_client_approve"


@pytest.fixture
def held(slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str) -> str:
    """Acme (10h) at its hold of 2h overage, with client-approves on; its channel is shared with Acme's
    organisation (Slack Connect), Eve of Acme a member; Globex's channel with Gil of Globex."""
    fake_slack.names.update({GUEST: "Gina Guest", EXTERNAL: "Eve Client", OTHER_CLIENT: "Gil Globex"})
    fake_slack.user_facts[GUEST] = {"is_restricted": True}
    fake_slack.user_facts[EXTERNAL] = {"team_id": "TACME", "profile": {"real_name": "Eve Client", "team": "TACME"}}
    fake_slack.user_facts[OTHER_CLIENT] = {"team_id": "TGLOBEX", "profile": {"real_name": "Gil", "team": "TGLOBEX"}}
    for channel, team in ((CHANNEL, "TACME"), (OTHER_CHANNEL, "TGLOBEX")):
        fake_slack.channel_facts[channel] = {
            "is_shared": True,
            "is_ext_shared": True,
            "connected_team_ids": ["T0", team],
        }
    fake_slack.members[CHANNEL] = ["UTECH", "UMGR", GUEST, EXTERNAL]
    fake_slack.members[OTHER_CHANNEL] = ["UTECH", OTHER_CLIENT]
    admin = Actor.local_admin()
    do(slack_ctx, admin, "client add globex Globex Inc")
    do(slack_ctx, admin, "client set acme overdraft unlimited hold-at 2h client-approves on")
    link_channel(slack_ctx, Actor("UADMIN"), CHANNEL, Link("acme"))
    link_channel(slack_ctx, Actor("UADMIN"), OTHER_CHANNEL, Link("globex"))
    reply = slack.command("/logtime", "acme 12h datacentre move", user="UTECH")
    assert "2h of it is overage (no block left to draw from): Acme Corp is 2h over so far." in text_of(reply)
    assert "New time is now on hold until an account manager or the client approves more." in text_of(reply)
    return CHANNEL


def text_of(reply: Any) -> str:
    assert reply.status == 200, reply.body
    body = reply.json
    assert_valid_message(body.get("blocks", []), body.get("text"))
    return body.get("text", "") + " " + json.dumps(body.get("blocks", []))


def written(ctx: Context) -> tuple[int, int, int, int]:
    """Entries, ledger lines, the client's used and approved minutes."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        lines = int(uow.session.scalar(select(func.count()).select_from(LedgerLine)) or 0)
        row = uow.session.execute(
            select(Client.used_minutes, Client.hold_approved_minutes).where(Client.handle == "acme")
        ).one()
    return entry_count(ctx), lines, row[0], row[1]


def card_button(slack: SlackDriver, user: str = "UTECH", channel: str = CHANNEL) -> dict[str, Any]:
    """The Approve button of the client card posted in ``channel``."""
    card = slack.command("/balance", "public", user=user, channel=channel).json
    assert_valid_message(card["blocks"], card["text"])
    buttons = [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == [APPROVE]
    return buttons[0]


def click(slack: SlackDriver, value: str, user: str, channel: str = CHANNEL, action_ts: str | None = None) -> Any:
    """The client card's button clicked, as Slack sends it (a retry sends the very same payload)."""
    return slack.interaction(
        {
            "type": "block_actions",
            "team": {"id": "T0"},
            "user": {"id": user, "name": user.lower()},
            "api_app_id": "A0",
            "trigger_id": f"trig.{uuid.uuid4().hex}",
            "container": {"type": "message", "message_ts": "1764000000.000100", "channel_id": channel},
            "channel": {"id": channel},
            "message": {"ts": "1764000000.000100", "text": "Acme Corp", "blocks": []},
            "response_url": slack.fake.response_url("action"),
            "actions": [
                {
                    "type": "button",
                    "action_id": APPROVE,
                    "block_id": "b",
                    "value": value,
                    "action_ts": action_ts or f"{time.time():.6f}",
                }
            ],
        }
    )


def answer(fake: FakeSlack, count: int = 1) -> dict[str, Any]:
    return fake.wait_for("response_url", count)[-1].params


# -- the hold, whatever sends the time -------------------------------------------------------------------


def test_a_held_client_refuses_new_time_from_a_slash_command_a_thread_line_and_the_log_form(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, held: str
) -> None:
    before = written(slack_ctx)
    refused = text_of(slack.command("/logtime", "acme 15m one more thing", user="UTECH"))
    assert f"Not recorded: {HELD}." in refused and "Logged" not in refused
    event = thread_message("+15m patched it", channel=CHANNEL, thread_ts="1764000000.000100", user="UTECH")
    assert slack.event(event).status == 200
    note = fake_slack.wait_for("chat.postEphemeral")[0].params
    assert note["user"] == "UTECH" and HELD in note["text"]
    values = {
        "client": static_select("acme"),
        "duration": text_state("30m"),
        "work_date": {"type": "datepicker", "selected_date": "2026-11-24"},
        "note": text_state("onsite"),
        "non_billable": {"type": "checkboxes", "selected_options": []},
    }
    form = slack.submit("log_modal", values, user="UTECH").json
    assert form["response_action"] == "errors" and HELD in json.dumps(form["errors"])
    assert written(slack_ctx) == before


def test_the_cli_is_held_by_the_same_rule(slack_ctx: Context, held: str, cli: Cli) -> None:
    before = written(slack_ctx)
    done = cli.run("--as", "UTECH", "logtime", "acme", "15m", "late", "fix")
    assert done.returncode != 0 and HELD in done.stdout + done.stderr
    refused = cli.run("--json", "logtime", "acme", "15m", "late", "fix")
    assert refused.returncode != 0 and HELD in json.loads(refused.stdout)["error"]
    assert written(slack_ctx) == before
    shown = cli.json("client", "show", "acme")
    assert (shown["hold_at_minutes"], shown["hold_at_percent"], shown["client_approves"]) == (120, None, True)


def test_a_manager_approves_2h_then_2h_more_logs_and_the_third_entry_is_refused(
    slack: SlackDriver, slack_ctx: Context, held: str
) -> None:
    tech = text_of(slack.command("/blocktime", "approve acme 2h", user="UTECH"))
    assert "Only account managers and admins can approve more overage" in tech
    approved = text_of(slack.command("/blocktime", "approve acme 2h", user="UMGR"))
    assert "2h more overage approved for Acme Corp" in approved
    assert "Logged" in text_of(slack.command("/logtime", "acme 1h first", user="UTECH"))
    assert "Logged" in text_of(slack.command("/logtime", "acme 1h second", user="UTECH"))
    third = text_of(slack.command("/logtime", "acme 15m third", user="UTECH"))
    assert "Acme Corp is 4h over; ask an account manager or the client to approve more" in third


def test_an_edit_past_the_hold_is_refused_from_the_slash_command_and_the_home_form(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, held: str
) -> None:
    approved = text_of(slack.command("/blocktime", "approve acme 1h", user="UMGR"))
    assert "1h more overage approved for Acme Corp" in approved
    assert "Logged" in text_of(slack.command("/logtime", "acme 30m cabling", user="UTECH"))  # 2h 30m over
    cabling = balance_of(slack_ctx, "acme").last_entries[0]
    before = written(slack_ctx)
    refused = text_of(slack.command("/blocktime", f"edit {cabling.id} 1h30m cabling", user="UTECH"))
    assert f"Not recorded: {HELD}." in refused and "Logged" not in refused
    assert "This entry would take the overage to 3h 30m, past its hold at 2h + 1h approved." in refused
    slack.click("home_edit_entry", str(cabling.id), home=True)
    form = fake_slack.wait_for("views.open")[-1].params["view"]
    form = json.loads(form) if isinstance(form, str) else form
    assert form["callback_id"] == "edit_entry_modal"
    values = {"duration": text_state("1h30m"), "work_date": date_state("2026-11-25"), "note": text_state("cabling")}
    submitted = slack.submit("edit_entry_modal", values, view_id="VEDIT", metadata=form["private_metadata"]).json
    assert submitted["response_action"] == "errors" and HELD in json.dumps(submitted["errors"])
    slack.settle()
    assert written(slack_ctx) == before  # the entry stands as it was: 30m, not voided
    entry = balance_of(slack_ctx, "acme").last_entries[0]
    assert (entry.id, entry.minutes, entry.voided) == (cabling.id, 30, False)


def test_a_timer_stopped_past_the_hold_is_refused_from_the_command_and_its_button(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, clock: FixedClock, held: str
) -> None:
    started = slack.command("/logtime", "start acme printer fix", user="UTECH").json
    assert "Timer started for Acme Corp" in started["text"]
    stop = next(
        e for b in started["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == "timer_stop"
    )
    clock.advance(minutes=40)
    before = written(slack_ctx)
    refused = text_of(slack.command("/logtime", "stop", user="UTECH"))
    assert f"Not recorded: {HELD}." in refused and "Logged" not in refused
    fake_slack.reset()
    assert slack.click("timer_stop", stop["value"], user="UTECH").status == 200
    assert HELD in answer(fake_slack)["text"]
    slack.settle()
    assert written(slack_ctx) == before
    assert "40m" in text_of(slack.command("/logtime", "timer", user="UTECH"))  # the timer still runs: no time lost


# -- the client's own approval ----------------------------------------------------------------------------


def test_a_slack_connect_member_of_the_channel_approves_once_by_name(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, held: str
) -> None:
    button = card_button(slack)
    assert button["text"]["text"] == "Approve up to 2 more hours"
    value, action_ts = button["value"], "1764000100.000200"
    assert click(slack, value, EXTERNAL, action_ts=action_ts).status == 200
    done = answer(fake_slack)
    assert done.get("replace_original") is True and "Approved by Eve Client: up to 2 more hours of work" in json.dumps(
        done
    )
    assert written(slack_ctx)[3] == 120
    with slack_ctx.db.unit_of_work(read_only=True) as uow:
        rows = list(uow.session.scalars(select(AuditLog).where(AuditLog.action == "overage_approve")))
        assert [(r.actor, json.loads(r.after or "{}")["name"]) for r in rows] == [(EXTERNAL, "Eve Client")]
    # Slack's retry of the same click, and a second click, approve nothing more
    assert click(slack, value, EXTERNAL, action_ts=action_ts).status == 200
    assert click(slack, value, EXTERNAL).status == 200
    again = answer(fake_slack, 3)
    assert again.get("replace_original") is False and "already given" in again["text"]
    assert written(slack_ctx)[3] == 120
    assert "Logged" in text_of(slack.command("/logtime", "acme 2h cutover", user="UTECH"))
    assert HELD.replace("2h over", "4h over") in text_of(slack.command("/logtime", "acme 15m more", user="UTECH"))


@pytest.mark.parametrize(
    ("user", "channel", "why"),
    [
        (GUEST, CHANNEL, "account managers approve"),  # a guest of the MSP's workspace, in the channel
        ("UTECH", CHANNEL, "account managers approve"),  # staff approve with `approve`
        ("UMGR", CHANNEL, "account managers approve"),
        (OTHER_CLIENT, CHANNEL, "ask your account manager"),  # another client's contact: not a member here
        (EXTERNAL, OTHER_CHANNEL, "ask your account manager"),  # Acme's button from Globex's channel
        (EXTERNAL, "CGENERAL", "ask your account manager"),  # from a channel linked to no client
    ],
)
def test_the_client_approval_is_refused_to_anyone_else_and_anywhere_else(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, held: str, user: str, channel: str, why: str
) -> None:
    fake_slack.members.setdefault("CGENERAL", []).append(EXTERNAL)
    value = card_button(slack)["value"]
    before = written(slack_ctx)
    assert click(slack, value, user, channel=channel).status == 200
    refused = answer(fake_slack)
    assert why in refused["text"].lower() or why in refused["text"]
    assert refused.get("replace_original") is False
    assert written(slack_ctx) == before


def test_a_forged_or_stale_approval_changes_nothing(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, held: str
) -> None:
    client_id, minutes, approved, overage = card_button(slack)["value"].split(":")
    before = written(slack_ctx)
    for forged in (f"{client_id}:6000:{approved}:{overage}", "x", f"{client_id}:{minutes}:{approved}:1"):
        assert click(slack, forged, EXTERNAL).status == 200
    answers = fake_slack.wait_for("response_url", 3)
    assert all(a.params.get("replace_original") is False for a in answers)
    assert written(slack_ctx) == before


def test_the_card_carries_no_button_without_client_approves_or_while_hours_are_left(
    slack: SlackDriver, slack_ctx: Context, held: str
) -> None:
    do(slack_ctx, Actor.local_admin(), "client set acme client-approves off")
    card = slack.command("/balance", "public", user="UTECH", channel=CHANNEL).json
    assert APPROVE not in json.dumps(card)
    do(slack_ctx, Actor.local_admin(), "client set acme client-approves on")
    do(slack_ctx, Actor.local_admin(), "topup acme 10")
    assert APPROVE not in json.dumps(slack.command("/balance", "public", user="UTECH", channel=CHANNEL).json)


# -- client contacts change nothing else ------------------------------------------------------------------


@pytest.mark.parametrize("user", [GUEST, EXTERNAL])
def test_a_guest_and_a_slack_connect_member_are_refused_every_other_command_and_button(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, held: str, user: str
) -> None:
    before = written(slack_ctx)
    for command, text in (
        ("/blocktime", "approve acme 2h"),
        ("/blocktime", "client set acme hold-at none"),
        ("/blocktime", "client set acme client-approves off"),
        ("/logtime", "acme 1h"),
        ("/logtime", "1h"),
        ("/topup", "acme 10"),
        ("/blocktime", "void 1"),
        ("/blocktime", "edit 1 1h"),
        ("/blocktime", "snooze acme"),
    ):
        shown = text_of(slack.command(command, text, user=user, channel=CHANNEL))
        assert "staff" in shown or "ask your account manager" in shown.lower(), (command, text)
    buttons = (
        ("undo_entry", "1"),
        ("psa_retry", "all"),
        ("alert_add_hours", "acme"),
        ("alert_snooze", "acme"),
        ("alert_entries", "acme"),
        ("timer_stop", "2026-11-25T15:00:00+00:00"),
        ("timer_discard", "2026-11-25T15:00:00+00:00"),
    )
    for action, value in buttons:
        assert slack.click(action, value, user=user, channel=CHANNEL).status == 200
    for action in ("home_void_entry", "home_edit_entry", "home_top_up", "home_log_time"):
        assert slack.click(action, "1", user=user, home=True).status == 200
    slack.settle()
    assert written(slack_ctx) == before
    with slack_ctx.db.unit_of_work(read_only=True) as uow:
        client = uow.session.scalar(select(Client).where(Client.handle == "acme"))
        assert client is not None and (client.hold_at_minutes, client.client_approves) == (120, True)
        assert client.alerts_snoozed_until is None


def test_no_approval_is_offered_or_taken_while_hours_wait_for_payment(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, held: str
) -> None:
    """Pay-first with an unpaid block waiting: the card says 0m left, but that is the invoice's
    business: it offers no approval, and a click with the value it would have carried changes nothing."""
    stale = card_button(slack)["value"]
    admin = Actor.local_admin()
    do(slack_ctx, admin, "client set acme pay-first on")
    do(slack_ctx, admin, "topup acme 10h unpaid invoice INV-1042")
    view = balance_of(slack_ctx, "acme")
    assert view.remaining_minutes <= 0 and view.held_for_payment_minutes == 600
    card = slack.command("/balance", "public", user="UTECH", channel=CHANNEL).json
    assert_valid_message(card["blocks"], card["text"])
    assert APPROVE not in json.dumps(card)
    with slack_ctx.db.unit_of_work(read_only=True) as uow:
        client = uow.session.scalars(select(Client).where(Client.handle == "acme")).one()
        value = approval_value(client.id, 120, client.hold_approved_minutes, client.open_overage_minutes)
    before = written(slack_ctx)
    for clicked in {stale, value}:
        assert click(slack, clicked, EXTERNAL).status == 200
    refused = answer(fake_slack, len({stale, value}))
    assert "ask your account manager" in refused["text"].lower()
    assert written(slack_ctx) == before


def test_a_channel_shared_with_more_than_one_organisation_takes_no_client_approval(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, held: str
) -> None:
    """Acme's channel also shared with Globex's organisation: Eve's click may not be Acme's word."""
    value = card_button(slack)["value"]
    fake_slack.channel_facts[CHANNEL]["connected_team_ids"] = ["T0", "TACME", "TGLOBEX"]
    before = written(slack_ctx)
    assert click(slack, value, EXTERNAL).status == 200
    refused = answer(fake_slack)
    assert "more than one organisation" in refused["text"] and "account manager must approve" in refused["text"]
    assert refused.get("replace_original") is False
    assert written(slack_ctx) == before
    fake_slack.channel_facts[CHANNEL]["connected_team_ids"] = ["T0", "TGLOBEX"]  # not Eve's organisation
    assert click(slack, value, EXTERNAL).status == 200
    assert "ask your account manager" in answer(fake_slack, 2)["text"].lower()
    assert written(slack_ctx) == before


def test_the_client_approves_at_most_one_hold_size_a_run_into_overage(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, held: str
) -> None:
    """Eve approves 2h; a refreshed card offers nothing more (nor after a manager's approval), and a
    click built on today's figures is refused; once the overage is paid off, the next run offers it again."""
    assert click(slack, card_button(slack)["value"], EXTERNAL).status == 200
    assert "Approved by Eve Client" in json.dumps(answer(fake_slack))
    assert "Logged" in text_of(slack.command("/logtime", "acme 2h cutover", user="UTECH"))
    do(slack_ctx, Actor.local_admin(), "approve acme 1h")

    def current_value() -> str:
        with slack_ctx.db.unit_of_work(read_only=True) as uow:
            client = uow.session.scalars(select(Client).where(Client.handle == "acme")).one()
            return approval_value(client.id, 120, client.hold_approved_minutes, client.open_overage_minutes)

    card = slack.command("/balance", "public", user="UTECH", channel=CHANNEL).json
    assert_valid_message(card["blocks"], card["text"])
    assert APPROVE not in json.dumps(card)
    before = written(slack_ctx)
    assert before[3] == 180
    assert click(slack, current_value(), EXTERNAL).status == 200
    assert "ask your account manager" in answer(fake_slack, 2)["text"].lower()
    assert written(slack_ctx) == before
    do(slack_ctx, Actor.local_admin(), "topup acme 10")  # pays the 4h overage off: approvals spent
    assert written(slack_ctx)[3] == 0
    assert "Logged" in text_of(slack.command("/logtime", "acme 8h rebuild", user="UTECH"))  # 2h over again
    assert card_button(slack)["text"]["text"] == "Approve up to 2 more hours"
