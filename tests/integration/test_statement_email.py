"""The client's statement by e-mail (issue 27, part 2) against the loopback SMTP server: the monthly job
sends one multipart mail per address with the page's link, once; a 4xx is tried again; a 5xx is a
bounce told to the managers while the other addresses still get theirs. Time is a fixed clock moved by
hand; the dispatcher runs one pass at a time."""

from __future__ import annotations

import email
import json
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from bot.bootstrap import transports_for
from bot.clock import FixedClock
from bot.domain.errors import ParseError, PermissionDenied, Refused
from bot.jobs.dispatcher import Dispatcher
from bot.jobs.scheduler import run_job
from bot.phrasebook import statement_preview_heading
from bot.services import Actor, Context
from bot.services.results import StatementPreview
from bot.services.shares import resolve_share
from bot.services.statement_mail import PREVIEW_LINK
from storage.models import AuditLog, Client, OutboxMessage, ShareLink
from tests.fakes.receivers import MailBox
from tests.fakes.slack_api import FakeSlack
from tests.helpers import do

AP, CEO = "ap@acme.example", "ceo@acme.example"
PAGE = "https://hours.example/c/"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[MailBox]:
    box = MailBox().start()
    yield box
    box.stop()


@pytest.fixture
def mailing(ctx: Context, fake_slack: FakeSlack, mailbox: MailBox, clock: FixedClock) -> Context:
    fake_slack.reset()
    mailbox.reset()
    settings = replace(
        ctx.settings,
        slack_bot_token="xoxb-mail",
        slack_api_url=fake_slack.api_url,
        alert_channel="CALERTS",
        managers_channel="CMANAGERS",
        smtp_url=mailbox.url,
        alert_email_from="hours@msp.example",
        public_url="https://hours.example",
        share_days=30,
    )
    mailing = Context(ctx.db, settings, ctx.clock)
    clock.at = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)
    admin = Actor.local_admin()
    do(mailing, admin, "client add acme Acme Corp")
    do(mailing, admin, "client set acme manager <@UAM>")
    do(mailing, admin, "topup acme 10")
    do(mailing, Actor("UTESS", "Tess Tech"), "logtime acme 1h30m printer fix #12")
    return mailing


def deliver(ctx: Context) -> int:
    return Dispatcher(ctx, transports_for(ctx), worker="w1", rng=random.Random(7)).run_once()


def monthly_run(ctx: Context, clock: FixedClock, at: datetime = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)) -> str:
    clock.at = at
    return run_job(ctx, "statement", at.date()).summary


def parsed(message: dict) -> EmailMessage:  # type: ignore[type-arg]
    found = email.message_from_string(message["data"], policy=default)
    assert isinstance(found, EmailMessage)
    return found


def parts(message: EmailMessage) -> tuple[str, str]:
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def link_in(text: str) -> str:
    return PAGE + text.split(PAGE, 1)[1].split()[0].split('"')[0]


def _plain(row: object) -> SimpleNamespace:
    return SimpleNamespace(**{k: v for k, v in vars(row).items() if not k.startswith("_")})


def rows(ctx: Context, kind: str) -> list[SimpleNamespace]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        found = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))
        return [_plain(row) for row in found]


def links(ctx: Context) -> list[SimpleNamespace]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        return [_plain(link) for link in uow.session.scalars(select(ShareLink).order_by(ShareLink.id))]


def set_addresses(ctx: Context, words: str = f"{AP},{CEO}") -> None:
    do(ctx, Actor.local_admin(), f"client set acme statement-email {words}")


