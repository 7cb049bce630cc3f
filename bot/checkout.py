"""Stripe, through Stripe's own library (``stripe``), the one module that imports it (issue 27):
making a Checkout Session, and verifying a webhook's ``Stripe-Signature``.

The API base is ``STRIPE_API_URL`` (tests point it at a local fake); the secret key goes only to the
library, which sends it as the bearer token and never logs it. A signature is verified by
``stripe.Webhook.construct_event`` (``t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<payload>">`` with the
endpoint secret); its timestamp is held to the tolerance against our clock, not the wall's, so the
rule is the library's and the time is the one every use case is given."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import stripe

from bot import redaction
from bot.config import Settings

log = logging.getLogger(__name__)
STRIPE_LOGGER = "stripe"  # the library's: at DEBUG it logs each request's form and each answer's body

TOLERANCE_SECONDS = 300  # Stripe's default: a signature older (or newer) than this is refused
TIMEOUT_SECONDS = 15


class CheckoutUnavailable(Exception):
    """Stripe did not make the session (down, refused the key, refused the request): nothing was paid."""


class BadSignature(Exception):
    """A webhook whose signature (or its time) does not verify: answered 400, nothing done."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


class Checkout(Protocol):
    def create_session(self, params: dict[str, Any], idempotency_key: str) -> CheckoutSession: ...

    def verify_event(self, payload: bytes, signature: str | None, now: datetime) -> dict[str, Any]: ...


class StripeCheckout:
    """:class:`Checkout` on Stripe's library, with the settings' key, endpoint secret and API base."""

    def __init__(self, settings: Settings) -> None:
        if not settings.stripe_configured:
            raise ValueError("Stripe is not configured (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET)")
        assert settings.stripe_secret_key is not None
        redaction.install_on(STRIPE_LOGGER)  # the success and cancel URLs name the page's token
        self._endpoint_secret = settings.stripe_webhook_secret
        self._client = stripe.StripeClient(
            settings.stripe_secret_key,
            base_addresses={"api": settings.stripe_api_url},
            max_network_retries=2,  # the library sends each retry with the same Idempotency-Key
            # requests (a dependency of stripe's), with a timeout a page can wait out; the library's httpx
            # client passes bytes as data=, which httpx deprecates
            http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        )

    def create_session(self, params: dict[str, Any], idempotency_key: str) -> CheckoutSession:
        try:
            session = self._client.v1.checkout.sessions.create(
                params,  # type: ignore[arg-type]  # a plain dict of Stripe's documented parameters
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            log.warning(
                "Stripe refused a Checkout Session: %s (HTTP %s, %s)",
                type(error).__name__,
                error.http_status,
                error.code or "no code",
            )
            raise CheckoutUnavailable(f"{type(error).__name__}: {error}") from None
        if not session.url:
            raise CheckoutUnavailable("the session has no url")
        return CheckoutSession(session.id, session.url)

    def verify_event(self, payload: bytes, signature: str | None, now: datetime) -> dict[str, Any]:
        try:
            # tolerance 0: the library checks the signature; its age is checked below, by our clock
            stripe.Webhook.construct_event(payload, signature, self._endpoint_secret, tolerance=0)
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise BadSignature(str(error).split(".")[0]) from None
        signed_at = _timestamp(signature or "")
        if signed_at is None or abs(now.timestamp() - signed_at) > TOLERANCE_SECONDS:
            raise BadSignature("the signature's timestamp is outside the tolerance")
        try:
            event = json.loads(payload)
        except ValueError:  # pragma: no cover - construct_event parsed it already
            raise BadSignature("the payload is not JSON") from None
        if not isinstance(event, dict):
            raise BadSignature("the payload is not an event")
        return event


def _timestamp(header: str) -> int | None:
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return None


def checkout_of(settings: Settings, caches: dict[str, Any]) -> Checkout | None:
    """The process's Stripe client (made once), or None while Stripe is not configured."""
    if not settings.stripe_configured:
        return None
    made = caches.get("stripe_checkout")
    if made is None or made[0] is not settings:  # new settings (a test's): a client made from them
        made = caches["stripe_checkout"] = (settings, StripeCheckout(settings))
    return made[1]
