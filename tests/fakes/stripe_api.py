"""A local fake of Stripe (issue 27), written from Stripe's API reference, for Stripe's own Python
library pointed at it (``STRIPE_API_URL``), as the PSA fakes are.

What it serves, as Stripe does:
- ``POST /v1/checkout/sessions``: form-encoded (``line_items[0][price_data][unit_amount]=95000``...),
  the secret key as ``Authorization: Bearer sk_...``; checks what Stripe requires of a payment-mode
  session (a mode, line items each with a quantity and a ``price`` or ``price_data`` of currency and
  integer ``unit_amount`` and a product name, a ``success_url``; metadata of at most 50 keys, keys up to
  40 characters, values up to 500) and answers a Checkout Session object (``cs_test_...``, ``url`` on
  this fake's checkout page, ``amount_total`` and ``currency`` from the line items, ``status`` open,
  ``payment_status`` unpaid). ``Idempotency-Key``: the same key with the same parameters answers the
  first session again; with other parameters, Stripe's ``idempotency_error``.
- ``GET /v1/checkout/sessions/<id>``: the session.
- Errors in Stripe's shape: ``{"error": {"type", "message", "param"?, "code"?}}`` (401 for a wrong key).
- ``GET /c/pay/<id>``: a checkout page with **Pay** (a plain form); ``POST /c/pay/<id>`` pays the session
  and delivers ``checkout.session.completed`` to the webhook as Stripe would (signed), then 303 to the
  ``success_url``.

And what Stripe does on its side, for the tests: :meth:`FakeStripe.event` builds an Event object
(``evt_...``, ``type``, ``created``, ``data.object``, ``api_version``...), :func:`sign` makes the
``Stripe-Signature`` header (``t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<payload>" with the endpoint
secret>``) and :meth:`FakeStripe.deliver` POSTs a signed event to a webhook URL."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

import httpx

from tests.fakes.loopback import close, serve_on_loopback

API_VERSION = "2025-11-17.clover"
SECRET_KEY = "sk_test_blocktime_fake_4eC39HqLyjWDarjtT1zdp7dc"
WEBHOOK_SECRET = "whsec_blocktime_fake_endpoint_secret"


@dataclass
class StripeCall:
    """One API call as the fake received it."""

    method: str
    path: str
    authorization: str | None
    idempotency_key: str | None
    form: dict[str, str]  # the form's fields as sent: {"line_items[0][price_data][unit_amount]": "95000"}
    status: int


class StripeError(Exception):
    def __init__(
        self,
        status: int,
        kind: str,
        message: str,
        param: str | None = None,
        code: str | None = None,
        retry: bool | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.headers = {} if retry is None else {"Stripe-Should-Retry": "true" if retry else "false"}
        self.body = {"error": {"type": kind, "message": message, **({"param": param} if param else {})}}
        if code:
            self.body["error"]["code"] = code


def sign(payload: str, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header Stripe sends with ``payload`` at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def nested(form: dict[str, str]) -> dict[str, Any]:
    """Stripe's form encoding read back: ``a[b][0][c]=v`` is ``{"a": {"b": [{"c": "v"}]}}``."""
    root: dict[str, Any] = {}
    for name, value in form.items():
        keys = re.findall(r"[^\[\]]+", name)
        node: Any = root
        for key, following in zip(keys, keys[1:] + [None], strict=True):
            if following is None:
                node[key] = value
                break
            child = node.get(key) if isinstance(node, dict) else None
            if child is None:
                child = {}
                node[key] = child
            node = child
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _lists(v) for k, v in node.items()}
    return node