def test_the_monthly_job_mails_each_address_one_multipart_statement_with_its_own_page_link(
    mailing: Context, clock: FixedClock, mailbox: MailBox
) -> None:
    set_addresses(mailing)
    assert monthly_run(mailing, clock) == "1 statements for October 2026, 2 statement e-mails"
    assert deliver(mailing) == 3  # the internal statement (Slack) and two e-mails
    assert sorted(m["to"][0] for m in mailbox.messages) == [AP, CEO]
    seen = []
    for raw in mailbox.messages:
        message = parsed(raw)
        assert message.get_content_type() == "multipart/alternative"
        assert message["Subject"] == "Your statement of block hours for October 2026: Acme Corp"
        assert message["From"] == "hours@msp.example" and message["To"] == raw["to"][0]
        plain, html = parts(message)
        assert "Closing balance" in plain and "Tess 1h 30m" in plain and "Tess Tech" not in plain
        assert "<td" in html and "Tess" in html and "Tess Tech" not in html
        assert "5 Oct 2026 · Tess · #12 · 1h 30m" in plain  # its line, as the page shows it
        assert "printer fix" not in plain + html  # notes only with client-notes on
        link = link_in(plain)
        assert f'href="{link}"' in html
        shared = resolve_share(mailing, link.removeprefix(PAGE), clock.now())
        assert shared is not None and shared.handle == "acme"
        seen.append(link)
    assert len(set(seen)) == 2  # each e-mail its own link
    made = links(mailing)
    assert [(x.created_by, x.expires_at.date()) for x in made] == [("blocktime", date(2026, 12, 1))] * 2
    payloads = " ".join(r.payload for r in rows(mailing, "statement_email"))
    assert all(link.removeprefix(PAGE) not in payloads for link in seen)  # the token is never stored
    listed = do(mailing, Actor.local_admin(), "share list").message
    assert listed.count("by blocktime (a statement e-mail)") == 2


def test_the_lines_show_notes_only_with_client_notes_on(mailing: Context, clock: FixedClock, mailbox: MailBox) -> None:
    set_addresses(mailing, AP)
    do(mailing, Actor.local_admin(), "client set acme client-notes on")
    monthly_run(mailing, clock)
    deliver(mailing)
    plain, html = parts(parsed(mailbox.messages[0]))
    assert "5 Oct 2026 · Tess · #12 · 1h 30m · printer fix" in plain and "<td>printer fix" in html.replace(
        '<td style="padding:4px 0;">', "<td>"
    )


def test_a_second_run_sends_nothing(mailing: Context, clock: FixedClock, mailbox: MailBox) -> None:
    set_addresses(mailing)
    monthly_run(mailing, clock)
    deliver(mailing)
    later = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    assert monthly_run(mailing, clock, later) == "0 statements for October 2026"
    assert run_job(mailing, "statement", date(2026, 11, 2)).summary == "0 statements for October 2026"
    assert deliver(mailing) == 0
    assert len(mailbox.messages) == 2 and len(links(mailing)) == 2


def test_a_4xx_is_tried_again_and_only_the_delivered_link_opens_the_page(
    mailing: Context, clock: FixedClock, mailbox: MailBox
) -> None:
    set_addresses(mailing, AP)
    mailbox.refuse_once[AP] = "451 4.3.0 mailbox busy, try later"
    monthly_run(mailing, clock)
    deliver(mailing)
    assert mailbox.messages == []
    [row] = rows(mailing, "statement_email")
    assert row.status == "pending" and row.attempts == 1 and "451" in (row.last_error or "")
    clock.at += timedelta(minutes=5)
    deliver(mailing)
    [raw] = mailbox.messages
    link = link_in(parts(parsed(raw))[0])
    assert resolve_share(mailing, link.removeprefix(PAGE), clock.now()) is not None
    assert len(links(mailing)) == 1  # minted once, when the row was queued
    assert rows(mailing, "statement_email")[0].status == "sent"
    assert rows(mailing, "statement_bounced") == []


