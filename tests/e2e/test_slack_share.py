"""``/blocktime share`` through the real Bolt app over signed HTTP: the link goes only to the manager who
asked (ephemeral), never to technicians, guests or another organisation's members, and never to a log."""

from __future__ import annotations

import logging

import pytest

from bot.services import Context
from bot.services.shares import resolve_share
from tests.e2e.slack_harness import SlackDriver
from tests.e2e.test_slack_commands import ack_of, all_text
from tests.fakes.slack_api import FakeSlack

GUEST = "UGUEST"
EXTERNAL = "UEXT"


def test_a_manager_gets_the_link_privately_and_it_never_reaches_a_log(
    slack: SlackDriver, slack_ctx: Context, acme: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        body = ack_of(slack.command("/blocktime", "share acme 90d", user="UMGR"))
        assert body["response_type"] == "ephemeral"
        text = all_text(body)
        token = text.split("/c/", 1)[1].split()[0].split("\\n")[0].rstrip("'\"")
        assert len(token) >= 43 and "until" in text
        assert resolve_share(slack_ctx, token, slack_ctx.now()) is not None
        listed = all_text(ack_of(slack.command("/blocktime", "share list", user="UMGR")))
        assert "acme link 1" in listed and token not in listed
        revoked = ack_of(slack.command("/blocktime", "share revoke acme 1", user="UADMIN"))
        assert revoked["response_type"] == "ephemeral" and "Revoked link 1" in all_text(revoked)
    assert resolve_share(slack_ctx, token, slack_ctx.now()) is None
    assert token not in caplog.text


def test_help_names_the_share_command(slack: SlackDriver, acme: str) -> None:
    assert "share <client> [days]" in all_text(ack_of(slack.command("/blocktime", "help share")))


@pytest.mark.parametrize("line", ["share acme", "share list", "share revoke acme"])
def test_a_technician_is_refused(slack: SlackDriver, slack_ctx: Context, acme: str, line: str) -> None:
    body = ack_of(slack.command("/blocktime", line, user="UTECH"))
    assert body["response_type"] == "ephemeral" and "account managers and admins" in all_text(body)
    assert "/c/" not in all_text(body)


@pytest.mark.parametrize("line", ["share acme", "share list", "share revoke acme"])
@pytest.mark.parametrize(
    ("user", "facts"),
    [
        (GUEST, {"is_restricted": True}),
        (EXTERNAL, {"team_id": "TCLIENT", "profile": {"real_name": "Eve Client", "team": "TCLIENT"}}),
    ],
)
def test_a_guest_or_slack_connect_member_is_refused(
    slack: SlackDriver, fake_slack: FakeSlack, slack_ctx: Context, acme: str, user: str, facts: dict, line: str
) -> None:  # type: ignore[type-arg]
    fake_slack.user_facts[user] = facts
    body = ack_of(slack.command("/blocktime", line, user=user))
    assert body["response_type"] == "ephemeral" and "/c/" not in all_text(body)
    assert "staff" in all_text(body) or "guests" in all_text(body)
    assert "acme" not in all_text(body).replace(line, "")


def test_a_guest_given_the_manager_role_is_still_refused(
    slack: SlackDriver, fake_slack: FakeSlack, slack_ctx: Context, acme: str
) -> None:
    from bot.services import Actor
    from tests.helpers import do

    do(slack_ctx, Actor.local_admin(), f"role <@{GUEST}> manager")
    fake_slack.user_facts[GUEST] = {"is_restricted": True}
    body = ack_of(slack.command("/blocktime", "share acme", user=GUEST))
    assert "guests can't" in all_text(body) and "/c/" not in all_text(body)
