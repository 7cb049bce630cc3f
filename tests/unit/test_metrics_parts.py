"""The parts of ``/metrics`` that need no database: which kind of Slack input a request is (as Bolt
tells them apart), the bearer token check, and a scrape while the database is down."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from bot.metrics import DatabaseFigures, bearer_matches, request_kind
from storage.db import DatabaseUnavailable


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"command": "/logtime", "text": "acme 15m"}, "command"),
        ({"type": "event_callback", "event": {"type": "app_mention"}}, "event"),
        ({"type": "block_actions", "actions": [{"action_id": "undo_entry"}]}, "action"),
        ({"type": "block_suggestion", "action_id": "client", "value": "ac"}, "options"),
        ({"type": "shortcut", "callback_id": "log_time"}, "shortcut"),
        ({"type": "message_action", "callback_id": "log_from_message"}, "shortcut"),
        ({"type": "view_submission", "view": {"callback_id": "log_modal"}}, "view_submission"),
        ({"type": "view_closed", "view": {"callback_id": "log_modal"}}, "view_closed"),
        ({"type": "url_verification", "challenge": "x"}, "url_verification"),
        ({"ssl_check": "1"}, "ssl_check"),
        ({"type": "something_new"}, "other"),
        ({}, "other"),
    ],
)
def test_a_request_is_named_by_its_kind_of_input(body: dict[str, Any], kind: str) -> None:
    assert request_kind(body) == kind


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("Bearer s3cret", True),
        ("bearer s3cret", True),
        ("Bearer  s3cret ", True),
        ("Bearer s3cre", False),
        ("Bearer s3cret2", False),
        ("Basic s3cret", False),
        ("s3cret", False),
        ("Bearer", False),
        ("", False),
        (None, False),
    ],
)
def test_only_the_bearer_token_itself_opens_the_metrics(header: str | None, ok: bool) -> None:
    assert bearer_matches(header, "s3cret") is ok


def test_a_scrape_without_the_database_says_so_and_leaves_its_figures_out(caplog: pytest.LogCaptureFixture) -> None:
    class Down:
        def unit_of_work(self, read_only: bool = False) -> Any:
            raise DatabaseUnavailable("connection refused")

    ctx = SimpleNamespace(db=Down(), now=lambda: datetime(2026, 11, 25, tzinfo=UTC))
    families = {family.name: family for family in DatabaseFigures(ctx).collect()}  # type: ignore[arg-type]
    assert list(families) == ["blocktime_database_up"]
    assert families["blocktime_database_up"].samples[0].value == 0
    assert "did not answer (DatabaseUnavailable)" in caplog.text
