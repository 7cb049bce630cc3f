"""Listeners called directly, as Bolt calls them: named functions given Bolt's arguments (``ack``,
``body``, ``respond``...) and the app's ``deps``, here the real ones of ``create_app`` on the test's
database, with the fake Slack Web API. Stand-ins record what ``ack`` and ``respond`` were told. The
e2e tests drive the same listeners over signed HTTP; the last test here checks that every registered
listener asks only for arguments Bolt gives, which a direct call alone could not catch."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import BoltContext

from bot.app import create_app
from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.commands import Link
from bot.services import Actor, Context
from bot.services.channels import link_channel
from handlers.deps import Deps, SlackApp
from handlers.message_events import on_thread_message
from handlers.slash_commands import on_logtime_command
from handlers.timecapture import on_timer_stop
from handlers.views.outbox import TIMER_STOP_ACTION
from storage.db import Database
from tests.e2e.slack_harness import thread_message
from tests.fakes.slack_api import FakeSlack
from tests.helpers import balance_of, do, entry_count

CHANNEL = "CACME"
THREAD = "1700000000.000100"


class Said:
    """A stand-in for Bolt's ``ack`` or ``respond``: what it was called with, call by call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, text: str | None = None, **kwargs: Any) -> None:
        self.calls.append({"text": text, **kwargs})


@pytest.fixture
def app(database: Database, fake_slack: FakeSlack, clock: FixedClock) -> Iterator[SlackApp]:
    fake_slack.reset()
    fake_slack.names.update({"UTECH": "Tess Tech", "UADMIN": "Ada Admin"})
    settings = Settings(slack_bot_token="xoxb-test", slack_api_url=fake_slack.api_url, admins=frozenset({"UADMIN"}))
    built = create_app(Context(database, settings, clock))
    assert isinstance(built, SlackApp)
    yield built
    built.deps.later.finish()


@pytest.fixture
def deps(app: SlackApp) -> Deps:
    return app.deps


@pytest.fixture
def acme(deps: Deps) -> str:
    admin = Actor.local_admin()
    do(deps.ctx, admin, "client add acme Acme Corp")
    do(deps.ctx, admin, "topup acme 10")
    return "acme"


def button(action_id: str, value: str, user: str = "UTECH") -> dict[str, Any]:
    """A block_actions payload: a button on a message, with its reply URL."""
    return {
        "type": "block_actions",
        "user": {"id": user},
        "channel": {"id": "CGENERAL"},
        "response_url": "https://hooks.slack.test/actions/1",
        "trigger_id": "trig.1",
        "actions": [{"action_id": action_id, "value": value}],
    }


def test_the_logtime_command_answers_in_the_ack_itself(deps: Deps, acme: str) -> None:
    ack = Said()
    command = {"user_id": "UTECH", "user_name": "tess", "text": "acme 45m cabling", "trigger_id": "trig.7"}
    on_logtime_command(ack, command, deps)
    [answer] = ack.calls
    assert answer["response_type"] == "ephemeral" and "Logged 45m" in answer["text"]
    assert balance_of(deps.ctx, "acme").last_entries[0].note == "cabling"


def test_the_same_logtime_command_sent_twice_records_once(deps: Deps, acme: str) -> None:
    command = {"user_id": "UTECH", "text": "acme 45m cabling", "trigger_id": "trig.7"}
    on_logtime_command(Said(), command, deps)
    again = Said()
    on_logtime_command(again, command, deps)
    assert entry_count(deps.ctx) == 1 and "Already logged" in again.calls[0]["text"]


def test_timer_stop_acks_at_once_then_turns_the_message_into_the_entry(
    deps: Deps, acme: str, clock: FixedClock
) -> None:
    do(deps.ctx, Actor("UTECH", "Tess Tech"), "logtime start acme printer fix")
    started = clock.now().isoformat()
    clock.advance(minutes=40)
    ack, respond = Said(), Said()
    on_timer_stop(ack, button(TIMER_STOP_ACTION, started), respond, deps)
    assert ack.calls == [{"text": None}]  # answered before any of the work
    assert deps.later.idle()
    [answer] = respond.calls
    assert answer["replace_original"] is True and "Logged 40m" in answer["text"]
    entry = balance_of(deps.ctx, "acme").last_entries[0]
    assert (entry.minutes, entry.note) == (40, "printer fix")


def test_timer_stop_on_a_timer_already_stopped_says_so_in_place(deps: Deps, acme: str, clock: FixedClock) -> None:
    do(deps.ctx, Actor("UTECH", "Tess Tech"), "logtime start acme printer fix")
    started = clock.now().isoformat()
    do(deps.ctx, Actor("UTECH", "Tess Tech"), "logtime stop")
    respond = Said()
    on_timer_stop(Said(), button(TIMER_STOP_ACTION, started), respond, deps)
    assert deps.later.idle()
    [answer] = respond.calls
    assert answer["replace_original"] is True and "no longer running" in answer["text"].lower()
    assert entry_count(deps.ctx) == 1


def test_timer_stop_ignores_a_button_that_is_not_ours(deps: Deps, acme: str) -> None:
    respond = Said()
    on_timer_stop(Said(), button(TIMER_STOP_ACTION, "not a time"), respond, deps)
    assert deps.later.idle()
    assert respond.calls == [] and entry_count(deps.ctx) == 0


def test_a_time_line_in_a_linked_thread_is_logged_after_the_ack(deps: Deps, acme: str, fake_slack: FakeSlack) -> None:
    link_channel(deps.ctx, Actor("UADMIN"), CHANNEL, Link("acme"))
    context = BoltContext(bot_user_id=FakeSlack.BOT_USER)
    on_thread_message(thread_message("+30m replaced toner", channel=CHANNEL, thread_ts=THREAD), context, deps)
    assert deps.later.idle()
    assert fake_slack.of("reactions.add")[0].params["name"] == "white_check_mark"
    entry = balance_of(deps.ctx, "acme").last_entries[0]
    assert (entry.minutes, entry.note, entry.source) == (30, "replaced toner", "thread")


def test_the_bots_own_thread_lines_are_not_logged(deps: Deps, acme: str) -> None:
    link_channel(deps.ctx, Actor("UADMIN"), CHANNEL, Link("acme"))
    context = BoltContext(bot_user_id=FakeSlack.BOT_USER)
    line = thread_message("+30m", channel=CHANNEL, thread_ts=THREAD, user=FakeSlack.BOT_USER)
    on_thread_message(line, context, deps)
    assert deps.later.idle()
    assert entry_count(deps.ctx) == 0


BOLT_ARGUMENTS = {"ack", "body", "action", "command", "event", "view", "options", "respond", "client", "context"}


def test_every_listener_asks_only_for_what_bolt_gives_and_deps(app: SlackApp) -> None:
    """A direct call cannot catch a parameter Bolt would not fill: this can, for every listener the
    app registered (its own middleware adds ``deps``)."""
    listeners = [listener.ack_function for listener in app._listeners]
    assert len(listeners) >= 30
    for function in listeners:
        asked = set(inspect.signature(function).parameters)
        assert asked <= BOLT_ARGUMENTS | {"deps"}, function.__name__
        assert function.__name__.startswith("on_") and function.__qualname__ == function.__name__