def test_a_5xx_refusal_is_a_bounce_told_to_the_managers_and_the_other_address_still_gets_it(
    mailing: Context, clock: FixedClock, mailbox: MailBox, fake_slack: FakeSlack
) -> None:
    set_addresses(mailing)
    mailbox.refuse[CEO] = "550 5.1.1 <ceo@acme.example>: no such user"
    monthly_run(mailing, clock)
    deliver(mailing)
    assert [m["to"] for m in mailbox.messages] == [[AP]]
    by_address = {r.target: r for r in rows(mailing, "statement_email")}
    assert by_address[AP].status == "sent" and by_address[CEO].status == "failed"
    [bounce] = rows(mailing, "statement_bounced")
    assert bounce.target == "CMANAGERS"  # never the client's own channel
    facts = json.loads(bounce.payload)
    assert facts["address"] == CEO and "550" in facts["error"] and facts["account_manager"] == "UAM"
    deliver(mailing)
    [posted] = [c.params for c in fake_slack.of("chat.postMessage") if c.params.get("channel") == "CMANAGERS"]
    assert CEO in posted["text"] and "bounced" in posted["text"]
    assert "statement acme 2026-10 --email" in json.dumps(posted["blocks"])
    revoked = [x for x in links(mailing) if x.revoked_at is not None]
    assert len(revoked) == 1  # the bounced e-mail's link: no one received it
    clock.at += timedelta(hours=1)
    assert deliver(mailing) == 0 and len(mailbox.messages) == 1


def test_the_statements_wait_for_the_1st_at_08_00_in_the_clients_own_time_zone(
    mailing: Context, clock: FixedClock, mailbox: MailBox
) -> None:
    set_addresses(mailing, AP)
    do(mailing, Actor.local_admin(), "client set acme timezone America/Los_Angeles")
    early = monthly_run(mailing, clock, datetime(2026, 11, 1, 9, 0, tzinfo=UTC))  # 01:00 in Los Angeles
    assert early.endswith("1 clients wait for 08:00 on the 1st in their own time zone")
    assert rows(mailing, "statement_email") == []
    assert monthly_run(mailing, clock, datetime(2026, 11, 1, 16, 0, tzinfo=UTC)).endswith("1 statement e-mails")
    deliver(mailing)
    assert [m["to"] for m in mailbox.messages] == [[AP]]


def test_without_a_public_url_the_email_says_nothing_of_a_page(
    mailing: Context, clock: FixedClock, mailbox: MailBox
) -> None:
    no_page = Context(mailing.db, replace(mailing.settings, public_url=None), mailing.clock)
    set_addresses(no_page, AP)
    monthly_run(no_page, clock)
    deliver(no_page)
    plain, html = parts(parsed(mailbox.messages[0]))
    assert "/c/" not in plain + html and "page" not in plain.lower() and links(no_page) == []


def test_no_statement_email_without_addresses(mailing: Context, clock: FixedClock, mailbox: MailBox) -> None:
    assert monthly_run(mailing, clock) == "1 statements for October 2026"
    deliver(mailing)
    assert mailbox.messages == [] and rows(mailing, "statement_email") == []
    with pytest.raises(Refused) as refused:
        do(mailing, Actor.local_admin(), "statement acme 2026-10 --email")
    assert "no statement e-mail addresses" in str(refused.value)
    assert refused.value.example == f"client set acme statement-email {AP},{CEO}"


def test_a_bad_address_is_refused_with_an_example_and_nothing_is_written(mailing: Context) -> None:
    with pytest.raises(ParseError) as refused:
        set_addresses(mailing, f"{AP},not-an-address")
    assert "`not-an-address` is not an e-mail address" in str(refused.value)
    assert refused.value.example == f"client set acme statement-email {AP},{CEO}"
    with mailing.db.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(Client.statement_emails)) is None


def test_by_hand_a_month_goes_once_and_a_month_not_over_is_refused(
    mailing: Context, clock: FixedClock, mailbox: MailBox
) -> None:
    set_addresses(mailing, AP)
    clock.at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    sent = do(mailing, Actor.local_admin(), "statement acme last month --email")
    assert sent.data == {"client": "acme", "period": "October 2026", "queued": [AP], "already": []}
    deliver(mailing)
    assert [m["to"] for m in mailbox.messages] == [[AP]]
    again = do(mailing, Actor.local_admin(), "statement acme 2026-10 --email")
    assert again.data["already"] == [AP] and "once" in again.message
    with pytest.raises(Refused) as refused:
        do(mailing, Actor.local_admin(), "statement acme this month --email")
    assert "not over yet" in str(refused.value)
    with pytest.raises(PermissionDenied):
        do(mailing, Actor("UTECH", "Tess Tech"), "statement acme 2026-10 --email")
    assert monthly_run(mailing, clock, datetime(2026, 12, 1, 8, 0, tzinfo=UTC)).startswith("0 statements")
    deliver(mailing)
    assert len(mailbox.messages) == 1  # October's went by hand; November had no movements


