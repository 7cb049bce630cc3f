"""Ticket threads in a linked channel: time lines logged, corrected on edit, voided on delete."""

from __future__ import annotations

import json

import pytest

from bot.services import Actor, Context
from tests.e2e.slack_harness import SlackDriver, thread_message
from tests.fakes.slack_api import FakeSlack
from tests.helpers import balance_of, do, entry_count, eventually

CHANNEL = "CACME"
THREAD = "1700000000.000100"


@pytest.fixture
def linked(slack_ctx: Context, acme: str, slack: SlackDriver) -> str:
    from bot.domain.commands import Link
    from bot.services.channels import link_channel

    link_channel(slack_ctx, Actor("UADMIN"), CHANNEL, Link("acme"))
    return CHANNEL


def reply(text: str, ts: str = "1700000100.000200", user: str = "UTECH", **extra: object) -> dict:  # type: ignore[type-arg]
    return thread_message(text, channel=CHANNEL, thread_ts=THREAD, user=user, ts=ts, **extra)


def test_a_time_line_in_a_thread_is_logged_with_the_thread_as_ticket(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, linked: str
) -> None:
    assert slack.event(reply("+30m replaced toner")).status == 200
    reaction = fake_slack.wait_for("reactions.add")[0].params
    assert reaction == {"channel": CHANNEL, "timestamp": "1700000100.000200", "name": "white_check_mark"}
    answer = fake_slack.wait_for("chat.postEphemeral")[0].params
    # only the technician sees the confirmation, with Undo: the client may be in the thread
    assert answer["thread_ts"] == THREAD and answer["user"] == "UTECH" and "9h 30m left" in answer["text"]
    assert "undo_entry" in json.dumps(answer["blocks"])
    assert fake_slack.of("chat.postMessage") == []
    entry = balance_of(slack_ctx, "acme").last_entries[0]
    assert (entry.minutes, entry.note, entry.source) == (30, "replaced toner", "thread")
    assert entry.ticket == f"https://fake.slack.com/archives/{CHANNEL}/p{THREAD.replace('.', '')}"


def test_time_colon_lines_are_logged_too(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, linked: str
) -> None:
    slack.event(reply("time: 1h15m rebuilt profile"))
    fake_slack.wait_for("reactions.add")
    assert balance_of(slack_ctx, "acme").used_minutes == 75


def test_a_retried_event_records_once_and_reacts_once(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, linked: str
) -> None:
    event = reply("+30m replaced toner")
    slack.event(event, event_id="Ev1")
    fake_slack.wait_for("chat.postEphemeral")
    slack.event(event, event_id="Ev1", retry_num=1)
    slack.event(event, event_id="Ev1", retry_num=2)
    slack.settle()
    assert entry_count(slack_ctx) == 1
    assert len(fake_slack.of("reactions.add")) == 1 and len(fake_slack.of("chat.postEphemeral")) == 1


def test_a_line_that_looks_like_time_but_is_not_gets_an_ephemeral_explanation(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, linked: str
) -> None:
    slack.event(reply("+90 toner"))
    note = fake_slack.wait_for("chat.postEphemeral")[0].params
    assert note["user"] == "UTECH" and note["thread_ts"] == THREAD and "add a unit: 90m or 1.5h" in note["text"]
    assert entry_count(slack_ctx) == 0


@pytest.mark.parametrize(
    "event",
    [
        reply("thanks, that fixed it"),
        reply("+1"),
        reply("+30m from a bot", bot_id="B9"),
        reply("+30m bot message", subtype="bot_message"),
        reply("+30m my own reply", user=FakeSlack.BOT_USER),
        {**reply("+30m top level"), "thread_ts": None},
    ],
)
def test_chat_bots_and_top_level_messages_are_ignored(
    slack: SlackDriver,
    slack_ctx: Context,
    fake_slack: FakeSlack,
    linked: str,
    event: dict,  # type: ignore[type-arg]
) -> None:
    slack.event({k: v for k, v in event.items() if v is not None})
    slack.settle()
    assert entry_count(slack_ctx) == 0
    assert not fake_slack.of("chat.postEphemeral") and not fake_slack.of("reactions.add")
    # (a time line in an unlinked channel is explained once: test_slack_messages)


