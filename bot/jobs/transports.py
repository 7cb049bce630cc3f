"""One small class per delivery channel. ``deliver`` returns a reference (the Slack ``ts``) or raises
:class:`DeliveryFailed`, saying when to try again if the other side told us (HTTP 429 Retry-After)."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.notices import BY_KIND, Notice, StatementEmail, notice_from_json
from bot.domain.psa_blocks import KIND as PSA_BLOCK
from bot.phrasebook import email_message
from bot.psa import Psa, PsaError
from bot.reports.statement_email import statement_message
from bot.services.context import Context
from bot.services.statement_mail import page_link, report_bounce


class DeliveryFailed(Exception):
    """Not delivered: tried again later (after ``retry_after`` when the other side said so), or never
    again when ``permanent`` (the other side refused the message as it stands) until queued again."""

    def __init__(self, reason: str, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent


@dataclass(frozen=True)
class Delivery:
    outbox_id: int
    target: str
    facts: dict[str, Any]
    version: int = 0  # which queuing of the row this is (a PSA sync is queued again on every change)
    entry_id: int | None = None  # a PSA sync's chain (its first entry)


class Transport(Protocol):
    def deliver(self, delivery: Delivery) -> str | None: ...


SlackLayout = Callable[[Notice], tuple[str, list[dict[str, Any]]]]


class SlackTransport:
    """``chat.postMessage`` of each notice, laid out by ``layout`` (the Slack edge's
    ``handlers.views.outbox.slack_message``, given by ``bot.bootstrap``)."""

    def __init__(self, client: WebClient, layout: SlackLayout) -> None:
        self.client = client
        self.layout = layout

    def deliver(self, delivery: Delivery) -> str | None:
        text, blocks = self.layout(notice_from_json(delivery.facts))
        try:
            response = self.client.chat_postMessage(
                channel=delivery.target, text=text, blocks=blocks, unfurl_links=False
            )
        except SlackApiError as error:
            status = error.response.status_code
            retry_after = error.response.headers.get("Retry-After") or error.response.headers.get("retry-after")
            raise DeliveryFailed(
                f"Slack {status}: {error.response.get('error')}", float(retry_after) if retry_after else None
            ) from None
        except OSError as error:
            raise DeliveryFailed(f"Slack unreachable: {error}") from None
        return str(response.get("ts") or "")


class EmailTransport:
    """SMTP from ``SMTP_URL``: ``smtp://user:password@host:port`` (STARTTLS when the server offers it)
    or ``smtps://...`` (TLS from the start). A client's statement e-mail (``statement_email``) is
    multipart, its page link drawn as it is sent, and a permanent refusal of its address (a 5xx at
    RCPT or DATA) is a bounce the managers are told of (``bot.services.statement_mail``); a 5xx
    anywhere else (MAIL FROM, sign-in) fails it for good too, told to them as a sending problem; a 4xx
    is tried again later. Other e-mails (alerts) are retried whatever the server says, so they go once
    the settings are fixed."""

    def __init__(self, smtp_url: str, sender: str, ctx: Context | None = None) -> None:
        self.url = urlparse(smtp_url)
        self.sender = sender
        self.ctx = ctx

    def deliver(self, delivery: Delivery) -> str | None:
        notice = notice_from_json(delivery.facts)
        message_id = f"<blocktime-{delivery.outbox_id}@blocktime>"  # lets mail tools drop a repeat
        if isinstance(notice, StatementEmail) and self.ctx is not None:
            return self._statement(self.ctx, notice, message_id, delivery.version)
        subject, body = email_message(notice)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, delivery.target, subject
        message["Message-ID"] = message_id
        message.set_content(body)
        try:
            self._send(message)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"SMTP: {error}") from None
        return message_id

    def _statement(self, ctx: Context, notice: StatementEmail, message_id: str, version: int = 0) -> str:
        link, expires_on = page_link(ctx, notice)
        message = statement_message(notice, self.sender, message_id, link, expires_on)
        try:
            self._send(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as error:
            code, said = _refusal(error)
            if code >= 500:  # the address (or the message) refused for good: a bounce
                report_bounce(ctx, notice, f"{code} {said}", attempt=version)
                raise DeliveryFailed(f"SMTP bounce: {code} {said}", permanent=True) from None
            raise DeliveryFailed(f"SMTP: {code} {said}") from None
        except smtplib.SMTPResponseException as error:
            code, said = _refusal(error)
            if code >= 500:  # our sender (MAIL FROM) or sign-in refused for good: no retry sends it until fixed
                report_bounce(ctx, notice, f"{code} {said}", sending=True, attempt=version)
                raise DeliveryFailed(f"SMTP refused to send: {code} {said}", permanent=True) from None
            raise DeliveryFailed(f"SMTP: {code} {said}") from None
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"SMTP: {error}") from None
        return message_id

    def _send(self, message: EmailMessage) -> None:
        host, port = self.url.hostname or "localhost", self.url.port
        if self.url.scheme == "smtps":
            server: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=10)
        else:
            server = smtplib.SMTP(host, port or 25, timeout=10)
        with server:
            if self.url.scheme != "smtps" and server.has_extn("starttls"):
                server.starttls()
            if self.url.username:
                server.login(unquote(self.url.username), unquote(self.url.password or ""))
            server.send_message(message)


def _refusal(error: smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException) -> tuple[int, str]:
    """The server's code and words for a refused recipient (one per message), message or sender."""
    said: bytes | str
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, said = next(iter(error.recipients.values()), (450, b"refused"))
    else:
        code, said = error.smtp_code, error.smtp_error
    text = said.decode("utf8", errors="replace") if isinstance(said, bytes) else str(said)
    return int(code), " ".join(text.split())[:300]