def test_a_bounce_goes_to_the_clients_alert_channel_but_never_once_the_client_can_read_it(
    mailing: Context, clock: FixedClock, mailbox: MailBox
) -> None:
    set_addresses(mailing)
    do(mailing, Actor.local_admin(), "client set acme channel <#CACME>")
    with mailing.db.unit_of_work() as uow:  # Slack says CACME is now shared with the client's organisation
        uow.channels.remember("CACME", True, "shared with Acme (Slack Connect)", clock.now())
        uow.commit()
    mailbox.refuse[AP] = "550 5.1.1 no such user"
    mailbox.refuse[CEO] = "554 5.7.1 rejected"
    monthly_run(mailing, clock)
    deliver(mailing)
    assert [r.target for r in rows(mailing, "statement_bounced")] == ["CMANAGERS", "CMANAGERS"]


def test_a_guest_given_the_admin_role_can_not_send_statements_and_their_links_to_an_address(
    mailing: Context, clock: FixedClock, mailbox: MailBox
) -> None:
    """Each statement e-mail carries a page link: choosing where they go is sharing the page, which a
    guest never does whatever role they were given (``share``'s rule)."""
    from bot.domain.roles import Standing

    do(mailing, Actor.local_admin(), "role <@UGINA> admin")
    guest = Actor("UGINA", "Gina Guest", standing=Standing.GUEST)
    for words in ("statement-email gina@evil.example", "statement-email none", "rounding 15m statement-email x@y.z"):
        with pytest.raises(PermissionDenied) as refused:
            do(mailing, guest, f"client set acme {words}")
        assert "guests can't" in str(refused.value)
    with mailing.db.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(Client.statement_emails)) is None
    do(mailing, guest, "client set acme rounding 15m")  # the rest of client set is the role's
    set_addresses(mailing, AP)  # staff may
    assert monthly_run(mailing, clock).startswith("1 statement")


