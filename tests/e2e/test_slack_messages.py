"""What each Slack message says and where it goes (issue 15), asserted on what the user would read."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from bot.domain.commands import Link
from bot.domain.notices import notice_from_json
from bot.jobs.scheduler import run_job
from bot.services import Actor, Context
from bot.services.channels import link_channel
from handlers.views.outbox import slack_message
from tests.e2e.slack_harness import SlackDriver, assert_valid_message, static_select, text_state
from tests.fakes.slack_api import FakeSlack
from tests.helpers import do


def text_of(reply) -> str:  # type: ignore[no-untyped-def]
    assert reply.status == 200, reply.body
    body = reply.json
    assert_valid_message(body.get("blocks", []), body.get("text"))
    return body.get("text", "") + " " + json.dumps(body.get("blocks", []), ensure_ascii=False)


def test_help_is_shown_whole(slack: SlackDriver, acme: str) -> None:
    for text in ("help", ""):
        shown = text_of(slack.command("/blocktime", text))
        for word in (
            "edit <entry-id>",
            "client add",
            "role <@user>",
            "link <client>",
            "snooze",
            "insights",
            "Durations:",
        ):
            assert word in shown, (text, word)
        assert "…" not in shown


def test_a_report_for_every_client_goes_only_to_the_person_who_asked(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    link_channel(slack_ctx, Actor("UADMIN"), "CACME", Link("acme"))
    do(slack_ctx, Actor("UTECH", "Tess"), "logtime acme 1h printer")
    slack.command("/blocktime", "report --all this month", user="UMGR", channel="CACME")
    posted = fake_slack.wait_for("chat.postMessage")[0].params
    assert posted["channel"] == "UMGR"
    said = fake_slack.wait_for("response_url", 1)[-1].params
    assert said["replace_original"] is True and "direct message" in said["text"] and "every client" in said["text"]
    upload = fake_slack.wait_for("files.completeUploadExternal", timeout=15)[0].params
    assert upload["channel_id"] == "UMGR"


def test_a_clients_report_is_never_posted_in_a_channel_the_client_reads(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    link_channel(slack_ctx, Actor("UADMIN"), "CACME", Link("acme"))
    slack.command("/blocktime", "report acme this month", user="UMGR", channel="CACME")
    assert fake_slack.wait_for("chat.postMessage")[0].params["channel"] == "UMGR"
    said = fake_slack.wait_for("response_url")[-1].params
    assert "linked to a client" in said["text"] and said["replace_original"] is True


def test_working_on_it_is_replaced_when_the_report_is_posted(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    slack.command("/blocktime", "report acme this month", user="UMGR", channel="CREPORTS")
    assert fake_slack.wait_for("chat.postMessage")[0].params["channel"] == "CREPORTS"
    said = fake_slack.wait_for("response_url")[-1].params
    assert said["replace_original"] is True and "Posted here" in said["text"]


@pytest.mark.parametrize(("typed", "minutes"), [("1h30 reinstalled", 90), ("2h15 cabling", 135)])
def test_hours_then_bare_minutes_are_read_as_minutes(
    slack: SlackDriver, slack_ctx: Context, acme: str, typed: str, minutes: int
) -> None:
    assert "Logged" in text_of(slack.command("/logtime", f"acme {typed}"))
    from tests.helpers import balance_of

    assert balance_of(slack_ctx, "acme").used_minutes == minutes


def test_a_mistyped_command_gets_a_did_you_mean(slack: SlackDriver, acme: str) -> None:
    assert "Did you mean `balance`" in text_of(slack.command("/blocktime", "balnce acme"))


def test_editing_someone_elses_entry_says_edit(slack: SlackDriver, slack_ctx: Context, acme: str) -> None:
    entry = do(slack_ctx, Actor("UOTHER", "Otto"), "logtime acme 1h printer")
    shown = text_of(slack.command("/blocktime", f"edit {entry.entry_id} 30m", user="UTECH"))
    assert "can edit someone else's entry" in shown and "void" not in shown


def test_an_overdrawn_alert_says_by_how_much_and_no_run_out_date() -> None:
    facts = {
        "kind": "threshold",
        "client": "acme",
        "display_name": "Acme",
        "remaining_minutes": -45,
        "overdraft_minutes": 120,
        "percent_left": 0,
        "threshold": "0m",
        "used_30d_minutes": 600,
        "burn_per_day_minutes": "20.0",
        "run_out_on": "2026-11-30",
        "next_expiry": None,
    }
    text, blocks = slack_message(notice_from_json(facts))
    shown = text + json.dumps(blocks, ensure_ascii=False)
    assert "overdrawn by 45m (limit 2h)" in shown and "2026-11-30" not in shown and "-45m" not in shown
    assert_valid_message(blocks, text)


def test_the_statement_job_skips_idle_clients(slack_ctx: Context, clock) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from sqlalchemy import select

    from storage.models import OutboxMessage

    ctx = Context(slack_ctx.db, replace(slack_ctx.settings, alert_channel="CINTERNAL"), slack_ctx.clock)
    admin = Actor.local_admin()
    for handle in ("busy", "idle"):
        do(ctx, admin, f"client add {handle} {handle.title()}")
        do(ctx, admin, f"topup {handle} 10")
    clock.at = datetime(2026, 12, 2, 9, tzinfo=UTC)
    do(ctx, admin, "logtime busy 1h work")
    clock.at = datetime(2027, 1, 1, 8, tzinfo=UTC)
    assert run_job(ctx, "statement", ctx.today()).summary == "1 statements for December 2026"
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = list(uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "statement")))
        assert [json.loads(r.payload)["client"] for r in rows] == ["busy"]


def test_home_says_no_hours_bought_and_counts_clients_in_words(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack
) -> None:
    admin = Actor.local_admin()
    do(slack_ctx, admin, "client add acme Acme Corp")
    do(slack_ctx, admin, "client set acme overdraft unlimited")
    do(slack_ctx, admin, "logtime acme 30m advice")
    slack.event({"type": "app_home_opened", "user": "UTECH", "tab": "home", "channel": "D1"})
    shown = json.dumps(fake_slack.wait_for("views.publish")[0].params["view"], ensure_ascii=False)
    assert "No hours bought" in shown and "runs out around" not in shown and "(1 client)" in shown


def test_building_the_app_prints_no_warning_on_a_normal_start(
    slack_ctx: Context, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.app import create_app, drain

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")
    with caplog.at_level(logging.WARNING):
        app = create_app(slack_ctx, socket_mode=True)
    drain(app)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_modal_errors_are_whole_sentences_that_fit_the_form(slack: SlackDriver, acme: str) -> None:
    values = {
        "client": static_select("acme"),
        "duration": text_state("11h"),
        "work_date": {"type": "datepicker", "selected_date": "2026-11-24"},
        "note": text_state("migration"),
        "non_billable": {"type": "checkboxes", "selected_options": []},
    }
    error = slack.submit("log_modal", values, user="UTECH").json["errors"]["duration"]
    assert error.endswith(".") and "--nb" not in error and "Example" not in error and "non-billable" in error
    topup = slack.submit("topup_modal", {"client": static_select("acme"), "hours": text_state("0m")}, user="UMGR")
    assert "hours to add must be more than zero" in topup.json["errors"]["hours"]


def test_a_form_slack_fails_to_open_is_apologised_for(slack: SlackDriver, fake_slack: FakeSlack, acme: str) -> None:
    fake_slack.fail("views.open", 500, times=10)
    slack.command("/topup", "", user="UMGR")
    said = fake_slack.wait_for("response_url", timeout=20)[0].params
    assert "Couldn't open the form" in said["text"] and said["response_type"] == "ephemeral"


def test_an_empty_client_list_is_said_not_sent_as_an_empty_select(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack
) -> None:
    do(slack_ctx, Actor.local_admin(), "role <@UMGR> manager")
    slack.command("/topup", "", user="UMGR")
    view = fake_slack.wait_for("views.open")[0].params["view"]
    from tests.e2e.slack_harness import assert_valid_view

    assert_valid_view(view) and "No clients yet" in json.dumps(view)  # type: ignore[func-returns-value]


def test_mentions_and_links_in_notes_show_as_slack_renders_them_but_never_pings(slack: SlackDriver, acme: str) -> None:
    reply = slack.command(
        "/logtime", "acme 15m called <@U0OTHER|other> about <!channel> see <https://x.example/t|ticket>"
    )
    shown = text_of(reply)
    assert "<@U0OTHER>" in shown and "<https://x.example/t>" in shown  # a link shows where it goes
    assert "|ticket>" not in shown and "|other>" not in shown
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown


def test_snoozing_from_an_alert_updates_the_alert(slack: SlackDriver, fake_slack: FakeSlack, acme: str) -> None:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0"},
        "user": {"id": "UMGR", "name": "umgr"},
        "api_app_id": "A0",
        "trigger_id": "trig.1",
        "container": {"type": "message", "message_ts": "1700000000.000900"},
        "channel": {"id": "CALERTS"},
        "message": {
            "ts": "1700000000.000900",
            "text": "Acme Corp is running low",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": "Acme Corp is running low"}},
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "alert_snooze",
                            "text": {"type": "plain_text", "text": "Snooze"},
                        }
                    ],
                },
            ],
        },
        "response_url": fake_slack.response_url("action"),
        "actions": [
            {"type": "button", "action_id": "alert_snooze", "block_id": "b", "value": "acme", "action_ts": "1"}
        ],
    }
    assert slack.interaction(payload).status == 200
    updated = fake_slack.wait_for("response_url")[0].params
    assert updated["replace_original"] is True and "Snoozed until" in json.dumps(updated["blocks"])
    assert "<@UMGR>" in json.dumps(updated["blocks"]) and all(b["type"] != "actions" for b in updated["blocks"])


def test_a_repeated_top_up_submission_says_already_added(slack: SlackDriver, fake_slack: FakeSlack, acme: str) -> None:
    values = {"client": static_select("acme"), "hours": text_state("7.5")}
    slack.submit("topup_modal", values, user="UMGR", view_id="V88")
    slack.submit("topup_modal", values, user="UMGR", view_id="V88")
    posts = fake_slack.wait_for("chat.postMessage", 2)
    assert "Added 7h 30m" in posts[0].params["text"] and "Already added 7h 30m" in posts[1].params["text"]


def test_home_never_shows_a_voided_entry_as_the_last_one(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    do(slack_ctx, Actor("UTECH", "Tess"), "logtime acme 30m first job")
    second = do(slack_ctx, Actor("UTECH", "Tess"), "logtime acme 45m wrong client")
    do(slack_ctx, Actor("UTECH", "Tess"), f"void {second.entry_id}")
    slack.event({"type": "app_home_opened", "user": "UTECH", "tab": "home", "channel": "D1"})
    shown = json.dumps(fake_slack.wait_for("views.publish")[0].params["view"], ensure_ascii=False)
    assert "first job" in shown and "wrong client" not in shown


def test_a_top_up_above_the_limit_asks_for_confirmation(slack: SlackDriver, slack_ctx: Context, acme: str) -> None:
    from tests.helpers import balance_of

    asked = text_of(slack.command("/topup", "acme 1500", user="UMGR"))
    assert "more than 1000h" in asked and "confirm" in asked and balance_of(slack_ctx, "acme").purchased_minutes == 600
    form = slack.submit("topup_modal", {"client": static_select("acme"), "hours": text_state("1500")}, user="UMGR")
    assert "confirm" in form.json["errors"]["hours"]
    assert "Added 1500h" in text_of(slack.command("/topup", "acme 1500 confirm", user="UMGR"))
    confirmed = {"client": static_select("acme"), "hours": text_state("1200 confirm")}
    assert slack.submit("topup_modal", confirmed, user="UMGR", view_id="V5").status == 200
    assert balance_of(slack_ctx, "acme").purchased_minutes == (10 + 1500 + 1200) * 60


def test_the_top_up_button_on_home_is_only_for_those_who_may_top_up(
    slack: SlackDriver, fake_slack: FakeSlack, acme: str
) -> None:
    slack.event({"type": "app_home_opened", "user": "UTECH", "tab": "home", "channel": "D1"})
    technician = json.dumps(fake_slack.wait_for("views.publish")[0].params["view"])
    slack.event({"type": "app_home_opened", "user": "UMGR", "tab": "home", "channel": "D2"})
    manager = json.dumps(fake_slack.wait_for("views.publish", 2)[-1].params["view"])
    assert "home_top_up" not in technician and "home_log_time" in technician
    assert "home_top_up" in manager


def test_a_time_line_in_an_unlinked_channel_is_explained_once(
    slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    import uuid

    from tests.e2e.slack_harness import RunningApp

    channel = f"CNL{uuid.uuid4().hex[:8].upper()}"

    def line(ts: str) -> dict:  # type: ignore[type-arg]
        return {
            "type": "message",
            "channel": channel,
            "channel_type": "channel",
            "user": "UTECH",
            "text": "+30m replaced toner",
            "ts": ts,
            "thread_ts": "1700000000.000100",
            "event_ts": ts,
        }

    fake_slack.reset()
    running = RunningApp(slack_ctx)
    driver = SlackDriver(running.port, fake_slack)
    try:
        driver.event(line("1700000100.000001"))
        told = fake_slack.wait_for("chat.postEphemeral")[0].params
        assert told["user"] == "UTECH" and "/blocktime link acme" in told["text"]
        driver.event(line("1700000100.000002"))
    finally:
        running.stop()  # waits for every piece of work the app started
    assert len(fake_slack.of("chat.postEphemeral")) == 1


def test_burn_rates_are_hours_a_week_everywhere(slack: SlackDriver, slack_ctx: Context, acme: str) -> None:
    from bot.phrasebook import forecast_lines

    lines = forecast_lines(
        {"burn_per_day_30": "12.0", "burn_per_day_90": "6.0", "run_out_on": None, "likely_forfeit": []}
    )
    assert lines[0].startswith("Burn rate: 1.4 h/week over 30 days, 0.7 h/week over 90 days")


def test_entries_are_headed_by_the_client_name_and_threads_are_short_links(
    slack: SlackDriver, slack_ctx: Context, acme: str
) -> None:
    from bot.domain.grammar import parse_command
    from bot.services.hours import log_time

    command = parse_command("logtime acme 30m toner", slack_ctx.today())
    log_time(slack_ctx, Actor("UTECH", "Tess"), command, ticket="https://fake.slack.com/archives/C1/p1700000000000100")
    shown = text_of(slack.command("/blocktime", "entries acme"))
    assert "*Acme Corp: November 2026*" in shown
    assert "<https://fake.slack.com/archives/C1/p1700000000000100|thread>" in shown


def test_a_form_slack_fails_to_open_from_home_is_apologised_for_by_dm(
    slack: SlackDriver, fake_slack: FakeSlack, acme: str
) -> None:
    fake_slack.fail("views.open", 500, times=10)
    slack.click("home_log_time", user="UTECH", home=True)  # a Home tab has no reply URL
    said = fake_slack.wait_for("chat.postMessage", timeout=20)[0].params
    assert said["channel"] == "UTECH" and "Couldn't open the form" in said["text"]