def webhook_body(facts: dict[str, Any], outbox_id: int) -> bytes:
    """The JSON a PSA or automation receives: a notice's facts as the outbox stores them (``kind`` and
    the keys of its type in ``bot.domain.notices``); ``id`` lets the receiver drop a repeated delivery."""
    event = BY_KIND[facts["kind"]].event()
    return json.dumps({"id": outbox_id, "event": event, "data": facts}, sort_keys=True).encode()


class WebhookTransport:
    """JSON POST signed with HMAC-SHA256 over ``{timestamp}.{body}`` in ``X-Blocktime-Signature``."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret

    def deliver(self, delivery: Delivery) -> str | None:
        body = webhook_body(delivery.facts, delivery.outbox_id)
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "blocktime",
            "X-Blocktime-Timestamp": stamp,
            "X-Blocktime-Delivery": str(delivery.outbox_id),
        }
        if self.secret:
            digest = hmac.new(self.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            headers["X-Blocktime-Signature"] = f"sha256={digest}"
        request = urllib.request.Request(delivery.target, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - configured URL
                return str(response.status)
        except urllib.error.HTTPError as error:
            retry_after = error.headers.get("Retry-After") if error.headers else None
            raise DeliveryFailed(f"webhook {error.code}", float(retry_after) if retry_after else None) from None
        except OSError as error:
            raise DeliveryFailed(f"webhook unreachable: {error}") from None


class PsaTransport:
    """The PSA (``PSA=connectwise|halopsa|autotask``): each delivery makes the PSA's record match one chain of entries
    (``bot.services.psa_sync.sync_chain``), or opens a low balance's follow-up (``bot.services.psa_followup``,
    its row's kind ``psa_followup``), or writes a block (``bot.services.psa_blocks``, kind ``psa_block``). A refusal
    of the PSA is permanent: not retried until queued again."""

    def __init__(self, ctx: Context, psa: Psa) -> None:
        self.ctx = ctx
        self.psa = psa

    def deliver(self, delivery: Delivery) -> str | None:
        from bot.services.psa_followup import FOLLOWUP, deliver_followup
        from bot.services.psa_sync import sync_chain

        if delivery.facts.get("kind") == PSA_BLOCK:
            return self._block(delivery)
        try:
            if delivery.facts.get("kind") == FOLLOWUP:  # a low balance's follow-up (issue 26, part 5)
                return deliver_followup(self.ctx, self.psa, delivery.outbox_id, delivery.version, delivery.facts)
            assert delivery.entry_id is not None, "a PSA sync names its chain"
            return sync_chain(self.ctx, self.psa, delivery.entry_id, str(delivery.facts["reference"]))
        except PsaError as error:
            raise DeliveryFailed(str(error), error.retry_after, error.permanent) from None

    def _block(self, delivery: Delivery) -> str | None:
        """A block's write (issue 26): ``bot.services.psa_blocks.sync_block``."""
        from bot.services.psa_blocks import sync_block

        try:
            return sync_block(self.ctx, self.psa, int(delivery.facts["block_id"]), str(delivery.facts["reference"]))
        except PsaError as error:
            raise DeliveryFailed(str(error), error.retry_after, error.permanent) from None