def written(ctx: Context) -> tuple[int, int, int]:
    """(outbox rows, share links, audit lines): what a preview must leave as it found it."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        return tuple(  # type: ignore[return-value]
            int(uow.session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (OutboxMessage, ShareLink, AuditLog)
        )


def test_a_preview_shows_a_manager_the_emails_text_part_and_writes_nothing(
    mailing: Context, clock: FixedClock, mailbox: MailBox
) -> None:
    set_addresses(mailing)
    clock.at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    before = written(mailing)
    preview = do(mailing, Actor.local_admin(), "statement acme last month")
    assert isinstance(preview, StatementPreview) and written(mailing) == before
    assert (preview.period, preview.month, preview.addresses, preview.already) == (
        "October 2026",
        "2026-10",
        [AP, CEO],
        [],
    )
    assert preview.month_over and preview.mail_server
    assert preview.subject == "Your statement of block hours for October 2026: Acme Corp"
    assert "5 Oct 2026 · Tess · #12 · 1h 30m" in preview.text and "Tess Tech" not in preview.text
    assert preview.statement["by_technician"] == [["Tess", 90]] and "account_manager" not in preview.statement
    assert preview.statement["lines"][0]["ticket"] == "#12" and "link_id" not in preview.statement
    do(mailing, Actor.local_admin(), "statement acme last month --email")
    deliver(mailing)
    for raw in mailbox.messages:  # what was sent is what was shown, the page's link drawn as it went
        plain = parts(parsed(raw))[0].replace("\r\n", "\n")
        assert plain == preview.text.replace(PREVIEW_LINK, link_in(plain))
    again = do(mailing, Actor.local_admin(), "statement acme 2026-10")
    assert again.already == [AP, CEO] and again.text == preview.text


def test_a_preview_of_a_month_not_over_or_without_addresses_says_so_and_technicians_are_refused(
    mailing: Context, clock: FixedClock
) -> None:
    preview = do(mailing, Actor.local_admin(), "statement acme this month")
    assert preview.period == "October 2026" and not preview.month_over and preview.addresses == []
    assert "Statement for Acme Corp, October 2026" in preview.text
    set_addresses(mailing, AP)
    heading = "\n".join(statement_preview_heading(do(mailing, Actor.local_admin(), "statement acme this month")))
    assert (
        "It would go to ap@acme.example." in heading and "not over yet" in heading and "--email` sends" not in heading
    )
    with pytest.raises(PermissionDenied):
        do(mailing, Actor("UTECH", "Tess Tech"), "statement acme last month")


def test_a_5xx_at_data_is_a_bounce_too(mailing: Context, clock: FixedClock, mailbox: MailBox) -> None:
    set_addresses(mailing)
    mailbox.refuse_data[CEO] = "554 5.7.1 message content rejected"
    monthly_run(mailing, clock)
    deliver(mailing)
    assert [m["to"] for m in mailbox.messages] == [[AP]]
    by_address = {r.target: r for r in rows(mailing, "statement_email")}
    assert by_address[AP].status == "sent" and by_address[CEO].status == "failed"
    [bounce] = rows(mailing, "statement_bounced")
    facts = json.loads(bounce.payload)
    assert bounce.target == "CMANAGERS" and facts["address"] == CEO and facts["error"].startswith("554 5.7.1")
    assert [x.revoked_at is not None for x in links(mailing)].count(True) == 1


def test_a_5xx_at_mail_from_fails_for_good_is_told_as_a_sending_problem_and_goes_by_hand_once_fixed(
    mailing: Context, clock: FixedClock, mailbox: MailBox, fake_slack: FakeSlack
) -> None:
    set_addresses(mailing)
    mailbox.refuse_sender = "553 5.7.1 <hours@msp.example>: sender address rejected"
    monthly_run(mailing, clock)
    deliver(mailing)
    assert mailbox.messages == []
    assert [r.status for r in rows(mailing, "statement_email")] == ["failed", "failed"]  # not retried forever
    told = rows(mailing, "statement_bounced")
    assert [json.loads(r.payload)["sending"] for r in told] == [True, True] and {r.target for r in told} == {
        "CMANAGERS"
    }
    deliver(mailing)
    [posted, _] = [c.params for c in fake_slack.of("chat.postMessage") if c.params.get("channel") == "CMANAGERS"]
    assert "could not be sent" in posted["text"] and "553 5.7.1" in posted["text"]
    assert "SMTP_URL" in json.dumps(posted["blocks"]) and "bounced" not in posted["text"]
    monthly_run(mailing, clock, datetime(2026, 11, 1, 9, 0, tzinfo=UTC))  # the job never sends a failed one again
    assert deliver(mailing) == 0 and mailbox.messages == []
    preview = do(mailing, Actor.local_admin(), "statement acme 2026-10")
    assert preview.already == [] and "sends it to ap@acme.example, ceo@acme.example" in "\n".join(
        statement_preview_heading(preview)
    )
    mailbox.refuse_sender = None  # the mail server's settings fixed: the managers send it by hand
    again = do(mailing, Actor.local_admin(), "statement acme 2026-10 --email")
    assert again.data["queued"] == [AP, CEO] and again.data["already"] == []
    deliver(mailing)
    assert sorted(m["to"][0] for m in mailbox.messages) == [AP, CEO]
    for raw in mailbox.messages:  # each with a new link that opens the page (the failed one's was revoked)
        link = link_in(parts(parsed(raw))[0])
        assert resolve_share(mailing, link.removeprefix(PAGE), clock.now()) is not None
    assert [r.status for r in rows(mailing, "statement_email")] == ["sent", "sent"]
    assert do(mailing, Actor.local_admin(), "statement acme 2026-10 --email").data["already"] == [AP, CEO]