@dataclass
class FakeStripe:
    """Stripe's API on loopback (see the module's docstring)."""

    secret_key: str = SECRET_KEY
    webhook_secret: str = WEBHOOK_SECRET
    calls: list[StripeCall] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhook_url: str | None = None  # where the checkout page delivers its events
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    down: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, tuple[dict[str, str], dict[str, Any]]] = {}
        self.server: ThreadingHTTPServer | None = None

    # -- the server ----------------------------------------------------------------------------------

    def start(self) -> FakeStripe:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                fake._handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                fake._handle(self, "POST")

        self.server = serve_on_loopback(Handler)
        return self

    def stop(self) -> None:
        if self.server is not None:
            close(self.server)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def settings_values(self) -> dict[str, Any]:
        """The settings that point blocktime at this fake, as ``Settings`` fields."""
        return {
            "stripe_secret_key": self.secret_key,
            "stripe_webhook_secret": self.webhook_secret,
            "stripe_api_url": self.url,
            "stripe_checkout_origin": self.url,
        }

    def env(self) -> dict[str, str]:
        """The same settings as environment variables, for a blocktime process (``blocktime web``)."""
        return {name.upper(): str(value) for name, value in self.settings_values().items()}

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.sessions.clear()
            self._by_key.clear()
            self.down = False
            self.webhook_url = None

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urlparse(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else ""
        form = dict(parse_qsl(raw, keep_blank_values=True)) if method == "POST" else {}
        if parsed.path.startswith("/c/pay/"):
            self._checkout_page(handler, method, parsed.path.removeprefix("/c/pay/"))
            return
        status, body, headers = 200, {}, {"Request-Id": "req_" + secrets.token_hex(7)}
        try:
            with self._lock:
                status, body = self._api(method, parsed.path, handler.headers, form)
        except StripeError as error:
            status, body = error.status, error.body
            headers.update(error.headers)
        call = StripeCall(
            method,
            parsed.path,
            handler.headers.get("Authorization"),
            handler.headers.get("Idempotency-Key"),
            form,
            status,
        )
        self.calls.append(call)
        self._send(handler, status, json.dumps(body).encode(), "application/json", headers)

    def _send(
        self, handler: BaseHTTPRequestHandler, status: int, data: bytes, kind: str, headers: dict[str, str]
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    # -- the API -------------------------------------------------------------------------------------

    def _api(self, method: str, path: str, headers: Any, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if self.down:  # Stripe-Should-Retry: false (as Stripe says when a retry would not help): no back-off
            raise StripeError(503, "api_error", "Stripe is unavailable (the fake is down).", retry=False)
        auth = headers.get("Authorization") or ""
        if auth != f"Bearer {self.secret_key}":
            shown = auth.removeprefix("Bearer ")[-4:]
            raise StripeError(401, "invalid_request_error", f"Invalid API Key provided: sk_****{shown}")
        if method == "POST" and path == "/v1/checkout/sessions":
            return 200, self._create(form, headers.get("Idempotency-Key"))
        found = re.fullmatch(r"/v1/checkout/sessions/([A-Za-z0-9_]+)", path)
        if method == "GET" and found:
            session = self.sessions.get(found.group(1))
            if session is None:
                raise StripeError(
                    404, "invalid_request_error", f"No such checkout.session: '{found.group(1)}'", "session"
                )
            return 200, session
        raise StripeError(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _create(self, form: dict[str, str], key: str | None) -> dict[str, Any]:
        if key is not None and key in self._by_key:
            first_form, first = self._by_key[key]
            if first_form != form:
                raise StripeError(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                )
            return first
        params = nested(form)
        session = self._session(params)
        self.sessions[session["id"]] = session
        if key is not None:
            self._by_key[key] = (form, session)
        return session

    def _session(self, params: dict[str, Any]) -> dict[str, Any]:
        mode = params.get("mode")
        if mode not in ("payment", "setup", "subscription"):
            raise StripeError(400, "invalid_request_error", "Missing required param: mode.", "mode")
        if not params.get("success_url"):
            raise StripeError(
                400, "invalid_request_error", "You must provide a success_url (or set ui_mode).", "success_url"
            )
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            raise StripeError(400, "invalid_request_error", "line_items is required in payment mode.", "line_items")
        total, currency = 0, None
        for n, item in enumerate(items):
            amount, item_currency = self._line(item, n)
            total += amount
            if currency not in (None, item_currency):
                raise StripeError(400, "invalid_request_error", "All line items must share a currency.")
            currency = item_currency
        metadata = params.get("metadata") or {}
        self._check_metadata(metadata, "metadata")
        self._check_metadata((params.get("payment_intent_data") or {}).get("metadata") or {}, "payment_intent_data")
        reference = params.get("client_reference_id")
        if reference is not None and (len(reference) > 200 or not re.fullmatch(r"[A-Za-z0-9_\- ]+", reference)):
            raise StripeError(400, "invalid_request_error", "Invalid client_reference_id.", "client_reference_id")
        session_id = "cs_test_" + secrets.token_urlsafe(40).replace("-", "a").replace("_", "b")
        created = int(self.clock().timestamp())
        return {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": reference,
            "created": created,
            "currency": currency,
            "customer": None,
            "customer_details": None,
            "expires_at": created + 24 * 3600,
            "livemode": False,
            "metadata": metadata,
            "mode": mode,
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params.get("success_url"),
            "url": f"{self.url}/c/pay/{session_id}",
            "_payment_intent_metadata": (params.get("payment_intent_data") or {}).get("metadata") or {},
        }

    def _line(self, item: dict[str, Any], n: int) -> tuple[int, str]:
        where = f"line_items[{n}]"
        quantity = item.get("quantity")
        if not (isinstance(quantity, str) and quantity.isdigit() and int(quantity) > 0):
            raise StripeError(400, "invalid_request_error", f"{where}[quantity] is required.", f"{where}[quantity]")
        price = item.get("price_data")
        if not isinstance(price, dict):
            raise StripeError(400, "invalid_request_error", f"{where}: give price or price_data.", where)
        currency = price.get("currency")
        if not (isinstance(currency, str) and re.fullmatch(r"[a-z]{3}", currency)):
            raise StripeError(400, "invalid_request_error", "Invalid currency.", f"{where}[price_data][currency]")
        unit = price.get("unit_amount")
        if not (isinstance(unit, str) and unit.isdigit()):
            raise StripeError(
                400, "invalid_request_error", "Invalid integer: unit_amount.", f"{where}[price_data][unit_amount]"
            )
        product = price.get("product_data") or {}
        if not (product.get("name") or price.get("product")):
            raise StripeError(
                400,
                "invalid_request_error",
                "Missing required param: product_data[name].",
                f"{where}[price_data][product_data][name]",
            )
        return int(unit) * int(quantity), currency

    def _check_metadata(self, metadata: Any, param: str) -> None:
        if not isinstance(metadata, dict) or len(metadata) > 50:
            raise StripeError(400, "invalid_request_error", "Invalid metadata.", param)
        for key, value in metadata.items():
            if len(key) > 40 or not isinstance(value, str) or len(value) > 500:
                raise StripeError(400, "invalid_request_error", f"Invalid metadata key {key!r}.", param)

    # -- Stripe's side: paying, events, deliveries -------------------------------------------------------

    def pay(self, session_id: str, paid: bool = True) -> dict[str, Any]:
        """The buyer completes the checkout: ``paid`` at once (a card), or still unpaid (a bank debit)."""
        with self._lock:
            session = self.sessions[session_id]
            session["status"] = "complete"
            session["payment_status"] = "paid" if paid else "unpaid"
            session["payment_intent"] = session["payment_intent"] or "pi_" + secrets.token_hex(12)
            return self.public(session)

    def settle(self, session_id: str) -> dict[str, Any]:
        """An asynchronous payment (a bank debit) succeeds later."""
        with self._lock:
            session = self.sessions[session_id]
            session["payment_status"] = "paid"
            return self.public(session)

    def public(self, session: dict[str, Any]) -> dict[str, Any]:
        """The session as Stripe shows it (without the fake's own bookkeeping)."""
        return {k: v for k, v in session.items() if not k.startswith("_")}

    def charge(self, session_id: str, refunded_minor: int | None = None) -> dict[str, Any]:
        """The Charge object of a paid session (``charge.refunded`` carries it; refunded in whole by default)."""
        session = self.sessions[session_id]
        amount = session["amount_total"]
        refunded = amount if refunded_minor is None else refunded_minor
        return {
            "id": "ch_" + session["payment_intent"].removeprefix("pi_"),
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": refunded,
            "currency": session["currency"],
            "livemode": False,
            "metadata": {},  # the Charge's own (the PaymentIntent's metadata stays on the PaymentIntent)
            "paid": True,
            "payment_intent": session["payment_intent"],
            "refunded": refunded == amount,
            "status": "succeeded",
        }

    def dispute(self, session_id: str, reason: str = "fraudulent") -> dict[str, Any]:
        session = self.sessions[session_id]
        return {
            "id": "dp_" + secrets.token_hex(12),
            "object": "dispute",
            "amount": session["amount_total"],
            "charge": "ch_" + session["payment_intent"].removeprefix("pi_"),
            "currency": session["currency"],
            "payment_intent": session["payment_intent"],
            "reason": reason,
            "status": "needs_response",
        }

    def event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """An Event object as Stripe sends it to a webhook endpoint."""
        return {
            "id": "evt_" + secrets.token_hex(12),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(self.clock().timestamp()),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }

    def deliver(
        self, url: str, event: dict[str, Any], secret: str | None = None, at: datetime | None = None
    ) -> httpx.Response:
        """POST ``event`` to ``url`` signed as Stripe signs it (``secret``: the endpoint's, by default)."""
        payload = json.dumps(event, indent=2)  # Stripe sends its events pretty-printed
        timestamp = int((at or self.clock()).timestamp())
        header = sign(payload, secret or self.webhook_secret, timestamp)
        return httpx.post(
            url,
            content=payload.encode(),
            headers={"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header},
            timeout=10,
        )

    def _checkout_page(self, handler: BaseHTTPRequestHandler, method: str, session_id: str) -> None:
        session = self.sessions.get(session_id)
        if session is None:
            self._send(handler, 404, b"No such checkout", "text/plain", {})
            return
        if method == "GET":
            amount = session["amount_total"]
            page = (
                "<!doctype html><html lang=en><head><meta charset=utf-8><title>Fake Stripe Checkout</title>"
                '<link rel="icon" href="data:,"></head>'  # no /favicon.ico request (a browser's console stays clean)
                f"<body><main><h1>Pay {amount} {html.escape(str(session['currency']).upper())} (minor units)</h1>"
                f'<form method="post" action="/c/pay/{session_id}"><button type="submit">Pay</button></form>'
                "</main></body></html>"
            )
            self._send(handler, 200, page.encode(), "text/html; charset=utf-8", {})
            return
        paid = self.pay(session_id)
        if self.webhook_url:
            self.deliver(self.webhook_url, self.event("checkout.session.completed", paid))
        self._send(handler, 303, b"", "text/plain", {"Location": str(session["success_url"])})
