"""A client's statement e-mail (issue 27): a ``multipart/alternative`` message of plain text and HTML.
The words are ``bot.phrasebook``'s; the HTML is laid out by a Jinja2 template with auto-escaping
(``templates/statement_email.html``), so a client's name or a ticket holding ``<script>`` arrives as
text, never as markup. Pure: it builds the message, the transport sends it."""

from __future__ import annotations

from email.message import EmailMessage
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.domain.notices import StatementEmail
from bot.phrasebook import (
    LINE_HEADINGS,
    statement_email_figures,
    statement_email_lines,
    statement_email_link_words,
    statement_email_more_lines,
    statement_email_notes,
    statement_email_rows,
    statement_email_subject,
    statement_email_text,
)


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("bot.reports", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def statement_html(statement: StatementEmail, link: str | None, expires_on: str | None = None) -> str:
    technicians, tickets = statement_email_rows(statement)
    return (
        _templates()
        .get_template("statement_email.html")
        .render(
            subject=statement_email_subject(statement),
            heading=f"Statement for {statement.display_name}, {statement.period}",
            figures=statement_email_figures(statement),
            notes=statement_email_notes(statement),
            technicians=technicians,
            tickets=tickets,
            headings=LINE_HEADINGS,
            lines=statement_email_lines(statement),
            notes_shown=any(line.note for line in statement.lines),
            more_lines=statement_email_more_lines(statement, link),
            link_words=statement_email_link_words(link, expires_on),
            link=link,
        )
    )


def statement_message(
    statement: StatementEmail,
    sender: str,
    message_id: str,
    link: str | None = None,
    expires_on: str | None = None,
) -> EmailMessage:
    """The e-mail to ``statement.address``: plain text first, HTML as the richer alternative."""
    message = EmailMessage()
    message["From"], message["To"] = sender, statement.address
    message["Subject"] = statement_email_subject(statement)
    message["Message-ID"] = message_id
    message.set_content(statement_email_text(statement, link, expires_on))
    message.add_alternative(statement_html(statement, link, expires_on), subtype="html")
    return message
