"""Issue 16 over signed HTTP with the fake Slack: the Log time shortcuts (message and global) and the
form's client search, App Home's Log time / timer / today's entries, timers' buttons and the question
about a timer left running, and the nudge about ticket threads without time."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import func, select

from bot.bootstrap import transports_for
from bot.clock import FixedClock
from bot.domain.commands import Link
from bot.jobs.dispatcher import Dispatcher
from bot.jobs.scheduler import run_job
from bot.services import Actor, Context
from bot.services.channels import link_channel
from bot.services.timers import ask_about_long_timers
from storage import capture
from storage.models import Entry, OutboxMessage, ThreadActivity, Timer
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
from tests.helpers import balance_of, do

ROOT = Path(__file__).resolve().parents[2]
THREAD = "1795608000.000100"  # 2026-11-25 12:00 UTC, the ticket thread's first message (the clock: 15:00)
GUEST = "UGUEST"


def _entries(ctx: Context) -> list[Entry]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = list(uow.session.scalars(select(Entry).order_by(Entry.id)))
        for row in rows:
            uow.session.expunge(row)
        return rows


def _deliver(ctx: Context) -> int:
    return Dispatcher(ctx, transports_for(ctx)).run_once(limit=100)


def _opened(fake: FakeSlack, count: int = 1) -> dict[str, Any]:
    view: dict[str, Any] = fake.wait_for("views.open", count)[-1].params["view"]
    if isinstance(view, str):
        view = json.loads(view)
    assert_valid_view(view)
    return view


def _block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def _blocks_of(call_params: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = call_params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def _buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    found += [b["accessory"] for b in blocks if b.get("accessory")]
    return found


def test_the_manifest_declares_both_shortcuts_and_the_options_url() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    shortcuts = {(s["callback_id"], s["type"]) for s in manifest["features"]["shortcuts"]}
    assert shortcuts == {("log_time", "global"), ("log_time_on_message", "message")}
    assert manifest["settings"]["interactivity"]["message_menu_options_url"].endswith("/slack/events")
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:write", "channels:history", "groups:history"} <= scopes
    assert {"message.channels", "message.groups", "app_home_opened"} <= set(
        manifest["settings"]["event_subscriptions"]["bot_events"]
    )


def test_log_time_on_a_message_prefills_the_form_and_answers_in_its_thread(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    link_channel(slack_ctx, Actor("UADMIN"), "CACME", Link("acme"))
    message = {
        "user": "UCLIENT",
        "ts": "1795617000.000200",  # 2026-11-25 14:30 UTC, a reply in the thread
        "thread_ts": THREAD,
        "text": "The printer on floor 2 jams again\nsince this morning, all trays",
    }
    assert slack.message_shortcut("log_time_on_message", message, "CACME").status == 200
    view = _opened(fake_slack)
    assert view["callback_id"] == "log_modal"
    client = _block(view, "client")["element"]
    assert client["type"] == "external_select" and client["initial_option"]["value"] == "acme"
    permalink = "https://fake.slack.com/archives/CACME/p1795617000000200"
    assert _block(view, "ticket")["element"]["initial_value"] == permalink
    assert _block(view, "note")["element"]["initial_value"] == "The printer on floor 2 jams again"
    assert _block(view, "work_date")["element"]["initial_date"] == "2026-11-25"

    values = {
        "client": external_select("acme"),
        "duration": text_state("30m"),
        "work_date": date_state("2026-11-25"),
        "note": text_state("The printer on floor 2 jams again"),
        "ticket": text_state(permalink),
    }
    reply = slack.submit("log_modal", values, view_id="VMSG", metadata=view["private_metadata"])
    assert reply.status == 200 and not reply.body  # a plain ack closes the form
    confirmation = fake_slack.wait_for("chat.postEphemeral")[0].params
    assert (confirmation["channel"], confirmation["user"], confirmation["thread_ts"]) == ("CACME", "UTECH", THREAD)
    assert "undo_entry" in json.dumps(confirmation["blocks"])
    assert_valid_message(_blocks_of(confirmation), confirmation["text"])
    [entry] = _entries(slack_ctx)
    assert (entry.minutes, entry.ticket, entry.thread_ref, entry.source) == (30, permalink, f"CACME:{THREAD}", "slack")


def test_a_ticket_number_in_the_message_is_the_ticket(slack: SlackDriver, fake_slack: FakeSlack, acme: str) -> None:
    message = {"user": "UCLIENT", "ts": "1795617000.000200", "text": "VPN down again, see #4711"}
    slack.message_shortcut("log_time_on_message", message, "CGENERAL")
    view = _opened(fake_slack)
    assert _block(view, "ticket")["element"]["initial_value"] == "#4711"
    assert "initial_option" not in _block(view, "client")["element"]  # not a linked channel: the user picks


def test_the_global_shortcut_searches_our_active_clients_as_the_user_types(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    admin = Actor.local_admin()
    do(slack_ctx, admin, "client add acmeold Acme Old Ltd")
    do(slack_ctx, admin, "client archive acmeold")
    do(slack_ctx, admin, "client add globex Globex Corporation")
    slack.shortcut("log_time")
    view = _opened(fake_slack)
    assert _block(view, "client")["element"]["type"] == "external_select"
    assert _block(view, "client")["element"]["action_id"] == "client_search"
    found = slack.options("client_search", "ac").json
    assert [o["value"] for o in found["options"]] == ["acme"]  # the archived one is left out
    assert [o["value"] for o in slack.options("client_search", "GLOBEX corp").json["options"]] == ["globex"]
    assert len(slack.options("client_search", "").json["options"]) == 2


def test_a_guest_gets_no_form_and_no_client_names(slack: SlackDriver, fake_slack: FakeSlack, acme: str) -> None:
    fake_slack.user_facts[GUEST] = {"is_restricted": True, "is_ultra_restricted": True}
    assert slack.options("client_search", "ac", user=GUEST).json["options"] == []
    slack.shortcut("log_time", user=GUEST)
    refusal = fake_slack.wait_for("chat.postMessage")[0].params
    assert refusal["channel"] == GUEST and "log time" in refusal["text"]
    assert fake_slack.of("views.open") == []


def test_home_shows_my_timer_and_todays_entries_with_their_buttons(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, clock: FixedClock, acme: str
) -> None:
    do(slack_ctx, Actor.local_admin(), "client add globex Globex")
    do(slack_ctx, Actor.local_admin(), "topup globex 5")
    do(slack_ctx, Actor.local_admin(), "client add initech Initech")  # never worked for: not recent
    tech = Actor("UTECH", "Tess Tech")
    do(slack_ctx, tech, "logtime globex 15m vpn")
    do(slack_ctx, tech, "logtime acme 20m printer")
    started = slack.command("/logtime", "start acme server patching").json
    stop = next(b for b in _buttons(started["blocks"]) if b["action_id"] == "timer_stop")
    clock.advance(minutes=25)

    slack.event({"type": "app_home_opened", "user": "UTECH", "tab": "home"})
    home = fake_slack.wait_for("views.publish")[-1].params["view"]
    home = json.loads(home) if isinstance(home, str) else home
    assert_valid_view(home)
    text = json.dumps(home)
    assert "Timer running" in text and "25m" in text and "Your entries today" in text
    actions = {(b["action_id"], b.get("value")) for b in _buttons(home["blocks"])}
    entry_ids = [e.id for e in _entries(slack_ctx)]
    assert ("timer_stop", stop["value"]) in actions and ("timer_discard", stop["value"]) in actions
    assert {("home_edit_entry", str(i)) for i in entry_ids} | {
        ("home_void_entry", str(i)) for i in entry_ids
    } <= actions

    # Log time from Home: the user's recent clients come first, in their own group
    slack.click("home_log_time", home=True)
    client = _block(_opened(fake_slack), "client")["element"]
    groups = client["option_groups"]
    assert [o["value"] for o in groups[0]["options"]] == ["acme", "globex"]
    assert [o["value"] for o in groups[1]["options"]] == ["initech"]

    # Void from Home (no reply URL: the answer comes by DM)
    acme_entry = entry_ids[1]
    slack.click("home_void_entry", str(acme_entry), home=True)
    voided = fake_slack.wait_for("chat.postMessage")[0].params
    assert voided["channel"] == "UTECH" and f"#{acme_entry}" in voided["text"]
    assert balance_of(slack_ctx, "acme").used_minutes == 0

    # Edit from Home: the form shows the entry as logged; saving replaces it
    globex_entry = entry_ids[0]
    slack.click("home_edit_entry", str(globex_entry), home=True)
    form = _opened(fake_slack, 2)
    assert form["callback_id"] == "edit_entry_modal"
    assert _block(form, "duration")["element"]["initial_value"] == "15m"
    values = {"duration": text_state("45m"), "work_date": date_state("2026-11-25"), "note": text_state("vpn rebuilt")}
    assert slack.submit("edit_entry_modal", values, view_id="VEDIT", metadata=form["private_metadata"]).status == 200
    fake_slack.wait_for("chat.postMessage", 2)
    globex = balance_of(slack_ctx, "globex")
    assert globex.used_minutes == 45 and globex.last_entries[0].note == "vpn rebuilt"

    # Stop from Home: logged, and said by DM
    slack.click("timer_stop", stop["value"], home=True)
    logged = fake_slack.wait_for("chat.postMessage", 3)[-1].params
    assert "Logged" in logged["text"] and balance_of(slack_ctx, "acme").used_minutes == 25


def test_a_timer_is_stopped_from_its_start_message_and_survives_a_restart(
    slack_ctx: Context, fake_slack: FakeSlack, clock: FixedClock, acme: str
) -> None:
    from tests.e2e.slack_harness import RunningApp

    fake_slack.reset()
    first = RunningApp(slack_ctx)
    try:
        started = SlackDriver(first.port, fake_slack).command("/logtime", "start acme printer fix").json
    finally:
        first.stop()  # the process that started the timer is gone
    clock.advance(minutes=50)
    second = RunningApp(slack_ctx)
    try:
        slack = SlackDriver(second.port, fake_slack)
        stop = next(b for b in _buttons(started["blocks"]) if b["action_id"] == "timer_stop")
        slack.click("timer_stop", stop["value"])
        answer = fake_slack.wait_for("response_url")[-1].params
        assert answer["replace_original"] in (True, "true") and "Logged" in answer["text"]
        assert balance_of(slack_ctx, "acme").used_minutes == 50
        slack.click("timer_stop", stop["value"])  # clicked again: nothing more
        again = fake_slack.wait_for("response_url", 2)[-1].params
        assert "no longer running" in again["text"]
        assert balance_of(slack_ctx, "acme").used_minutes == 50
        entry = _entries(slack_ctx)[0]
        assert entry.started_at == datetime.fromisoformat(stop["value"])
    finally:
        second.stop()


def test_starting_another_timer_logs_the_first_and_discard_logs_nothing(
    slack: SlackDriver, slack_ctx: Context, clock: FixedClock, acme: str
) -> None:
    do(slack_ctx, Actor.local_admin(), "client add globex Globex")
    do(slack_ctx, Actor.local_admin(), "topup globex 5")
    slack.command("/logtime", "start acme printer")
    clock.advance(minutes=20)
    replaced = slack.command("/logtime", "start globex vpn").json["text"]
    assert "Your running timer was stopped and logged" in replaced
    assert balance_of(slack_ctx, "acme").used_minutes == 20
    clock.advance(minutes=30)
    discard = next(
        b for b in _buttons(slack.command("/logtime", "timer").json["blocks"]) if b["action_id"] == "timer_discard"
    )
    slack.click("timer_discard", discard["value"])
    slack.fake.wait_for("response_url")
    assert balance_of(slack_ctx, "globex").used_minutes == 0
    with slack_ctx.db.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Timer)) == 0


def test_a_timer_left_running_is_asked_about_by_dm_once(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, clock: FixedClock, acme: str
) -> None:
    slack.command("/logtime", "start acme migration")
    clock.advance(hours=11)
    assert "stop keep" in slack.command("/logtime", "stop").json["text"]  # not logged without an answer
    assert ask_about_long_timers(slack_ctx) == 1
    assert ask_about_long_timers(slack_ctx) == 0  # asked once, however often the check runs
    assert _deliver(slack_ctx) == 1
    dm = fake_slack.wait_for("chat.postMessage")[0].params
    assert dm["channel"] == "UTECH" and "11h" in dm["text"]
    assert_valid_message(_blocks_of(dm), dm["text"])
    buttons = {b["action_id"]: b["value"] for b in _buttons(_blocks_of(dm))}
    assert set(buttons) == {"timer_keep", "timer_fix", "timer_discard"}

    slack.click("timer_fix", buttons["timer_fix"], channel="DUTECH")
    form = _opened(fake_slack)
    assert form["callback_id"] == "timer_fix_modal"
    bad = slack.submit("timer_fix_modal", {"duration": text_state("lots")}, metadata=form["private_metadata"]).json
    assert bad["response_action"] == "errors" and "duration" in bad["errors"]
    good = {"duration": text_state("2h"), "note": text_state("migration, really 2h")}
    assert slack.submit("timer_fix_modal", good, view_id="VFIX", metadata=form["private_metadata"]).status == 200
    fake_slack.wait_for("chat.postMessage", 2)
    entry = _entries(slack_ctx)[0]
    assert (entry.minutes, entry.note, entry.work_date.isoformat()) == (120, "migration, really 2h", "2026-11-25")
    slack.click("timer_keep", buttons["timer_keep"], channel="DUTECH")  # too late: it was logged
    assert "no longer running" in fake_slack.wait_for("response_url")[-1].params["text"]
    assert len(_entries(slack_ctx)) == 1


def test_keep_after_the_real_time_was_logged_says_the_timer_is_no_longer_running_and_updates_the_dm(
    slack: SlackDriver,
    slack_ctx: Context,
    fake_slack: FakeSlack,
    clock: FixedClock,
    acme: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    do(slack_ctx, Actor.local_admin(), "topup acme 20")  # room for either answer
    slack.command("/logtime", "start acme migration")
    clock.advance(hours=11)
    ask_about_long_timers(slack_ctx)
    _deliver(slack_ctx)
    buttons = {
        b["action_id"]: b["value"] for b in _buttons(_blocks_of(fake_slack.wait_for("chat.postMessage")[0].params))
    }
    slack.click("timer_fix", buttons["timer_fix"], channel="DUTECH")
    form = _opened(fake_slack)
    # the real time is logged, but the process dies before the timer is cleared (or Keep is
    # clicked in between): the timer's key has its entry, with other figures than Keep's
    real_remove = capture.remove_timer

    def dies(*args: Any, **kwargs: Any) -> None:
        monkeypatch.setattr(capture, "remove_timer", real_remove)
        raise RuntimeError("process died")

    monkeypatch.setattr(capture, "remove_timer", dies)
    slack.submit("timer_fix_modal", {"duration": text_state("2h")}, metadata=form["private_metadata"])
    assert [e.minutes for e in _entries(slack_ctx)] == [120]

    slack.click("timer_keep", buttons["timer_keep"], channel="DUTECH")
    answer = fake_slack.wait_for("response_url")[-1].params
    assert "no longer running" in answer["text"] and "#" in answer["text"]
    assert "request id" not in answer["text"]
    assert answer.get("replace_original") is True  # the DM no longer offers Keep
    assert_valid_message(answer["blocks"], answer["text"])
    assert [e.minutes for e in _entries(slack_ctx)] == [120]
    with slack_ctx.db.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Timer)) == 0


def test_the_nudge_asks_once_about_threads_without_time_and_keeps_no_text(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, clock: FixedClock, acme: str
) -> None:
    admin = Actor("UADMIN")
    do(slack_ctx, Actor.local_admin(), "client add globex Globex")
    link_channel(slack_ctx, admin, "CACME", Link("acme"))
    link_channel(slack_ctx, admin, "CGLOBEX", Link("globex"))
    secret = "the admin password is hunter2"
    # the printer and toner threads began on 25 Nov at 09:00 and 11:00, the VPN one two days before
    printer, vpn, toner = "1795597200.000100", "1795428000.000100", "1795604400.000100"
    events = [
        thread_message(secret, channel="CACME", thread_ts=printer, ts="1795611600.000001"),
        thread_message("+30m replaced toner", channel="CACME", thread_ts=toner, ts="1795611660.000001"),
        thread_message("checking the tunnel", channel="CGLOBEX", thread_ts=vpn, ts="1795611720.000001"),
        thread_message("on it", channel="CACME", thread_ts=printer, ts="1795611780.000001", user="UMGR"),
        thread_message("chat in an unlinked channel", channel="CRANDOM", thread_ts=vpn, ts="1795611840.000001"),
    ]
    assert slack.command("/blocktime", "nudges off", user="UMGR").json["text"].startswith("Nudges are off")
    for event in events:
        slack.event(event)
    slack.settle()  # every reply handled
    with slack_ctx.db.unit_of_work(read_only=True) as uow:  # UTECH in 3 threads; UMGR opted out, CRANDOM unlinked
        assert uow.session.scalar(select(func.count()).select_from(ThreadActivity)) == 3

    assert run_job(slack_ctx, "nudge", clock.now().date()).summary == "1 people nudged about 2 threads without time"
    assert run_job(slack_ctx, "nudge", clock.now().date()).ran is False  # once a day, whichever process runs it
    assert _deliver(slack_ctx) == 1
    dm = next(c.params for c in fake_slack.of("chat.postMessage") if c.params["channel"] == "UTECH")
    assert "You replied in 2 ticket threads today" in dm["text"] and "logged no time" in dm["text"]
    assert_valid_message(_blocks_of(dm), dm["text"])
    buttons = [json.loads(b["value"]) for b in _buttons(_blocks_of(dm)) if b["action_id"] == "nudge_log_time"]
    assert {(b["channel"], b["thread_ts"]) for b in buttons} == {("CACME", printer), ("CGLOBEX", vpn)}
    assert not any(c.params["channel"] == "UMGR" for c in fake_slack.of("chat.postMessage"))

    with slack_ctx.db.unit_of_work(read_only=True) as uow:  # forgotten once the nudge was decided
        assert uow.session.scalar(select(func.count()).select_from(ThreadActivity)) == 0
        payloads = " ".join(uow.session.scalars(select(OutboxMessage.payload)))
    assert secret not in payloads and "checking the tunnel" not in payloads
    if slack_ctx.db.url.startswith("sqlite"):  # not even in the database file's free pages
        assert secret.encode() not in Path(slack_ctx.db.url.split("///", 1)[1]).read_bytes()

    assert "globex: thread of 23 Nov 10:00" in dm["text"]
    # the button opens the form for that thread: its client, its permalink as the ticket, the nudge's day
    thread = next(b for b in buttons if b["channel"] == "CGLOBEX")
    slack.click("nudge_log_time", json.dumps(thread), channel="DUTECH")
    form = _opened(fake_slack)
    assert _block(form, "client")["element"]["initial_option"]["value"] == "globex"
    assert _block(form, "ticket")["element"]["initial_value"].endswith(vpn.replace(".", ""))
    assert json.loads(form["private_metadata"])["thread_ts"] == vpn
    assert _block(form, "work_date")["element"]["initial_date"] == "2026-11-25"  # the day replied, not begun


def test_after_hours_from_a_thread_messages_time(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    from dataclasses import replace

    slack_ctx.settings = replace(slack_ctx.settings, after_hours_type="afterhours")
    admin = Actor.local_admin()
    do(slack_ctx, admin, "worktype add afterhours 2")
    do(slack_ctx, admin, "client set acme timezone America/New_York hours mon-fri 08:00-18:00")
    link_channel(slack_ctx, Actor("UADMIN"), "CACME", Link("acme"))
    late = datetime(2026, 11, 24, 23, 30, tzinfo=ZoneInfo("America/New_York"))  # Tue 23:30 in New York
    slack.event(thread_message("+1h restored backups", channel="CACME", thread_ts=THREAD, ts=f"{late.timestamp():.6f}"))
    confirmation = fake_slack.wait_for("chat.postEphemeral")[0].params
    assert "after hours (Tue 23:30, outside mon-fri 08:00-18:00)" in json.dumps(confirmation["blocks"])
    entry = _entries(slack_ctx)[0]
    assert (entry.work_type, entry.minutes, entry.billable_minutes, entry.thread_ref) == (
        "afterhours",
        60,
        120,
        f"CACME:{THREAD}",
    )
