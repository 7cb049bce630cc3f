"""Every command has a service, and every result a Slack view and a console view, each registered in
one place per layer (``functools.singledispatch``): a new command that forgets one is caught here."""

from __future__ import annotations

from typing import get_args

import bot.services.reports  # noqa: F401 - its results must be known before the walk
import bot.services.worktypes  # noqa: F401
from bot import console
from bot.domain import commands as c
from bot.services import service
from bot.services.results import Result
from handlers.views import replies as slack


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
