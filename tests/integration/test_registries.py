"""Every command has a service, every result a Slack view and a console view, and every outbox notice
a fact type, a phrase (its line and its e-mail), a Slack layout and a webhook event, each registered in
one place per layer (``functools.singledispatch``): a new command or notice that forgets one is caught
here."""

from __future__ import annotations

import json
from typing import Any, get_args, get_type_hints

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


# Every notice kind as the services store it in the outbox today (every key, in their order).
STORED: dict[str, dict[str, Any]] = {
    "threshold": {
        "kind": "threshold",
        "client": "acme",
        "display_name": "Acme",
        "account_manager": "UAM",
        "remaining_minutes": 90,
        "overdraft_minutes": None,
        "percent_left": 15,
        "block_minutes": 600,
        "used_30d_minutes": 510,
        "burn_per_day_minutes": "17.0",
        "run_out_on": "2026-11-30",
        "next_expiry": "2027-01-31",
        "threshold": "20%",
        "level_minutes": 120,
        "before_minutes": 150,
        "at": "2026-11-25T10:00:00+00:00",
    },
    "expiry": {
        "kind": "expiry",
        "client": "acme",
        "display_name": "Acme",
        "account_manager": None,
        "block_id": 3,
        "block_number": 2,
        "block_minutes": 600,
        "forfeited_minutes": 90,
        "expires_on": "2026-11-24",
        "reason": "expired",
        "remaining_minutes": 0,
        "reference": "INV-7",
    },
    "renewal": {
        "kind": "renewal",
        "client": "acme",
        "display_name": "Acme",
        "block_id": 4,
        "block_number": 3,
        "minutes": 600,
        "start_on": "2026-12-01",
        "expires_on": None,
        "remaining_minutes": 600,
        "account_manager": None,
    },
    "digest": {
        "kind": "digest",
        "date": "2026-11-25",
        "low": [{"client": "acme", "display_name": "Acme", "remaining_minutes": 60, "threshold": "2h"}],
        "overdrawn": [{"client": "bolt", "display_name": "Bolt", "remaining_minutes": -30}],
        "expiring": [
            {
                "client": "acme",
                "display_name": "Acme",
                "remaining_minutes": 60,
                "expires_on": "2026-12-01",
                "block_id": 3,
                "block_number": 2,
            }
        ],
        "psa": {
            "name": "ConnectWise",
            "failed_count": 2,
            "failed": [
                {
                    "entry_id": 9,
                    "client": "acme",
                    "user_name": "Tess",
                    "minutes": 30,
                    "work_date": "2026-11-24",
                    "error": "no such member",
                }
            ],
        },
    },
    "statement": {
        "kind": "statement",
        "client": "acme",
        "display_name": "Acme",
        "account_manager": "UAM",
        "period": "October 2026",
        "start": "2026-10-01",
        "end": "2026-11-01",
        "opening_minutes": 0,
        "bought_minutes": 600,
        "used_minutes": 90,
        "forfeited_minutes": 0,
        "overage_billed_minutes": 0,
        "closing_minutes": 510,
        "remaining_minutes": 510,
        "non_billable_minutes": 0,
        "overage_minutes": 0,
        "late_minutes": 30,
        "by_technician": [["Tess Tech", 90]],
        "by_ticket": [["#12", 90]],
        "by_work_type": [["standard", 90]],
        "entry_count": 2,
        "correction_count": 0,
        "late": [
            {
                "entry_id": 5,
                "work_date": "2026-09-30",
                "recorded_on": "2026-10-01",
                "minutes": 30,
                "voided": False,
                "replaced_by": None,
                "replaces": None,
            }
        ],
        "in_grace": [
            {
                "as_of": "2026-11-25",
                "block_id": 1,
                "block_number": 1,
                "minutes": 60,
                "expires_on": "2026-10-31",
                "closing_on": "2026-11-30",
            }
        ],
    },
    "nudge": {
        "kind": "nudge",
        "user": "UTECH",
        "date": "2026-11-25",
        "count": 1,
        "threads": [
            {
                "client": "acme",
                "display_name": "Acme",
                "channel": "CACME",
                "thread_ts": "1700000000.000100",
                "started": "09:15",
            }
        ],
    },
    "timer_check": {
        "kind": "timer_check",
        "user": "UTECH",
        "client": "acme",
        "display_name": "Acme",
        "minutes": 600,
        "since": "Wed 25 Nov 08:00",
        "started_at": "2026-11-25T08:00:00+00:00",
    },
}
STORED["client_statement"] = {
    **{k: v for k, v in STORED["statement"].items() if k != "account_manager"},
    "kind": "client_statement",
    "by_technician": [["Tess", 90]],
}


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
        assert subject.startswith("[blocktime] ") and body, kind
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
