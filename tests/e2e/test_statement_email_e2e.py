"""``statement acme last month --email`` by hand, as a manager sends it: through the CLI (the mail goes
before the command returns) and through ``/blocktime`` over signed HTTP (the dispatcher sends it),
to the loopback SMTP server."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime
from email.policy import default

import pytest

from bot.bootstrap import transports_for
from bot.clock import FixedClock
from bot.config import Settings
from bot.jobs.dispatcher import Dispatcher
from bot.services import Actor, Context
from tests.e2e.processes import Cli
from tests.e2e.slack_harness import SIGNING_SECRET, SlackDriver, assert_valid_message
from tests.e2e.test_slack_commands import ack_of, all_text
from tests.fakes.receivers import MailBox
from tests.fakes.slack_api import FakeSlack
from tests.helpers import do

AP = "ap@acme.example"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[MailBox]:
    box = MailBox().start()
    yield box
    box.stop()


@pytest.fixture
def slack_settings(fake_slack: FakeSlack, mailbox: MailBox) -> Settings:
    mailbox.reset()
    return Settings(
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        admins=frozenset({"UADMIN"}),
        smtp_url=mailbox.url,
        public_url="https://hours.example",
    )


def october(ctx: Context, clock: FixedClock) -> None:
    """Acme's October, with its statement addresses; then today is 25 November."""
    now = clock.at
    clock.at = datetime(2026, 10, 6, 10, 0, tzinfo=UTC)
    admin = Actor.local_admin()
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, f"client set acme statement-email {AP}")
    do(ctx, admin, "topup acme 10")
    do(ctx, Actor("UTESS", "Tess Tech"), "logtime acme 45m vpn #12")
    clock.at = now


def the_one_mail(mailbox: MailBox) -> tuple[str, str]:
    [raw] = mailbox.messages
    assert raw["to"] == [AP]
    message = email.message_from_string(raw["data"], policy=default)
    plain, html = message.get_body(("plain",)), message.get_body(("html",))  # type: ignore[attr-defined]
    return plain.get_content(), html.get_content()


def test_a_statement_is_emailed_by_hand_through_the_cli(
    cli: Cli, ctx: Context, clock: FixedClock, mailbox: MailBox
) -> None:
    mailbox.reset()
    october(ctx, clock)
    cli.env.update(SMTP_URL=mailbox.url, BLOCKTIME_PUBLIC_URL="https://hours.example")
    sent = cli.json("statement", "acme", "last", "month", "--email")["data"]
    assert sent == {"client": "acme", "period": "October 2026", "queued": [AP], "already": []}
    plain, html = the_one_mail(mailbox)  # delivered before the command returned
    assert "October 2026" in plain and "Tess 45m" in plain and "https://hours.example/c/" in plain + html
    again = cli.json("statement", "acme", "last", "month", "--email")["data"]
    assert again["already"] == [AP] and len(mailbox.messages) == 1


def test_the_cli_previews_a_statement_without_email_and_refuses_bad_addresses_with_an_example(
    cli: Cli, ctx: Context, clock: FixedClock, mailbox: MailBox
) -> None:
    mailbox.reset()
    october(ctx, clock)
    cli.env.update(SMTP_URL=mailbox.url, BLOCKTIME_PUBLIC_URL="https://hours.example")
    done = cli.run("statement", "acme", "last", "month")
    assert done.returncode == 0, done.stdout + done.stderr
    said = done.stdout
    assert "Preview of the October 2026 statement e-mail of Acme Corp (nothing sent)." in said
    assert "Subject: Your statement of block hours for October 2026: Acme Corp" in said
    assert "Tess 45m" in said and "Tess Tech" not in said and "statement acme 2026-10 --email" in said
    shown = cli.json("statement", "acme", "2026-10")
    assert (shown["addresses"], shown["already"], shown["month_over"]) == ([AP], [], True)
    assert shown["text"].startswith("Statement for Acme Corp, October 2026\n")
    assert shown["statement"]["by_technician"] == [["Tess", 45]]
    assert mailbox.messages == []  # a preview sends nothing
    bad = cli.run("client", "set", "acme", "statement-email", "ap@acme.example,nope")
    assert bad.returncode != 0 and "`nope` is not an e-mail address" in " ".join((bad.stdout + bad.stderr).split())


def test_a_manager_emails_a_statement_from_slack(
    slack: SlackDriver, slack_ctx: Context, clock: FixedClock, mailbox: MailBox
) -> None:
    october(slack_ctx, clock)
    do(slack_ctx, Actor.local_admin(), "role <@UMGR> manager")
    body = ack_of(slack.command("/blocktime", "statement acme last month --email", user="UMGR"))
    assert body["response_type"] == "ephemeral" and AP in all_text(body) and "on its way" in all_text(body)
    Dispatcher(slack_ctx, transports_for(slack_ctx)).run_once()
    plain, _ = the_one_mail(mailbox)
    assert "Statement for Acme Corp, October 2026" in plain


def test_a_manager_previews_a_statement_from_slack_only_for_themselves(
    slack: SlackDriver, slack_ctx: Context, clock: FixedClock, mailbox: MailBox
) -> None:
    october(slack_ctx, clock)
    do(slack_ctx, Actor.local_admin(), "role <@UMGR> manager")
    reply = slack.command("/blocktime", "statement acme last month", user="UMGR")
    body = ack_of(reply)
    assert_valid_message(body.get("blocks", []), body.get("text"))
    assert body["response_type"] == "ephemeral" and "Preview of the October 2026 statement e-mail" in all_text(body)
    assert "Tess 45m" in all_text(body) and "statement acme 2026-10 --email" in all_text(body)
    assert Dispatcher(slack_ctx, transports_for(slack_ctx)).run_once() == 0 and mailbox.messages == []
    refused = ack_of(slack.command("/blocktime", "statement acme last month", user="UTECH"))
    assert "Tess 45m" not in all_text(refused)
