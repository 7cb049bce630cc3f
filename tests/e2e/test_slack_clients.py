"""Who may touch a client's hours (issue 14), over signed HTTP with the fake Slack Web API answering in
Slack's own shapes: guests (``is_restricted``, ``is_ultra_restricted``), members of another
organisation (Slack Connect: another ``team_id``, ``user_team`` on their events, ``is_ext_shared``
channels), deactivated users, and users.info failing. Staff are unaffected; client contacts write
nothing and see at most their own client's card."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.commands import Link
from bot.jobs.scheduler import run_job
from bot.services import Actor, Context
from bot.services.channels import link_channel
from storage.models import OutboxMessage
from tests.e2e.slack_harness import (
    SlackDriver,
    assert_valid_message,
    assert_valid_view,
    date_state,
    external_select,
    text_state,
    thread_message,
)
from tests.fakes.slack_api import FakeSlack
from tests.helpers import balance_of, do, entry_count

CHANNEL = "CACME"  # linked to acme
THREAD = "1700000000.000100"
GUEST, EXTERNAL, GONE = "UGUEST", "UEXT", "UGONE"


@pytest.fixture
def people(fake_slack: FakeSlack, slack: SlackDriver) -> FakeSlack:
    fake_slack.names.update({GUEST: "Gina Guest", EXTERNAL: "Eve Client", GONE: "Gone Person"})
    fake_slack.user_facts[GUEST] = {"is_restricted": True, "is_ultra_restricted": True}
    fake_slack.user_facts[EXTERNAL] = {"team_id": "TCLIENT", "profile": {"real_name": "Eve Client", "team": "TCLIENT"}}
    fake_slack.user_facts[GONE] = {"deleted": True}
    return fake_slack


@pytest.fixture
def linked(slack_ctx: Context, acme: str, people: FakeSlack) -> str:
    admin = Actor.local_admin()
    do(slack_ctx, admin, "client add globex Globex Inc")
    do(slack_ctx, admin, "topup globex 20")
    link_channel(slack_ctx, Actor("UADMIN"), CHANNEL, Link("acme"))
    return CHANNEL


def text_of(reply: Any) -> str:
    assert reply.status == 200, reply.body
    body = reply.json
    assert_valid_message(body.get("blocks", []), body.get("text"))
    return body.get("text", "") + " " + json.dumps(body.get("blocks", []))


def thread_reply(text: str, user: str, ts: str = "1700000100.000200", **extra: Any) -> dict[str, Any]:
    return thread_message(text, channel=CHANNEL, thread_ts=THREAD, user=user, ts=ts, **extra)


# -- writes are staff's only -------------------------------------------------------------------------------


def test_a_slack_connect_member_cannot_log_time_in_a_ticket_thread(
    slack: SlackDriver, slack_ctx: Context, people: FakeSlack, linked: str
) -> None:
    event = thread_reply("+2h you owe us nothing", EXTERNAL, user_team="TCLIENT", source_team="TCLIENT")
    assert slack.event(event | {"is_ext_shared_channel": True}).status == 200
    note = people.wait_for("chat.postEphemeral")[0].params
    assert note["user"] == EXTERNAL and "Only the MSP's staff" in note["text"]
    assert entry_count(slack_ctx) == 0
    assert people.of("reactions.add") == [] and people.of("chat.postMessage") == []


@pytest.mark.parametrize("user", [GUEST, EXTERNAL, GONE])
def test_someone_who_is_not_staff_cannot_log_time_by_command(
    slack: SlackDriver, slack_ctx: Context, people: FakeSlack, linked: str, user: str
) -> None:
    for text, channel in (("acme 3h", "CGENERAL"), ("3h", CHANNEL)):
        answer = text_of(slack.command("/logtime", text, user=user, channel=channel))
        assert "Only the MSP's staff can" in answer and "Logged" not in answer
    assert slack.event(thread_reply("+1h fixed it", user)).status == 200
    people.wait_for("chat.postEphemeral")
    assert entry_count(slack_ctx) == 0 and people.of("reactions.add") == []


def test_a_guest_cannot_read_another_clients_balance_or_any_list(
    slack: SlackDriver, slack_ctx: Context, people: FakeSlack, linked: str
) -> None:
    for command, text in (
        ("/balance", "globex"),
        ("/balance", ""),
        ("/blocktime", "blocks globex"),
        ("/blocktime", "entries globex"),
        ("/blocktime", "clients"),
    ):
        answer = text_of(slack.command(command, text, user=GUEST, channel="CGENERAL"))
        assert "ask your account manager" in answer.lower(), (command, text)
        assert "Globex" not in answer and "20h" not in answer


@pytest.mark.parametrize(
    ("command", "text"),
    [("/topup", "acme 10"), ("/blocktime", "void 1"), ("/blocktime", "edit 1 2h"), ("/blocktime", "snooze acme")],
)
def test_a_guest_moves_no_hours_by_any_command(
    slack: SlackDriver, slack_ctx: Context, people: FakeSlack, linked: str, command: str, text: str
) -> None:
    do(slack_ctx, Actor("UTECH", "Tess Tech"), "logtime acme 1h printer")
    answer = text_of(slack.command(command, text, user=GUEST, channel=CHANNEL))
    assert "staff" in answer
    view = balance_of(slack_ctx, "acme")
    assert (view.purchased_minutes, view.used_minutes, entry_count(slack_ctx)) == (600, 60, 1)


def test_a_guest_cannot_undo_or_submit_a_log_modal(
    slack: SlackDriver, slack_ctx: Context, people: FakeSlack, linked: str
) -> None:
    entry = do(slack_ctx, Actor("UTECH", "Tess Tech"), "logtime acme 1h printer")
    assert slack.click("undo_entry", str(entry.entry_id), user=GUEST).status == 200
    refused = people.wait_for("response_url")[0].params
    assert "voided" not in refused["text"] and refused.get("replace_original") is False
    values = {
        "client": {"type": "static_select", "selected_option": {"value": "acme"}},
        "duration": {"type": "plain_text_input", "value": "5h"},
        "work_date": {"type": "datepicker", "selected_date": "2026-11-24"},
        "note": {"type": "plain_text_input", "value": "free hours"},
        "non_billable": {"type": "checkboxes", "selected_options": []},
    }
    reply = slack.submit("log_modal", values, user=GUEST)
    assert reply.json["response_action"] == "errors" and "staff" in reply.json["errors"]["duration"]
    assert entry_count(slack_ctx) == 1 and balance_of(slack_ctx, "acme").used_minutes == 60


@pytest.mark.parametrize("user", [GUEST, EXTERNAL])
def test_a_forged_psa_retry_tells_a_client_contact_nothing_about_the_configuration(
    slack: SlackDriver, people: FakeSlack, linked: str, user: str
) -> None:
    assert slack.click("psa_retry", "all", user=user, channel=CHANNEL).status == 200
    refused = people.wait_for("response_url")[0].params
    assert_valid_message(refused.get("blocks", []), refused["text"])
    assert "staff" in refused["text"] and "connected" not in json.dumps(refused)


def test_a_guests_home_tab_shows_no_client(slack: SlackDriver, people: FakeSlack, linked: str) -> None:
    slack.event({"type": "app_home_opened", "user": GUEST, "tab": "home", "channel": "D1"})
    view = people.wait_for("views.publish")[0].params["view"]
    assert_valid_view(view)
    shown = json.dumps(view)
    assert "Acme" not in shown and "Globex" not in shown and "account manager" in shown


def test_a_guest_given_a_role_works_as_staff_and_staff_are_unaffected(
    slack: SlackDriver, slack_ctx: Context, people: FakeSlack, linked: str
) -> None:
    assert "is now a technician" in text_of(slack.command("/blocktime", f"role <@{GUEST}> technician", user="UADMIN"))
    assert "Logged" in text_of(slack.command("/logtime", "acme 1h contractor work", user=GUEST))
    assert "Logged" in text_of(slack.command("/logtime", "acme 30m printer", user="UTECH"))
    assert balance_of(slack_ctx, "acme").used_minutes == 90


def test_a_member_of_another_organisation_is_never_given_a_role(
    slack: SlackDriver, slack_ctx: Context, people: FakeSlack, linked: str
) -> None:
    text_of(slack.command("/balance", "", user=EXTERNAL, channel=CHANNEL))  # Slack now told us who they are
    answer = text_of(slack.command("/blocktime", f"role <@{EXTERNAL}> technician", user="UADMIN"))
    assert "belongs to another organisation" in answer
    assert "Only the MSP's staff can" in text_of(slack.command("/logtime", "acme 1h", user=EXTERNAL))


def test_when_slack_cannot_say_who_someone_is_nothing_is_written(
    slack: SlackDriver, slack_ctx: Context, people: FakeSlack, linked: str
) -> None:
    people.fail("users.info", 500, times=10)
    reply = slack.command("/logtime", "acme 1h printer", user="UNEW")
    assert "could not verify you" in text_of(reply) and "nothing was recorded" in text_of(reply)
    assert entry_count(slack_ctx) == 0


def test_user_facts_are_cached_and_refreshed_when_slack_reports_a_change(
    slack: SlackDriver, slack_ctx: Context, people: FakeSlack, linked: str
) -> None:
    text_of(slack.command("/logtime", "acme 1h", user=GUEST))
    text_of(slack.command("/logtime", "acme 1h", user=GUEST))
    assert len([c for c in people.of("users.info") if c.params.get("user") == GUEST]) == 1
    promoted = {
        "id": GUEST,
        "team_id": "T0",
        "name": "gina",
        "real_name": "Gina Guest",
        "is_restricted": False,
        "is_ultra_restricted": False,
        "profile": {"real_name": "Gina Guest"},
    }
    slack.event({"type": "user_change", "user": promoted, "event_ts": "1700000300.000100"})
    slack.settle()  # Slack's news is taken once the event's work has ended
    assert "Logged" in text_of(slack.command("/logtime", "acme 1h", user=GUEST))
    assert entry_count(slack_ctx) == 1


# -- what the client may see ------------------------------------------------------------------------------


def test_staff_post_the_client_safe_card_in_the_linked_channel(
    slack: SlackDriver, slack_ctx: Context, people: FakeSlack, linked: str
) -> None:
    admin = Actor.local_admin()
    do(slack_ctx, admin, "client set acme manager <@UMGR>")
    do(slack_ctx, admin, "topup acme 5 expires 2026-12-31 price 900 ref INV-9")
    do(slack_ctx, Actor("UTECH", "Tess Tech"), "logtime acme 45m printer jam #4411")
    body = slack.command("/balance", "public", user="UTECH", channel=CHANNEL).json
    assert body["response_type"] == "in_channel"
    shown = text_of(slack.command("/balance", "public", user="UTECH", channel=CHANNEL))
    assert "Acme Corp" in shown and "14h 15m left" in shown and "4h 15m expire on 2026-12-31" in shown
    assert "Tess" in shown and "#4411" in shown and "45m" in shown
    for secret in ("Globex", "900", "INV-9", "UMGR", "overdraft", "printer jam", "Tess Tech"):
        assert secret not in shown, secret
    do(slack_ctx, admin, "client set acme client-notes on")
    assert "printer jam" in text_of(slack.command("/balance", "public", user="UTECH", channel=CHANNEL))
    elsewhere = text_of(slack.command("/balance", "acme public", user="UTECH", channel="CGENERAL"))
    assert "linked to the client" in elsewhere


def test_invisible_format_characters_in_a_note_never_reach_the_client_card(
    slack: SlackDriver, slack_ctx: Context, people: FakeSlack, linked: str
) -> None:
    do(slack_ctx, Actor.local_admin(), "client set acme client-notes on")
    logged = text_of(slack.command("/logtime", "acme 45m reset pay\u200bpal \u202eexe.pdf", user="UTECH"))
    assert "Logged" in logged
    card = slack.command("/balance", "public", user="UTECH", channel=CHANNEL).json
    assert_valid_message(card["blocks"], card["text"])
    shown = json.dumps(card, ensure_ascii=False)
    assert "reset paypal exe.pdf" in shown
    assert "\u202e" not in shown and "\u200b" not in shown


DISGUISED = "<https://evil.example|https://bank.example>"


def test_slack_markup_in_a_note_is_plain_words_on_the_card_and_no_label_disguises_a_link(
    slack: SlackDriver, slack_ctx: Context, people: FakeSlack, linked: str
) -> None:
    do(slack_ctx, Actor.local_admin(), "client set acme client-notes on")
    line = f"+45m reset for <@UALICE|alice> in <#CGEN|general>, see {DISGUISED} <!here>"
    event = thread_message(line, channel=CHANNEL, thread_ts="1795608000.000100", ts="1795615200.000200")
    assert slack.event(event).status == 200
    confirmation = people.wait_for("chat.postEphemeral")[0].params
    assert_valid_message(confirmation["blocks"], confirmation["text"])
    told = json.dumps(confirmation["blocks"], ensure_ascii=False)
    assert "Logged" in confirmation["text"] and "bank.example>" not in told  # the technician's confirmation
    assert "<https://evil.example>" in told and "<@UALICE>" in told and "<!here>" not in told

    card = slack.command("/balance", "public", user="UTECH", channel=CHANNEL).json
    assert_valid_message(card["blocks"], card["text"])
    shown = json.dumps(card["blocks"], ensure_ascii=False)
    assert "reset for @alice in #general, see https://bank.example (https://evil.example) @here" in shown
    assert "&lt;" not in shown and "<" not in shown


def test_client_contacts_see_their_own_card_only_when_allowed_and_only_in_their_channel(
    slack: SlackDriver, slack_ctx: Context, people: FakeSlack, linked: str
) -> None:
    admin = Actor.local_admin()
    assert "ask your account manager" in text_of(slack.command("/balance", "", user=GUEST, channel=CHANNEL)).lower()
    do(slack_ctx, admin, "client set acme client-view on")
    for user in (GUEST, EXTERNAL):
        body = slack.command("/balance", "", user=user, channel=CHANNEL).json
        assert body["response_type"] == "ephemeral" and "10h left" in body["text"]
        shown = text_of(slack.command("/balance", "globex", user=user, channel=CHANNEL))
        assert "Globex" not in shown and "ask your account manager" in shown.lower()
        elsewhere = text_of(slack.command("/balance", "acme", user=user, channel="CGENERAL"))
        assert "ask your account manager" in elsewhere.lower() and "10h" not in elsewhere


# -- alerts stay internal -----------------------------------------------------------------------------------


def test_a_shared_channel_is_refused_as_alert_channel_and_linking_it_says_where_alerts_go(
    slack: SlackDriver, slack_ctx: Context, people: FakeSlack, acme: str
) -> None:
    people.channel_facts["CSHARED"] = {"is_ext_shared": True, "is_shared": True}
    refused = text_of(slack.command("/blocktime", "client set acme channel <#CSHARED|acme-shared>", user="UADMIN"))
    assert "can't receive alerts" in refused and "Slack Connect" in refused
    linked = text_of(slack.command("/blocktime", "link acme", user="UADMIN", channel="CSHARED"))
    assert "is now linked" in linked and "the client reads it" in linked and "go to" in linked


def test_linking_a_channel_with_guests_warns_and_keeps_alerts_out(
    slack: SlackDriver, slack_ctx: Context, people: FakeSlack, acme: str
) -> None:
    people.members["CGUESTS"] = ["UTECH", GUEST]
    text_of(slack.command("/blocktime", "link acme", user="UADMIN", channel="CGUESTS"))
    warning = people.wait_for("chat.postEphemeral")[0].params
    assert warning["user"] == "UADMIN" and "guests" in warning["text"]


@pytest.mark.parametrize("user", [GUEST, "UTECH"])
def test_a_refused_link_says_nothing_about_the_channels_guests(
    slack: SlackDriver, slack_ctx: Context, people: FakeSlack, acme: str, user: str
) -> None:
    people.members["CGUESTS"] = ["UTECH", GUEST]
    refused = text_of(slack.command("/blocktime", "link acme", user=user, channel="CGUESTS"))
    assert "is now linked" not in refused and "guests" not in refused
    slack.settle()
    assert people.of("chat.postEphemeral") == []


def test_an_alert_for_a_client_whose_channel_is_shared_goes_to_the_internal_channel_only(
    slack_ctx: Context, fake_slack: FakeSlack
) -> None:
    from dataclasses import replace

    from bot.services.people import remember_channel

    ctx = Context(slack_ctx.db, replace(slack_ctx.settings, alert_channel="CINTERNAL"), slack_ctx.clock)
    admin = Actor.local_admin()
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "client set acme channel <#CSHARED>")  # before Slack said it was shared
    remember_channel(ctx, "CSHARED", True, "shared with another organisation (Slack Connect)")
    do(ctx, admin, "topup acme 10")
    do(ctx, admin, "logtime acme 6h migration")  # crosses 50%
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.destination == "slack"))
        targets = [(r.kind, r.target) for r in rows]
    assert targets == [("threshold", "CINTERNAL")]


def test_the_monthly_statement_goes_to_the_clients_channel_only_when_asked_and_client_safe(
    slack_ctx: Context, fake_slack: FakeSlack
) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    ctx = Context(slack_ctx.db, replace(slack_ctx.settings, alert_channel="CINTERNAL"), slack_ctx.clock)
    admin = Actor.local_admin()
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "client set acme manager <@UMGR> statement-to <#CACMESHARED>")
    do(ctx, admin, "topup acme 10")
    do(ctx, Actor("UTECH", "Tess Tech"), "logtime acme 1h printer")
    ctx.clock.at = datetime(2026, 12, 1, 8, tzinfo=UTC)  # type: ignore[attr-defined]
    run_job(ctx, "statement", ctx.today())
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = {r.kind: (r.target, r.payload) for r in uow.session.scalars(select(OutboxMessage))}
    assert rows["statement"][0] == "CINTERNAL" and rows["client_statement"][0] == "CACMESHARED"
    facts = json.loads(rows["client_statement"][1])
    assert "account_manager" not in facts and facts["by_technician"] == [["Tess", 60]]


def test_the_clients_statement_shows_a_ticket_typed_as_a_disguised_link_as_plain_words(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack
) -> None:
    from datetime import UTC, datetime

    from bot.bootstrap import transports_for
    from bot.jobs.dispatcher import Dispatcher

    admin = Actor.local_admin()
    do(slack_ctx, admin, "client add acme Acme Corp")
    do(slack_ctx, admin, "client set acme statement-to <#CACMESHARED>")
    do(slack_ctx, admin, "topup acme 10")
    values = {
        "client": external_select("acme"),
        "duration": text_state("1h"),
        "work_date": date_state("2026-11-25"),
        "note": text_state("printer"),
        "ticket": text_state(DISGUISED),
    }
    assert slack.submit("log_modal", values).status == 200
    slack.settle()
    slack_ctx.clock.at = datetime(2026, 12, 1, 8, tzinfo=UTC)  # type: ignore[attr-defined]
    run_job(slack_ctx, "statement", slack_ctx.today())
    Dispatcher(slack_ctx, transports_for(slack_ctx)).run_once(limit=100)
    [statement] = [c.params for c in fake_slack.of("chat.postMessage") if c.params.get("channel") == "CACMESHARED"]
    assert_valid_message(statement["blocks"], statement["text"])
    shown = json.dumps(statement["blocks"], ensure_ascii=False)
    assert "By ticket: https://bank.example (https://evil.example) 1h" in shown
    assert "&lt;" not in shown and "<" not in shown


def test_a_ticket_typed_with_a_label_is_no_disguised_link_in_the_entries_list(
    slack: SlackDriver, slack_ctx: Context, acme: str
) -> None:
    values = {
        "client": external_select("acme"),
        "duration": text_state("1h"),
        "work_date": date_state("2026-11-25"),
        "ticket": text_state("https://evil.example|https://bank.example"),
    }
    assert slack.submit("log_modal", values).status == 200
    listed = slack.command("/blocktime", "entries acme", user="UMGR").json
    assert_valid_message(listed["blocks"], listed["text"])
    shown = json.dumps(listed["blocks"], ensure_ascii=False)
    assert "https://evil.example|https://bank.example" in shown and "<https://evil" not in shown


def test_the_cli_acting_as_a_user_obeys_what_slack_said_of_them(slack_ctx: Context, cli: Any) -> None:
    from bot.domain.roles import Standing
    from bot.services.people import remember_person

    admin = Actor.local_admin()
    do(slack_ctx, admin, "client add acme Acme Corp")
    do(slack_ctx, admin, "topup acme 10")
    remember_person(slack_ctx, GUEST, "T0", Standing.GUEST, "Gina Guest")
    done = cli.run("--as", GUEST, "logtime", "acme", "1h", "free")
    assert done.returncode == 1 and "Only the MSP's staff" in done.stderr
    assert cli.run("--as", GUEST, "balance", "acme").returncode == 1
    assert cli.run("--as", "UTECH", "logtime", "acme", "1h", "printer").returncode == 0
    assert entry_count(slack_ctx) == 1