def test_editing_the_message_corrects_the_entry(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, linked: str
) -> None:
    original = reply("+30m replaced toner")
    slack.event(original)
    fake_slack.wait_for("chat.postEphemeral")
    edited = {**original, "text": "+45m replaced toner and drum", "edited": {"user": "UTECH", "ts": "1700000200.0"}}
    slack.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": CHANNEL,
            "hidden": True,
            "ts": "1700000200.000300",
            "event_ts": "1700000200.000300",
            "message": edited,
            "previous_message": original,
        }
    )
    answer = fake_slack.wait_for("chat.postEphemeral", 2)[-1].params
    assert "Corrected" in answer["text"] and answer["user"] == "UTECH"
    view = balance_of(slack_ctx, "acme")
    assert view.used_minutes == 45 and view.last_entries[0].note == "replaced toner and drum"
    # the corrected entry keeps the thread as its ticket ("By ticket" keeps the time)
    assert view.last_entries[0].ticket == f"https://fake.slack.com/archives/{CHANNEL}/p{THREAD.replace('.', '')}"
    assert entry_count(slack_ctx) == 2  # the first is voided, never deleted


def test_deleting_the_message_voids_the_entry(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, linked: str
) -> None:
    original = reply("+30m replaced toner")
    slack.event(original)
    fake_slack.wait_for("chat.postEphemeral")
    slack.event(
        {
            "type": "message",
            "subtype": "message_deleted",
            "channel": CHANNEL,
            "hidden": True,
            "ts": "1700000300.000400",
            "deleted_ts": original["ts"],
            "event_ts": "1700000300.000400",
            "previous_message": original,
        }
    )
    answer = fake_slack.wait_for("chat.postEphemeral", 2)[-1].params
    assert "voided because its message was deleted" in answer["text"]
    assert balance_of(slack_ctx, "acme").used_minutes == 0


def test_thread_entries_obey_the_overdraft_rule(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, linked: str
) -> None:
    slack.event(reply("+11h marathon"))
    note = fake_slack.wait_for("chat.postEphemeral")[0].params
    assert "Not recorded" in note["text"] and entry_count(slack_ctx) == 0


def test_thread_lines_work_in_a_channel_linked_later(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    slack.event(reply("+30m before linking"))
    slack.settle()
    assert entry_count(slack_ctx) == 0
    do(slack_ctx, Actor("UADMIN"), "help")
    slack.command("/blocktime", "link acme", user="UADMIN", channel=CHANNEL)
    slack.event(reply("+30m after linking", ts="1700000500.000500"))
    eventually(lambda: entry_count(slack_ctx) == 1, message="the thread line was not logged")


def test_web_api_rate_limits_and_server_errors_are_retried(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, linked: str
) -> None:
    fake_slack.fail("chat.postEphemeral", 429, times=1, retry_after=1)
    fake_slack.fail("reactions.add", 500, times=1)
    slack.event(reply("+30m replaced toner"))
    posts = fake_slack.wait_for("chat.postEphemeral", 2, timeout=15)
    assert posts[0].params["_failed_with"] == 429 and "_failed_with" not in posts[1].params
    assert posts[1].at - posts[0].at >= 0.9  # Retry-After honoured
    reactions = fake_slack.wait_for("reactions.add", 2)
    assert reactions[0].params["_failed_with"] == 500 and "_failed_with" not in reactions[1].params
    assert entry_count(slack_ctx) == 1


def test_a_slack_that_stops_answering_does_not_hold_up_the_next_answer(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, linked: str
) -> None:
    """Replies and reactions go out after the ack, on a pool of their own: with Slack's Web API stuck
    under more thread lines than there are listener threads, a /logtime is still answered at once."""
    lines = slack_ctx.settings.listener_threads * 2
    fake_slack.hold("reactions.add", "chat.postEphemeral")
    try:
        for n in range(lines):
            assert slack.event(reply(f"+15m printer visit {n}", ts=f"1700000100.{n:06d}")).status == 200
        fake_slack.wait_for("reactions.add:held", lines)  # every line is stuck on Slack, none answered
        answer = slack.command("/logtime", "acme 15m quick question")
        assert answer.status == 200 and "Logged" in answer.json["text"]
        assert fake_slack.of("chat.postEphemeral") == []
    finally:
        fake_slack.release()
    assert len(fake_slack.wait_for("chat.postEphemeral", lines)) == lines
    assert entry_count(slack_ctx) == lines + 1
    assert balance_of(slack_ctx, "acme").remaining_minutes == 10 * 60 - 15 * (lines + 1)


def test_an_internal_channel_may_have_thread_confirmations_posted_in_public(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, linked: str
) -> None:
    answer = slack.command("/blocktime", "link acme replies public", user="UADMIN", channel=CHANNEL).json
    assert "posted in the thread for everyone" in answer["text"]
    slack.event(reply("+30m replaced toner"))
    posted = fake_slack.wait_for("chat.postMessage")[0].params
    assert posted["thread_ts"] == THREAD and "9h 30m left" in posted["text"]
    fake_slack.channel_facts["CSHARED"] = {"is_ext_shared": True}
    refused = slack.command("/blocktime", "link acme replies public", user="UADMIN", channel="CSHARED").json
    assert "stay private" in refused["text"]
