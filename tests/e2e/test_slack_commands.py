"""Slash commands through the real Bolt app over signed HTTP, with the fake Slack Web API."""

from __future__ import annotations

import logging

import pytest

from bot.clock import FixedClock
from bot.services import Context
from tests.e2e.slack_harness import SlackDriver, assert_valid_message
from tests.helpers import balance_of, entry_count


def ack_of(reply) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert reply.status == 200, reply.body
    body = reply.json
    assert_valid_message(body.get("blocks", []), body.get("text"))
    return body  # type: ignore[no-any-return]


def all_text(body: dict) -> str:  # type: ignore[type-arg]
    parts = [body.get("text", "")]
    for block in body.get("blocks", []):
        parts.append(str(block))
    return " ".join(parts)


def test_logtime_confirms_ephemerally_with_balance_bar_and_undo(
    slack: SlackDriver, slack_ctx: Context, acme: str
) -> None:
    body = ack_of(slack.command("/logtime", "acme 15m laptop advice"))
    assert body["response_type"] == "ephemeral"
    text = all_text(body)
    assert "15m" in text and "Acme Corp" in text and "9h 45m" in text and "█" in text
    undo = [b for b in body["blocks"] if b["type"] == "actions"][0]["elements"][0]
    assert undo["action_id"] == "undo_entry" and undo["text"]["text"] == "Undo"
    view = balance_of(slack_ctx, "acme")
    assert view.used_minutes == 15 and view.last_entries[0].user_name == "Tess Tech"
    assert view.last_entries[0].source == "slack"


def test_logtime_shows_billable_minutes_after_rounding(slack: SlackDriver, slack_ctx: Context, acme: str) -> None:
    from bot.services import Actor
    from tests.helpers import do

    do(slack_ctx, Actor.local_admin(), "client set acme rounding 15m")
    body = ack_of(slack.command("/logtime", "acme 5m quick question"))
    assert "15m billable after rounding" in all_text(body)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acme 90 laptop", "add a unit: 90m or 1.5h"),
        ("acmee 15m x", "Did you mean `acme`"),
        ("acme 25h marathon", "more than 24h"),
        ("", "Say which client"),
        ("acme 11h big job", "no overdraft"),
    ],
)
def test_logtime_refusals_are_friendly_and_write_nothing(
    slack: SlackDriver, slack_ctx: Context, acme: str, text: str, expected: str
) -> None:
    body = ack_of(slack.command("/logtime", text))
    assert body["response_type"] == "ephemeral" and expected in all_text(body)
    assert "Traceback" not in all_text(body)
    assert entry_count(slack_ctx) == 0


def test_the_same_slash_command_sent_twice_records_once(slack: SlackDriver, slack_ctx: Context, acme: str) -> None:
    first = ack_of(slack.command("/logtime", "acme 30m vpn", trigger_id="trig.same"))
    again = ack_of(slack.command("/logtime", "acme 30m vpn", trigger_id="trig.same"))
    assert "Logged" in all_text(first) and "Already logged" in all_text(again)
    assert entry_count(slack_ctx) == 1


def test_undo_voids_the_entry_for_its_author_within_ten_minutes(
    slack: SlackDriver, slack_ctx: Context, clock: FixedClock, acme: str, fake_slack
) -> None:  # type: ignore[no-untyped-def]
    ack_of(slack.command("/logtime", "acme 30m a"))
    other = slack.click("undo_entry", "1", user="UMGR")
    assert other.status == 200
    refusal = fake_slack.wait_for("response_url")[-1].params
    assert "Only the person who logged" in refusal["text"] and refusal["replace_original"] is False
    assert slack.click("undo_entry", "1", user="UTECH").status == 200
    done = fake_slack.wait_for("response_url", 2)[-1].params
    assert done["replace_original"] is True and "voided" in done["text"]
    assert_valid_message(done["blocks"], done["text"])
    assert balance_of(slack_ctx, "acme").used_minutes == 0
    slack.click("undo_entry", "1", user="UTECH")  # a double click
    assert "already undone" in fake_slack.wait_for("response_url", 3)[-1].params["text"]
    ack_of(slack.command("/logtime", "acme 15m b"))
    clock.advance(minutes=11)
    slack.click("undo_entry", "2", user="UTECH")
    assert "Undo works for 10 minutes" in fake_slack.wait_for("response_url", 4)[-1].params["text"]
    assert balance_of(slack_ctx, "acme").used_minutes == 15


