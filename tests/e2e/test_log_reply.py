"""The ``/logtime`` reply is built as plain dicts (it is the hottest message); they must be exactly what
slack_sdk's validated models produce, for every shape of result."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from slack_sdk.models.blocks import Block

from bot.services.results import LogResult
from handlers.views.replies import UNDO_ACTION, render_log
from tests.e2e.slack_harness import assert_valid_message

PLAIN = LogResult(
    entry_id=7,
    client="acme",
    display_name="Acme <Corp> & Sons",
    minutes=20,
    typed="20m",
    billable_minutes=30,
    non_billable=False,
    overage_minutes=0,
    work_date=date(2026, 11, 25),
    note="printer *jam* " + "x" * 4000,
    ticket="#42",
    remaining_minutes=130,
    percent_left=72,
)


@pytest.mark.parametrize(
    "result",
    [
        PLAIN,
        replace(PLAIN, duplicate=True),
        replace(PLAIN, non_billable=True, billable_minutes=0, note=""),
        replace(PLAIN, overage_minutes=15, remaining_minutes=-15, percent_left=0),
    ],
)
def test_log_reply_blocks_are_what_the_models_build(result: LogResult) -> None:
    text, blocks = render_log(result)
    assert_valid_message(blocks, text)
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None and parsed.to_dict() == block
    assert "Acme &lt;Corp&gt; &amp; Sons" in blocks[0]["text"]["text"]
    assert len(blocks[0]["text"]["text"]) <= 3000
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == ([] if result.duplicate else [(UNDO_ACTION, "7")])
