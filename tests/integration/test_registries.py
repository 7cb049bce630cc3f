"""Every command has a service, every result a Slack view and a console view, and every outbox notice
a fact type, a phrase (its line and its e-mail), a Slack layout and a webhook event, each registered in
one place per layer (``functools.singledispatch``): a new command or notice that forgets one is caught
here."""

from __future__ import annotations

import json
from typing import get_args, get_type_hints

import bot.services.reports  # noqa: F401 - its results must be known before the walk
import bot.services.worktypes  # noqa: F401
from bot import console
from bot.domain import commands as c
from bot.domain.notices import BY_KIND, NOTICES, Notice, notice_from_json
from bot.jobs.transports import webhook_body
from bot.phrasebook import email_message, summary
from bot.services import service
from bot.services.dispatch import SERVED
from bot.services.results import Result
from handlers.views import replies as slack
from handlers.views.outbox import layout, slack_message
from tests.e2e.slack_harness import assert_valid_message
from tests.notice_samples import STORED


def _results() -> set[type]:
    found: set[type] = set()
    todo = list(Result.__subclasses__())
    while todo:
        kind = todo.pop()
        found.add(kind)
        todo.extend(kind.__subclasses__())
    return found


def test_every_command_has_a_service() -> None:
    fallback = service.dispatch(object)
    missing = [kind.__name__ for kind in get_args(c.Command) if service.dispatch(kind) is fallback]
    assert missing == []


def test_every_result_has_a_slack_and_a_console_view() -> None:
    # parts of a result (a row of a table), never answered on their own
    parts = {
        k
        for k in _results()
        if k.__name__ == "CardEntry" or (k.__name__.endswith("View") and k.__name__ != "ClientView")
    }
    results = _results() - parts
    slack_fallback, console_fallback = slack.render.dispatch(object), console._view.dispatch(object)
    assert [k.__name__ for k in results if slack.render.dispatch(k) is slack_fallback] == []
    assert [k.__name__ for k in results if console._view.dispatch(k) is console_fallback] == []


def test_every_command_is_served_by_one_function_whose_results_have_views() -> None:
    assert sorted(k.__name__ for k in SERVED) == sorted(k.__name__ for k in get_args(c.Command))
    slack_fallback, console_fallback = slack.render.dispatch(object), console._view.dispatch(object)
    for kind, function in SERVED.items():
        returned = get_type_hints(function)["return"]
        results = get_args(returned) or (returned,)
        assert Result not in results, f"{function.__qualname__} should name the result it returns"
        for result in results:
            assert slack.render.dispatch(result) is not slack_fallback, (kind.__name__, result.__name__)
            assert console._view.dispatch(result) is not console_fallback, (kind.__name__, result.__name__)


def _notices() -> set[type[Notice]]:
    found: set[type[Notice]] = set()
    todo = list(Notice.__subclasses__())
    while todo:
        kind = todo.pop()
        found.add(kind)
        todo.extend(kind.__subclasses__())
    return found


def test_every_notice_type_has_a_kind_a_phrase_and_a_slack_layout() -> None:
    assert _notices() == set(NOTICES) == set(BY_KIND.values())
    phrase_fallback, layout_fallback = summary.dispatch(object), layout.dispatch(object)
    assert [k.__name__ for k in NOTICES if summary.dispatch(k) is phrase_fallback] == []
    assert [k.__name__ for k in NOTICES if layout.dispatch(k) is layout_fallback] == []


def test_every_notice_kind_reads_back_as_stored_and_delivers_to_every_destination() -> None:
    assert set(STORED) == set(BY_KIND)
    for kind, stored in STORED.items():
        notice = notice_from_json(stored)
        assert type(notice) is BY_KIND[kind] and notice.to_json() == stored, kind
        text, blocks = slack_message(notice)
        assert_valid_message(blocks, text)
        subject, body = email_message(notice)
        to_a_client = kind == "statement_email"  # the client's own e-mail: no internal tag in its subject
        assert (to_a_client or subject.startswith("[blocktime] ")) and body, kind
        assert json.loads(webhook_body(stored, 1))["event"] == BY_KIND[kind].event(), kind


def test_a_notice_queued_before_a_fact_was_added_still_reads() -> None:
    """Rows already in an outbox keep delivering: an alert without the client's overdraft says nothing
    of a limit, a statement without its period's bounds counts "in the period"."""
    alert = {k: v for k, v in STORED["threshold"].items() if k not in ("overdraft_minutes", "at")}
    assert notice_from_json(alert).to_json() == {**alert, "at": None}
    overdrawn = notice_from_json({**alert, "remaining_minutes": -30})
    assert summary(overdrawn) == "Acme is overdrawn by 30m."
    old = {k: v for k, v in STORED["statement"].items() if k not in ("start", "end", "late", "in_grace")}
    assert "used (recorded in the period) 1h 30m" in summary(notice_from_json(old))