def test_an_undo_button_with_a_value_no_entry_can_have_is_ignored(
    slack: SlackDriver, slack_ctx: Context, acme: str, fake_slack, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    """Found by the bench's fuzz: a forged button value too large for the database was an "unexpected
    error" (and a "something went wrong" to the user). It is not one of our buttons: nothing happens."""
    ack_of(slack.command("/logtime", "acme 30m a"))
    with caplog.at_level(logging.WARNING, logger="blocktime"):
        for value in ("9" * 40, "-1", "0", "1e3", "#1x"):
            assert slack.click("undo_entry", value, user="UTECH").status == 200
        assert balance_of(slack_ctx, "acme").used_minutes == 30
        slack.click("undo_entry", "1", user="UTECH")  # then a real one, answered after those
        answered = fake_slack.wait_for("response_url")
    assert len(answered) == 1 and "voided" in answered[0].params["text"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_balance_is_ephemeral_or_a_public_client_card_in_the_linked_channel(
    slack: SlackDriver, slack_ctx: Context, acme: str
) -> None:
    from bot.domain.commands import Link
    from bot.services import Actor
    from bot.services.channels import link_channel

    private = ack_of(slack.command("/balance", "acme"))
    assert private["response_type"] == "ephemeral" and "10h" in all_text(private)
    unlinked = ack_of(slack.command("/balance", "acme public"))
    assert unlinked["response_type"] == "ephemeral" and "linked to the client" in all_text(unlinked)
    link_channel(slack_ctx, Actor("UADMIN"), "CGENERAL", Link("acme"))
    public = ack_of(slack.command("/balance", "acme public"))
    assert public["response_type"] == "in_channel" and "10h left" in all_text(public)


def test_balance_alone_lists_every_client_lowest_first(slack: SlackDriver, slack_ctx: Context, acme: str) -> None:
    from bot.services import Actor
    from tests.helpers import do

    do(slack_ctx, Actor.local_admin(), "client add globex Globex")
    do(slack_ctx, Actor.local_admin(), "topup globex 2")
    text = all_text(ack_of(slack.command("/balance", "")))
    assert text.index("Globex") < text.index("Acme Corp")


def test_a_linked_channel_needs_no_client_handle(slack: SlackDriver, slack_ctx: Context, acme: str) -> None:
    refused = ack_of(slack.command("/blocktime", "link acme", user="UTECH", channel="CACME"))
    assert "Only admins can link channels" in all_text(refused)
    linked = ack_of(slack.command("/blocktime", "link acme", user="UADMIN", channel="CACME"))
    assert "now linked to Acme Corp" in all_text(linked)
    logged = ack_of(slack.command("/logtime", "30m fixed VPN", channel="CACME"))
    assert "Acme Corp" in all_text(logged) and balance_of(slack_ctx, "acme").used_minutes == 30
    balance = ack_of(slack.command("/balance", "", channel="CACME"))
    assert "Acme Corp" in all_text(balance) and "9h 30m" in all_text(balance)


def test_topup_with_arguments_for_managers_only(slack: SlackDriver, slack_ctx: Context, acme: str) -> None:
    refused = ack_of(slack.command("/topup", "acme 5", user="UTECH"))
    assert "Only account managers and admins can top up" in all_text(refused)
    assert balance_of(slack_ctx, "acme").purchased_minutes == 600
    done = ack_of(slack.command("/topup", "acme 5 expires 2099-01-31 price 750 ref INV-9", user="UMGR"))
    assert "Added *5h*" in all_text(done) and "INV-9" in all_text(done)
    assert balance_of(slack_ctx, "acme").purchased_minutes == 900


def test_blocktime_subcommands(slack: SlackDriver, slack_ctx: Context, acme: str) -> None:
    ack_of(slack.command("/logtime", "acme 1h printer #77"))
    assert "Block 1" in all_text(ack_of(slack.command("/blocktime", "blocks acme")))
    assert "#77" in all_text(ack_of(slack.command("/blocktime", "entries acme this month")))
    assert "logtime" in all_text(ack_of(slack.command("/blocktime", "help")))
    assert "logtime" in all_text(ack_of(slack.command("/blocktime", "")))
    assert "is now a manager" in all_text(
        ack_of(slack.command("/blocktime", "role <@UTECH|tess> manager", user="UADMIN"))
    )
    assert "Only admins" in all_text(ack_of(slack.command("/blocktime", "client add globex Globex", user="UTECH")))
    assert "Globex" in all_text(ack_of(slack.command("/blocktime", "client add globex Globex", user="UADMIN")))
    assert "overage bill" in all_text(
        ack_of(slack.command("/blocktime", "client set globex overage bill", user="UADMIN"))
    )
    assert "voided" in all_text(ack_of(slack.command("/blocktime", "void 1", user="UADMIN")))
    assert balance_of(slack_ctx, "acme").used_minutes == 0


def test_a_technician_cannot_void_someone_elses_entry(slack: SlackDriver, slack_ctx: Context, acme: str) -> None:
    ack_of(slack.command("/logtime", "acme 1h job", user="UMGR"))
    refused = ack_of(slack.command("/blocktime", "void 1", user="UTECH"))
    assert "someone else's" in all_text(refused)
    assert balance_of(slack_ctx, "acme").used_minutes == 60
