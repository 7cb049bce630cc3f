"""The follow-up a low balance opens in the PSA (issue 26, part 5): the setting's words, which kind a
client gets, and what the PSA is told. Pure."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain import commands as c
from bot.domain.errors import ParseError
from bot.domain.followups import followup_kind, followup_words, parse_psa_alert, with_reference
from bot.domain.grammar import parse_command

FACTS = {
    "client": "acme",
    "display_name": "Acme Corp",
    "remaining_minutes": 240,
    "burn_per_day_minutes": "12.0",
    "run_out_on": "2026-12-15",
    "next_expiry": "2027-11-01",
    "threshold": "50%",
}


def test_client_set_psa_alert_takes_activity_ticket_off_and_default() -> None:
    for word, stored in (("activity", "activity"), ("Ticket", "ticket"), ("off", "off"), ("default", None)):
        command = parse_command(f"client set acme psa-alert {word}", date(2026, 11, 25))
        assert command == c.ClientSet("acme", {"psa_alert": stored})


def test_another_word_is_refused_with_an_example() -> None:
    with pytest.raises(ParseError) as refused:
        parse_psa_alert("email")
    assert "use activity, ticket, off or default" in str(refused.value)
    assert refused.value.example == "client set acme psa-alert ticket"


def test_the_clients_own_choice_beats_the_default_and_off_is_none() -> None:
    assert followup_kind(None, "off") is None
    assert followup_kind(None, "ticket") == "ticket"
    assert followup_kind("activity", "ticket") == "activity"
    assert followup_kind("off", "ticket") is None


def test_the_follow_up_names_the_client_hours_left_burn_rate_and_the_link() -> None:
    summary, details = followup_words(FACTS, "https://slack.com/app_redirect?app=A1&team=T1")
    assert summary == "Acme Corp: 4h left, low on hours"
    assert details.splitlines() == [
        "Acme Corp has 4h left of prepaid time (crossed 50%).",
        "Burn rate: 12m a day over the last 30 days; at this rate it runs out on 2026-12-15.",
        "Next block expiry: 2027-11-01.",
        "Please contact the client about their next block of hours.",
        "Balance: https://slack.com/app_redirect?app=A1&team=T1",
    ]


def test_without_a_link_it_says_the_command_and_overdrawn_it_says_over() -> None:
    summary, details = followup_words({**FACTS, "remaining_minutes": -90, "burn_per_day_minutes": "0"}, None)
    assert summary == "Acme Corp: 1h 30m over, low on hours"
    assert "Burn rate: no billable time in the last 30 days." in details
    assert details.endswith("Balance in Slack: /balance acme")


def test_a_refill_added_in_the_same_change_is_said_instead_of_asking() -> None:
    summary, details = followup_words(FACTS, None, {"minutes": 600, "paid": False, "rule": "refill auto 10h"})
    assert summary == "Acme Corp: 4h left, refilled"
    assert "A refill of 10h (unpaid) was added automatically by rule refill auto 10h" in details
    assert "Please contact the client" not in details


def test_a_long_name_keeps_the_summary_within_100_characters_and_the_reference_is_the_last_line() -> None:
    summary, _ = followup_words({**FACTS, "display_name": "A" * 150}, None)
    assert len(summary) == 100
    assert with_reference("text", "abc").splitlines()[-1] == "blocktime:abc"
