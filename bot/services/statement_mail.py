"""A client's statement by e-mail (issue 27): ``client set acme statement-email ap@acme.example,...``,
the monthly job's e-mails (``bot.services.scheduled.statement`` calls :func:`queue_statement_emails`),
``statement acme last month --email`` by hand, and what the e-mail transport asks of the ledger while
it sends one (:func:`page_link`, :func:`report_bounce`).

One outbox row per address and month (dedupe key ``statement_email:<client id>:<YYYY-MM>:<address>``),
so an address gets a month's statement once, however often the job or a person asks; the dispatcher
retries a row until it is delivered or refused for good (a 5xx: a bounce, told to the managers).

The page's link, and why its token is drawn as the e-mail is sent
-----------------------------------------------------------------
Share links are stored only as the SHA-256 of their token (``bot.services.shares``), and an outbox
payload is a database row like any other, so the token can never be in it. So:

1. When the row is queued (once, in the same transaction), the e-mail's link is minted: a share link
   row of the client, made by the system actor, expiring after ``BLOCKTIME_SHARE_DAYS``, listed by
   ``share list`` and revocable like any other. Its stored hash is of a random token nobody ever
   sees, so until the e-mail goes the link opens nothing. The row's facts name the link by id only.
2. As the transport sends the e-mail it draws the token: a new random one, whose hash replaces the
   link's in one small transaction committed *before* the message leaves (:func:`page_link`). The
   token exists only in this process's memory and in the message; the database holds its hash.
3. A retry (a 4xx, the server down) draws again and replaces the hash: the earlier token was never
   delivered, so nothing that works is lost. The outbox's own window (the server accepted the message
   but the "sent" mark never committed) sends the row once more with the same Message-ID; the link in
   that last copy is the one that works.
4. A revoked or expired link is never revived: the e-mail then goes without a page. A bounce (5xx)
   revokes the e-mail's link, since no one received it.

So the link is minted once per e-mail, only hashes are stored, and the e-mail is sent once. Without
``BLOCKTIME_PUBLIC_URL`` no link is minted and the e-mail says nothing of a page."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.commands import EmailStatement, PreviewStatement
from bot.domain.dates import Period
from bot.domain.errors import Refused
from bot.domain.fields import STATEMENT_EMAIL_EXAMPLE, statement_emails_of
from bot.domain.notices import StatementBounced, StatementEmail, StatementLine
from bot.phrasebook import statement_email_subject, statement_email_text
from bot.services.alerts import queue
from bot.services.book import SYSTEM, forfeit_due
from bot.services.context import Actor, Context, client_named, record_audit
from bot.services.dispatch import serves
from bot.services.people import channel_shared
from bot.services.reports import client_safe_statement, entry_movements, statement_facts
from bot.services.results import Message, StatementPreview
from bot.services.shares import TOKEN_BYTES, link_of, require_staff_manager, token_hash
from storage.db import UnitOfWork
from storage.outbox import new_row
from storage.repos import Client

log = logging.getLogger("blocktime.statement_mail")
KIND = StatementEmail.kind
MOST_LINES = 500  # an e-mail lists at most this many lines; the rest are on the page (and `report`)


def dedupe_key(client_id: int, period: Period, address: str) -> str:
    return f"{KIND}:{client_id}:{period.start:%Y-%m}:{address.lower()}"


def queue_statement_emails(
    uow: UnitOfWork,
    ctx: Context,
    client: Client,
    safe_facts: dict[str, Any],
    period: Period,
    failed_again: bool = False,
) -> tuple[list[str], list[str]]:
    """Queue the client-safe statement ``safe_facts`` of ``period`` for each of the client's statement
    addresses not sent it yet, each with its own page link (module docstring, step 1); returns
    (addresses queued now, addresses queued before). With ``failed_again`` (a manager's hand send), an
    address whose e-mail failed for good (a bounce, our mail server refusing it) is queued again, with a
    new link (the failed one's was revoked). Nothing without ``SMTP_URL``."""
    queued: list[str] = []
    before: list[str] = []
    lines: tuple[StatementLine, ...] | None = None  # read once, for the first address that needs them
    if not ctx.settings.smtp_url:
        return queued, before
    now = ctx.now()
    for address in statement_emails_of(client.statement_emails):
        key = dedupe_key(client.id, period, address)
        status = uow.outbox.status_of(key)
        if status is not None and not (failed_again and status == "failed"):
            before.append(address)
            continue
        if lines is None:
            lines = statement_lines(uow, client, period)
        link_id = _mint_link(uow, ctx, client, now) if ctx.settings.public_url else None
        payload = json.dumps(statement_email(safe_facts, address, link_id, lines).to_json(), default=str)
        if status is None:
            row = new_row(kind=KIND, destination="email", now=now, payload=payload, dedupe_key=key, client_id=client.id)
            uow.outbox.add({**row, "target": address})
        else:
            uow.outbox.queue_failed_again(key, payload, now)
        queued.append(address)
    if queued:
        uow.after_commit(ctx.db.outbox_written)
    return queued, before


def statement_email(
    safe_facts: dict[str, Any], address: str, link_id: int | None, lines: tuple[StatementLine, ...]
) -> StatementEmail:
    """The e-mail's facts: the client-safe statement, its address and link, and at most ``MOST_LINES``
    of its lines (how many more are left out)."""
    facts = {**safe_facts, "address": address, "link_id": link_id}
    return replace(
        StatementEmail.from_json(facts), lines=lines[:MOST_LINES], more_lines=max(0, len(lines) - MOST_LINES)
    )


def statement_lines(uow: UnitOfWork, client: Client, period: Period) -> tuple[StatementLine, ...]:
    """The month's lines as the client's page shows them (``bot.services.page``): each entry recorded in
    it, or taken back, with its technician's first name; its note only with ``client-notes on``."""
    return tuple(
        StatementLine(
            recorded_on=str(movement.recorded_on or movement.work_date),
            work_date=str(movement.work_date),
            technician=(movement.user_name.split() or ["—"])[0],
            minutes=movement.billable_minutes,
            ticket=movement.ticket,
            note=(movement.note or None) if client.client_notes else None,
            correction=movement.movement == "void",
            non_billable=movement.non_billable,
        )
        for movement in entry_movements(uow, [client.id], period, {client.id: client.handle})
    )


def _mint_link(uow: UnitOfWork, ctx: Context, client: Client, now: datetime) -> int:
    """A share link for one statement e-mail; its hash is of a token no one sees (step 1)."""
    expires_at = now + timedelta(days=ctx.settings.share_days)
    unseen = secrets.token_urlsafe(TOKEN_BYTES)
    link_id = uow.shares.add(client.id, token_hash(unseen), SYSTEM.user_id, now, expires_at)
    after = {"link_id": link_id, "expires_at": expires_at.isoformat(), "for": "statement e-mail"}
    record_audit(uow, ctx, SYSTEM, "share", f"share:{link_id}", client.id, None, after)
    return link_id


def page_link(ctx: Context, statement: StatementEmail) -> tuple[str | None, str | None]:
    """(link, expiry day) for the e-mail about to be sent, its token drawn now (step 2); (None, None)
    without a link, or when the link was revoked or has expired (step 4)."""
    if statement.link_id is None or not ctx.settings.public_url:
        return None, None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = ctx.now()
    with ctx.db.unit_of_work() as uow:
        link = uow.shares.get(statement.link_id, lock=True)
        if link is None or link.revoked_at is not None or link.expires_at <= now:
            return None, None
        uow.shares.rekey(link, token_hash(token))
        expires_on = link.expires_at.astimezone(ctx.settings.zone).date().isoformat()
        uow.commit()
    return link_of(ctx, token), expires_on


def report_bounce(ctx: Context, statement: StatementEmail, error: str, sending: bool = False, attempt: int = 0) -> None:
    """The client's mail server refused the e-mail for good (or ours refused to send it: ``sending``):
    revoke its link (no one has it) and tell the managers, once per address, month and ``attempt`` (the
    outbox row's version: a row sent again by hand that fails again is told again), in a channel the
    client cannot read."""
    now = ctx.now()
    with ctx.db.unit_of_work() as uow:
        client = client_named(uow, statement.client, lock=True)
        if statement.link_id is not None:
            link = uow.shares.get(statement.link_id, lock=True)
            if link is not None and link.revoked_at is None:
                uow.shares.revoke(link, now, SYSTEM.user_id)
        bounced = StatementBounced(
            client=client.handle,
            display_name=client.display_name,
            account_manager=client.account_manager,
            period=statement.period,
            month=(statement.start or "")[:7],
            address=statement.address,
            error=error,
            sending=sending or None,
        )
        channel = managers_channel(uow, ctx, client)
        key = f"statement_bounced:{client.id}:{bounced.month}:{statement.address.lower()}"
        key += f":{attempt}" if attempt else ""
        if channel:
            queue(uow, ctx, bounced, client, key, only_slack=channel)
        else:
            log.warning("statement e-mail bounced and no internal channel to tell: %s", key)
        uow.commit()


def managers_channel(uow: UnitOfWork, ctx: Context, client: Client) -> str | None:
    """Where a bounce is told: the client's alert channel, else BLOCKTIME_MANAGERS_CHANNEL, else
    BLOCKTIME_ALERT_CHANNEL; never one shared with people outside the MSP."""
    for channel in (client.alert_channel, ctx.settings.managers_channel, ctx.settings.alert_channel):
        if channel and channel_shared(uow, channel) is None:
            return channel
    return None


def month_is_over(ctx: Context, client: Client, period: Period, at: time = time(0)) -> bool:
    """Whether ``period`` has ended in the client's own time zone (and its next day reached ``at``)."""
    return ctx.now() >= datetime.combine(period.end, at, ZoneInfo(client.timezone))


@serves(EmailStatement)
def email_statement(ctx: Context, actor: Actor, command: EmailStatement) -> Message:
    """``statement acme last month --email``:
    1. managers (never a guest) e-mail a client's statement, of a month over in the client's time zone;
    2. the client has statement addresses and an SMTP server is configured, else nothing is written;
    3. the client-safe statement is queued for each address not sent that month's yet (the dispatcher
       sends it at once), or whose e-mail failed for good (a bounce, our mail server refusing it); an
       address already sent it, or still being tried, is named, never sent it twice."""
    forfeit_due(ctx)  # the statement and the balance agree on what is forfeited (as `report`)
    with ctx.db.unit_of_work() as uow:
        require_staff_manager(ctx, uow, actor, "e-mail statements")
        client = client_named(uow, command.client, lock=True)
        handle, name = client.handle, client.display_name
        addresses = statement_emails_of(client.statement_emails)
        if not addresses:
            raise Refused(
                f"{name} has no statement e-mail addresses yet.", STATEMENT_EMAIL_EXAMPLE.replace("acme", handle)
            )
        if not ctx.settings.smtp_url:
            raise Refused(
                "No mail server is configured: set SMTP_URL (e.g. smtp://user:password@mail.example:587).",
                f"statement {handle} last month --email",
            )
        if not month_is_over(ctx, client, command.period):
            raise Refused(
                f"{command.period.label} is not over yet in {name}'s time zone ({client.timezone}); a statement "
                "e-mail is of a month that has ended.",
                f"statement {handle} last month --email",
            )
        facts = statement_facts(uow, client, command.period, ctx)
        safe = client_safe_statement(facts)
        queued, before = queue_statement_emails(uow, ctx, client, safe, command.period, failed_again=True)
        uow.commit()
    lines = []
    if queued:
        lines.append(f"The {command.period.label} statement of {name} is on its way to {', '.join(queued)}.")
    if before:
        lines.append(
            f"Already e-mailed to {', '.join(before)}: each address gets a month's statement once "
            "(a bounce is told in the managers' channel)."
        )
    data = {"client": handle, "period": command.period.label, "queued": queued, "already": before}
    return Message("\n".join(lines), data)


#: what a preview shows where the e-mail's own page link will be (each e-mail's token is drawn as it is sent)
PREVIEW_LINK = "[a private page link of its own, made as the e-mail is sent]"


@serves(PreviewStatement)
def preview_statement(ctx: Context, actor: Actor, command: PreviewStatement) -> StatementPreview:
    """``statement acme last month``: what ``--email`` would send, shown only to the manager who asks.
    1. managers (never a guest), as for ``--email``; any one month, over or not;
    2. the client-safe statement and its lines as the e-mail's plain-text part says them, the page's
       link shown as a placeholder (a real one is minted per e-mail, and only when it is sent);
    3. nothing is written: no outbox row, no link, no audit line (the ledger's due forfeits aside, as
       every read of balances records them first)."""
    forfeit_due(ctx)  # the statement and the balance agree on what is forfeited (as `report`)
    with ctx.db.unit_of_work(read_only=True) as uow:
        require_staff_manager(ctx, uow, actor, "see statement e-mails")
        client = client_named(uow, command.client)
        addresses = statement_emails_of(client.statement_emails)
        status = {a: uow.outbox.status_of(dedupe_key(client.id, command.period, a)) for a in addresses}
        already = [a for a in addresses if status[a] not in (None, "failed")]  # a failed one `--email` sends again
        safe = client_safe_statement(statement_facts(uow, client, command.period, ctx))
        notice = statement_email(safe, ", ".join(addresses), None, statement_lines(uow, client, command.period))
        over = month_is_over(ctx, client, command.period)
        handle, name = client.handle, client.display_name
    link, expires_on = None, None
    if ctx.settings.public_url:
        link = PREVIEW_LINK
        expires_on = (ctx.now() + timedelta(days=ctx.settings.share_days)).astimezone(ctx.settings.zone).date()
    facts = {k: v for k, v in notice.to_json().items() if k not in ("kind", "address")}
    return StatementPreview(
        client=handle,
        display_name=name,
        period=command.period.label,
        month=f"{command.period.start:%Y-%m}",
        addresses=addresses,
        already=already,
        month_over=over,
        mail_server=bool(ctx.settings.smtp_url),
        subject=statement_email_subject(notice),
        text=statement_email_text(notice, link, None if expires_on is None else expires_on.isoformat()),
        statement=facts,
    )
