"""A client's statement e-mail as built (``bot.reports.statement_email``): multipart, both parts saying
the same figures, the HTML auto-escaped. Pure: no server, no database."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from bot.domain.commands import EmailStatement, PreviewStatement
from bot.domain.errors import ParseError
from bot.domain.grammar import facts_of, parse_command
from bot.domain.notices import StatementBounced, StatementEmail, notice_from_json
from bot.domain.roles import Role
from bot.phrasebook import bounce_advice, summary
from bot.reports.statement_email import statement_html, statement_message
from bot.services.results import StatementPreview
from handlers.views.replies import render
from tests.notice_samples import STORED

SCRIPT = "<script>alert(1)</script>"


def sample(**changes: object) -> StatementEmail:
    notice = notice_from_json({**STORED["statement_email"], **changes})
    assert isinstance(notice, StatementEmail)
    return notice


def test_the_html_escapes_a_client_name_a_ticket_and_a_note_holding_markup() -> None:
    line = {**STORED["statement_email"]["lines"][0], "note": f"fixed {SCRIPT}", "ticket": f"#1 {SCRIPT}"}
    notice = sample(display_name=f"Acme {SCRIPT}", by_ticket=[[f"#1 {SCRIPT}", 30]], lines=[line])
    html = statement_html(notice, None)
    assert "<script>" not in html and html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 5


def test_a_busy_month_lists_its_first_lines_and_says_how_many_more_are_on_the_page() -> None:
    message = statement_message(sample(more_lines=2), "hours@msp.example", "<x@y>", "https://hours.example/c/t")
    plain, html = (part.get_content() for part in message.iter_parts())
    assert "…and 2 more lines: the full list is on your private page." in plain and "2 more lines" in html


def test_the_message_is_multipart_alternative_with_plain_text_first_and_the_link_in_both() -> None:
    link = "https://hours.example/c/abc_DEF-123"
    message = statement_message(sample(), "hours@msp.example", "<blocktime-1@blocktime>", link, "2027-05-01")
    assert message.get_content_type() == "multipart/alternative"
    plain, html = (part.get_content() for part in message.iter_parts())
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert link in plain and f'href="{link}"' in html and "until 1 May 2027" in plain
    assert message["To"] == "ap@acme.example" and message["Message-ID"] == "<blocktime-1@blocktime>"


def test_without_a_link_neither_part_speaks_of_a_page() -> None:
    message = statement_message(sample(), "hours@msp.example", "<blocktime-1@blocktime>")
    assert all("page" not in part.get_content() for part in message.iter_parts())


TODAY = date(2026, 11, 25)
EXAMPLE = "client set acme statement-email ap@acme.example,ceo@acme.example"


@pytest.mark.parametrize(
    ("words", "said"),
    [
        ("ap@acme.example,not-an-address", "`not-an-address` is not an e-mail address"),
        ("ap@acme", "`ap@acme` is not an e-mail address"),
        ("ap@acme.example,,ceo@acme.example", "missing between two commas"),
        ("ap@acme.example;ceo@acme.example", "is not an e-mail address"),
        ("<b>@x.example", "is not an e-mail address"),
        (",".join(f"a{n}@acme.example" for n in range(11)), "At most 10 addresses"),
    ],
)
def test_bad_statement_addresses_are_refused_with_an_example(words: str, said: str) -> None:
    with pytest.raises(ParseError) as refused:
        parse_command(f"client set acme statement-email {words}", TODAY)
    assert said in str(refused.value) and refused.value.example == EXAMPLE


def test_statement_addresses_are_kept_lower_case_once_and_none_clears_them() -> None:
    command = parse_command("client set acme statement-email AP@Acme.example,ap@acme.example,ceo@acme.example", TODAY)
    assert command.changes == {"statement_emails": "ap@acme.example,ceo@acme.example"}  # type: ignore[union-attr]
    for word in ("none", "off"):
        cleared = parse_command(f"client set acme statement-email {word}", TODAY)
        assert cleared.changes == {"statement_emails": None}  # type: ignore[union-attr]


def test_a_statement_email_names_one_month_last_month_by_default() -> None:
    assert parse_command("statement acme --email", TODAY) == parse_command("statement acme last month --email", TODAY)
    command = parse_command("statement ACME 2026-10 --email", TODAY)
    assert isinstance(command, EmailStatement) and command.client == "acme" and command.period.label == "October 2026"
    with pytest.raises(ParseError) as refused:
        parse_command("statement acme 2026-08..2026-10 --email", TODAY)
    assert "one month" in str(refused.value)


def test_a_statement_without_email_is_a_preview_of_one_month() -> None:
    assert parse_command("statement ACME", TODAY) == parse_command("statement acme last month", TODAY)
    preview = parse_command("statement acme 2026-10", TODAY)
    assert isinstance(preview, PreviewStatement) and preview.client == "acme" and preview.period.label == "October 2026"
    assert not facts_of(preview).writes and facts_of(preview).role is Role.MANAGER
    with pytest.raises(ParseError) as refused:
        parse_command("statement acme 2026-08..2026-10", TODAY)
    assert "one month" in str(refused.value) and refused.value.example == "statement acme last month"
    with pytest.raises(ParseError) as nameless:
        parse_command("statement", TODAY)
    assert "which client" in str(nameless.value)


def test_a_sending_problem_is_told_apart_from_a_bounce_and_a_bounce_keeps_its_stored_shape() -> None:
    bounced = notice_from_json(STORED["statement_bounced"])
    assert isinstance(bounced, StatementBounced) and "sending" not in bounced.to_json()
    unsent = replace(bounced, sending=True, error="553 5.7.1 sender address rejected")
    assert notice_from_json(unsent.to_json()) == unsent
    assert "bounced" in summary(bounced) and "check the address" in bounce_advice(bounced).lower()
    assert "could not be sent" in summary(unsent) and "bounced" not in summary(unsent)
    assert "SMTP_URL" in bounce_advice(unsent) and "`statement acme 2026-11 --email`" in bounce_advice(unsent)


def test_a_preview_in_slack_escapes_what_the_client_wrote() -> None:
    preview = StatementPreview(
        client="acme",
        display_name="Acme <!here> & Co",
        period="October 2026",
        month="2026-10",
        addresses=["ap@acme.example"],
        already=[],
        month_over=True,
        mail_server=True,
        subject="Your statement of block hours for October 2026: Acme <!here> & Co",
        text="Statement for Acme <!here> & Co, October 2026\n\nLines:\n  6 Oct 2026 · Tess · #12 · 45m · <@U1>\n",
        statement={},
    )
    text, blocks = render(preview)
    shown = json.dumps(blocks)
    assert "<!here>" not in shown + text and "<@U1>" not in shown and "&lt;!here&gt; &amp; Co" in shown
    assert "`statement acme 2026-10 --email` sends it to ap@acme.example." in shown
