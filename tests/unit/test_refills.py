"""The refill policy's words and its one decision (``bot.domain.refills``), and how an alert says it."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.errors import ParseError
from bot.domain.grammar import parse_command
from bot.domain.notices import ThresholdCrossed
from bot.domain.refills import RefillDecision, RefillPolicy, decide, parse_refill, policy_of, refill_level
from bot.domain.thresholds import parse_thresholds
from bot.phrasebook import email_message, summary
from handlers.views.outbox import slack_message

AUTO = RefillPolicy("auto", 600, False, 1)


@pytest.mark.parametrize(
    ("words", "expected", "used"),
    [
        ("notify", {"refill_mode": None, "refill_minutes": None, "refill_paid": False, "refill_cap": 1}, 1),
        ("draft 10h", {"refill_mode": "draft", "refill_minutes": 600, "refill_paid": False, "refill_cap": 1}, 2),
        ("auto 10h paid", {"refill_mode": "auto", "refill_minutes": 600, "refill_paid": True, "refill_cap": 1}, 3),
        (
            "auto 7.5h max 2 per month",
            {"refill_mode": "auto", "refill_minutes": 450, "refill_paid": False, "refill_cap": 2},
            6,
        ),
        (
            "auto 10h max 3 overage bill",
            {"refill_mode": "auto", "refill_minutes": 600, "refill_paid": False, "refill_cap": 3},
            4,
        ),
    ],
)
def test_the_setting_reads_its_words_and_stops_at_the_next_setting(
    words: str, expected: dict[str, object], used: int
) -> None:
    assert parse_refill(words.split()) == (expected, used)


def test_the_grammar_takes_refill_among_other_settings() -> None:
    command = parse_command("client set acme refill auto 10h paid max 2 per month grace 3d", date(2026, 11, 25))
    assert command.changes == {  # type: ignore[attr-defined]
        "refill_mode": "auto",
        "refill_minutes": 600,
        "refill_paid": True,
        "refill_cap": 2,
        "expiry_grace_days": 3,
    }


@pytest.mark.parametrize(
    "words", ["", "often", "auto", "auto 0", "draft 5h max 2", "auto 5h max 0", "auto 5h max 2 per week"]
)
def test_a_bad_setting_is_refused_with_an_example(words: str) -> None:
    with pytest.raises(ParseError) as refused:
        parse_refill(words.split())
    assert "refill" in str(refused.value.example)


def test_the_rule_says_the_setting_in_its_own_words() -> None:
    assert AUTO.rule == "refill auto 10h"
    assert policy_of("auto", 600, True, 2, True).rule == "refill auto 10h paid max 2 per month"
    assert policy_of("draft", 300, False, 1, True).rule == "refill draft 5h"
    assert policy_of(None, None, False, 1, True).rule == "refill notify"


def test_the_refill_level_is_the_lowest_threshold_above_zero() -> None:
    assert refill_level(parse_thresholds("50%,25%,10%,0"), 600) == 60
    assert refill_level(parse_thresholds("2h,0"), 600) == 120
    assert refill_level(parse_thresholds("0"), 600) == 0


def test_only_a_fall_through_the_level_while_armed_refills() -> None:
    assert decide(AUTO, 100, 50, 60, 0) == RefillDecision("added", 600, False, "refill auto 10h")
    assert decide(AUTO, 100, -500, 60, 0) is not None  # through every threshold at once: one decision
    assert decide(AUTO, 60, 30, 60, 0) is None  # already at the level: not a new run-down
    assert decide(AUTO, 100, 61, 60, 0) is None
    assert decide(RefillPolicy("auto", 600, armed=False), 100, 50, 60, 0) is None
    assert decide(RefillPolicy(), 100, 50, 60, 0) is None  # notify


def test_past_the_cap_an_auto_refill_is_a_draft_that_says_why() -> None:
    decision = decide(AUTO, 100, 50, 60, 1)
    assert decision is not None and decision.action == "draft"
    assert decision.reason == "the cap of 1 refill a month is reached, so this one waits for a manager"
    assert decide(RefillPolicy("draft", 600), 100, 50, 60, 9) == RefillDecision("draft", 600, False, "refill draft 10h")


def alert(**refill: object) -> ThresholdCrossed:
    return ThresholdCrossed(
        client="acme",
        display_name="Acme",
        remaining_minutes=30,
        percent_left=5,
        used_30d_minutes=570,
        threshold="10%",
        **refill,  # type: ignore[arg-type]
    )


def test_an_alert_says_the_block_added_and_by_which_rule() -> None:
    added = alert(refill="added", refill_minutes=600, refill_paid=False, refill_rule="refill auto 10h", refill_block=2)
    assert summary(added) == "Acme is running low: 30m left (5%). Added 10h (refill auto 10h, unpaid)."
    text, blocks = slack_message(added)
    assert "refill_confirm" not in str(blocks)
    assert "Added 10h (refill auto 10h, unpaid)." in str(blocks)
    assert "Refill: Added 10h (refill auto 10h, unpaid)." in email_message(added)[1]


def test_a_capped_refill_says_why_and_offers_the_draft() -> None:
    capped = alert(
        refill="draft",
        refill_minutes=600,
        refill_paid=False,
        refill_rule="refill auto 10h",
        refill_reason="the cap of 1 refill a month is reached, so this one waits for a manager",
        refill_line=7,
    )
    assert summary(capped).endswith(
        "Ready to add: 10h, unpaid, invoice to follow. Not added automatically: the cap of 1 refill a month is "
        "reached, so this one waits for a manager."
    )
    _, blocks = slack_message(capped)
    actions = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert actions[:2] == ["refill_confirm", "refill_edit"]


def test_an_alert_without_a_refill_keeps_its_old_facts() -> None:
    assert "refill" not in alert().to_json()
