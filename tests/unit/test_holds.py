"""The overage hold's rules (issue 26, part 6), pure: the setting's words, the limit (hours or a share
of the last block, plus approvals), ``EntryPlan.held``, the words of a refusal and of a confirmation,
and who may use the client's Approve button."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.charges import Policy, plan_entry
from bot.domain.client_ledger import LedgerBlock
from bot.domain.commands import ApproveOverage, ClientSet
from bot.domain.errors import ParseError
from bot.domain.grammar import parse_command
from bot.domain.holds import (
    HoldLimit,
    approve_label,
    client_approval_offer,
    client_approval_refusal,
    client_approved_this_run,
    held_message,
    hold_limit,
    overage_words,
    parse_hold_at,
)

TODAY = date(2026, 12, 3)
UNLIMITED = Policy(rounding=0, minimum=0, overdraft=None, grace_days=7)


def parse(line: str) -> object:
    return parse_command(line, TODAY)


@pytest.mark.parametrize(
    ("text", "columns"),
    [
        ("2h", {"hold_at_minutes": 120, "hold_at_percent": None}),
        ("1h30m", {"hold_at_minutes": 90, "hold_at_percent": None}),
        ("25%", {"hold_at_minutes": None, "hold_at_percent": 25}),
        ("0", {"hold_at_minutes": 0, "hold_at_percent": None}),
        ("none", {"hold_at_minutes": None, "hold_at_percent": None}),
    ],
)
def test_hold_at_takes_hours_a_percentage_or_none(text: str, columns: dict[str, object]) -> None:
    assert parse_hold_at(text) == columns
    assert parse(f"client set acme hold-at {text}") == ClientSet("acme", columns)


@pytest.mark.parametrize("text", ["2", "-2h", "lots", "25.5%", "2000%"])
def test_hold_at_refuses_what_it_cannot_read_with_an_example(text: str) -> None:
    with pytest.raises(ParseError) as error:
        parse(f"client set acme hold-at {text}")
    assert "hold-at 2h" in str(error.value)


def test_client_approves_is_on_or_off_and_approve_takes_a_client_and_a_time() -> None:
    assert parse("client set acme client-approves on") == ClientSet("acme", {"client_approves": True})
    assert parse("client set acme client-approves off") == ClientSet("acme", {"client_approves": False})
    assert parse("approve acme 2h") == ApproveOverage("acme", 120)
    assert parse("approve Acme 1h30m") == ApproveOverage("acme", 90)
    for wrong in ("approve acme", "approve acme 2", "approve acme 0h", "approve acme 2h more"):
        with pytest.raises(ParseError, match="approve acme 2h"):
            parse(wrong)


def test_the_limit_is_hours_or_a_share_of_the_last_block_plus_what_was_approved() -> None:
    assert hold_limit(None, None, 60) is None
    assert HoldLimit(minutes=120, approved_minutes=60).allowed == 180
    share = HoldLimit(percent=25, last_block_minutes=600, approved_minutes=0)
    assert (share.limit, share.setting()) == (150, "25% of the last block (2h 30m)")
    assert share.client_approval_minutes() == 150
    assert HoldLimit(minutes=0).client_approval_minutes() == 120


def test_an_entry_is_held_only_when_it_adds_overage_past_the_hold() -> None:
    hold = HoldLimit(minutes=120)
    assert not hold.held(open_overage=60, added=60)  # up to the hold
    assert hold.held(open_overage=60, added=61)
    assert hold.held(open_overage=120, added=1)
    assert not hold.held(open_overage=300, added=0)  # non-billable, or paid by a block


def test_plan_entry_says_held_when_the_overage_would_pass_the_hold() -> None:
    block = LedgerBlock(1, 1, 60, 60, 0, date(2026, 12, 1), None)
    hold = HoldLimit(minutes=120)

    def plan(minutes: int, overage: int = 0, block_left: int = 60) -> bool:
        blocks = [LedgerBlock(1, 1, 60, block_left, 0, date(2026, 12, 1), None)]
        return plan_entry(minutes, False, TODAY, TODAY, UNLIMITED, blocks, overage, hold=hold).held

    assert not plan(180)  # 1h from the block, 2h over: at the hold
    assert plan(181)
    assert plan(15, overage=120, block_left=0)
    assert not plan_entry(600, False, TODAY, TODAY, UNLIMITED, [block], 0).held  # no hold: never held


def test_the_refusal_says_how_far_over_and_who_may_approve() -> None:
    hold = HoldLimit(minutes=120)
    assert held_message("Acme", 120, 135, hold).startswith(
        "Not recorded: Acme is 2h over; ask an account manager or the client to approve more."
    )
    crossing = held_message("Acme", 90, 150, HoldLimit(minutes=60, approved_minutes=60))
    assert "Acme is 1h 30m over;" in crossing
    assert "would take the overage to 2h 30m, past its hold at 1h + 1h approved" in crossing
    assert "Acme has no hours left;" in held_message("Acme", 0, 30, HoldLimit(minutes=0))


def test_the_confirmation_gives_the_overage_so_far_and_where_the_hold_stands() -> None:
    assert overage_words("Acme", 30, 90, None) == (
        "30m of it is overage (no block left to draw from): Acme is 1h 30m over so far."
    )
    assert overage_words("Acme", 30, 90, 30).endswith("over so far. 30m more and new time is on hold.")
    assert "New time is now on hold" in overage_words("Acme", 30, 120, 0)
    assert overage_words("Acme", 30, 0, None) == "30m of it is overage (no block left to draw from)."


def test_the_button_names_the_hours_it_approves() -> None:
    assert approve_label(120) == "Approve up to 2 more hours"
    assert approve_label(60) == "Approve up to 1 more hour"
    assert approve_label(150) == "Approve up to 2h 30m more"


def test_only_a_slack_connect_member_of_the_linked_shared_channel_may_approve() -> None:
    ok = {
        "external": True,
        "other_team": True,
        "channel_connect": True,
        "member": True,
        "linked": True,
        "team": "TACME",
        "channel_teams": ("TACME",),
    }
    assert client_approval_refusal(**ok) is None
    staff = client_approval_refusal(**(ok | {"external": False}))
    assert staff is not None and "account managers approve with `approve" in staff
    assert client_approval_refusal(**(ok | {"other_team": False})) is not None  # a bot, or of our own team
    for fact in ("channel_connect", "member", "linked"):
        assert client_approval_refusal(**(ok | {fact: False})) == "For your hours, ask your account manager."


def test_the_card_offers_an_approval_only_with_no_usable_hours_and_none_held_for_payment() -> None:
    hold = HoldLimit(minutes=120)
    assert client_approval_offer(hold, True, 0, 0) == 120
    assert client_approval_offer(hold, True, -30, 0) == 120
    assert client_approval_offer(hold, True, 15, 0) is None  # hours left: the next entry draws a block
    assert client_approval_offer(hold, True, 0, 600) is None  # pay-first: hours wait for payment
    assert client_approval_offer(hold, False, 0, 0) is None
    assert client_approval_offer(None, True, 0, 0) is None


def test_a_channel_shared_with_more_than_one_organisation_fails_closed() -> None:
    ok = {"external": True, "other_team": True, "channel_connect": True, "member": True, "linked": True}
    many = client_approval_refusal(**ok, team="TACME", channel_teams=("TACME", "TGLOBEX"))
    assert many is not None and "more than one organisation" in many and "account manager must approve" in many
    for team, teams in (("TACME", None), (None, ("TACME",)), ("TGLOBEX", ("TACME",))):
        assert client_approval_refusal(**ok, team=team, channel_teams=teams) is not None
    assert client_approval_refusal(**ok, team="TACME", channel_teams=("TACME",)) is None


def test_the_clients_own_approvals_count_for_this_run_only() -> None:
    # newest first: a manager's 1h on top of the client's 2h, in a run after an earlier client 2h
    chain = [(120, 180, False), (0, 120, True), (0, 120, True)]
    assert client_approved_this_run(180, chain) == 120
    assert client_approved_this_run(0, chain) == 0  # paid off: approvals spent
    assert client_approved_this_run(60, [(0, 60, False), (0, 120, True)]) == 0  # a manager began this run
    assert client_approval_offer(HoldLimit(minutes=120), True, 0, 0, client_approved_minutes=120) is None
    assert client_approval_offer(HoldLimit(minutes=120), True, 0, 0, client_approved_minutes=60) == 60
