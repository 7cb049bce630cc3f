"""Loopback receivers for alert destinations: an SMTP server (aiosmtpd) and a webhook endpoint, both
recording what they get; the webhook can be told to fail, and the SMTP server to refuse a recipient at
RCPT (``refuse``: every time, as a mailbox that does not exist; ``refuse_once``: the next time only), a
message at DATA (``refuse_data``: by one of its recipients, as a filter that rejects its content) or the
sender at MAIL FROM (``refuse_sender``: every message, as a server that does not accept our address)."""

from __future__ import annotations

import json
import socket
from http.server import BaseHTTPRequestHandler
from typing import Any

from aiosmtpd.controller import Controller

from tests.fakes.loopback import close, serve_on_loopback


class MailBox:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.refuse: dict[str, str] = {}  # address -> the server's reply, e.g. "550 5.1.1 no such user"
        self.refuse_once: dict[str, str] = {}  # address -> a reply given once, e.g. "451 4.3.0 try later"
        self.refuse_data: dict[str, str] = {}  # address -> the reply at DATA, e.g. "554 5.7.1 content rejected"
        self.refuse_sender: str | None = None  # the reply at MAIL FROM, e.g. "553 5.7.1 sender not allowed"
        box = self

        class Handler:
            async def handle_MAIL(  # noqa: N802 - aiosmtpd API
                self, server: Any, session: Any, envelope: Any, address: str, mail_options: Any
            ) -> str:
                if box.refuse_sender:
                    return box.refuse_sender
                envelope.mail_from = address
                envelope.mail_options.extend(mail_options)
                return "250 OK"

            async def handle_RCPT(  # noqa: N802 - aiosmtpd API
                self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
            ) -> str:
                refusal = box.refuse_once.pop(address, None) or box.refuse.get(address)
                if refusal:
                    return refusal
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
                refusal = next((box.refuse_data[a] for a in envelope.rcpt_tos if a in box.refuse_data), None)
                if refusal:
                    return refusal
                box.messages.append(
                    {
                        "from": envelope.mail_from,
                        "to": list(envelope.rcpt_tos),
                        "data": envelope.content.decode("utf8", errors="replace"),
                    }
                )
                return "250 OK"

        with socket.socket() as probe:  # aiosmtpd needs a concrete port to check its own start-up
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> MailBox:
        self.controller.start()
        return self

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def reset(self) -> None:
        self.messages.clear()
        self.refuse.clear()
        self.refuse_once.clear()
        self.refuse_data.clear()
        self.refuse_sender = None

    def stop(self) -> None:
        self.controller.stop()


class WebhookReceiver:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                receiver.requests.append(
                    {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body, "json": json.loads(body)}
                )
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = serve_on_loopback(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        close(self.server)
