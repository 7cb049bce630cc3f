"""Buy more hours (issue 27, part 3): the page's **Buy 10 hours** opens a Stripe Checkout Session, and
Stripe's webhook adds the block once the payment is verified.

``start_checkout`` (the page's POST):
1. Stripe configured, the client live and the offer one of its own, else ``NotFound`` (the page: 404);
2. a ``pending`` purchase with our reference and the offer as it stands, committed before Stripe is
   asked, so every session Stripe makes has its row;
3. the session (mode payment, the offer's price, the client as ``client_reference_id``, our reference
   in the metadata, back to the page afterwards), under our reference as its idempotency key;
4. its id kept on the purchase; the page answers 303 to the session's url.

``handle_webhook`` (``POST /stripe/webhook``):
1. the signature verified with the endpoint secret (``bot.checkout``), else 400 and nothing done;
2. an event type we do not handle: 200, ignored;
3. one unit of work under the client's row lock: an event id handled before does nothing (the
   ``stripe_events`` row is inserted with the effect, so two deliveries at once commit one);
4. the purchase named by our reference (sessions) or Stripe's payment (refunds, disputes), and what the
   event does to it decided by ``bot.domain.purchases``: a verified payment that agrees with the
   purchase adds the block through the top-up path (paid, written to the PSA like any top-up; the
   block's key ``stripe:<reference>`` makes a second credit impossible); anything the managers must see
   is queued for them where the alerts go (never a channel the client reads).
Nothing else moves hours: a refund or a dispute is told, never undone here."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from bot.checkout import BadSignature, CheckoutUnavailable, checkout_of
from bot.domain.commands import TopUp
from bot.domain.errors import NotFound
from bot.domain.notices import PurchasePaid, PurchaseTrouble
from bot.domain.offers import Offer, hours_words, offer_of, stored_offers
from bot.domain.purchases import (
    HANDLED_EVENTS,
    PURCHASE_KEY,
    SESSION_EVENTS,
    PurchaseFacts,
    Verdict,
    on_charge_event,
    on_session_event,
)
from bot.services import alerts
from bot.services.book import ClientBook, locked_client
from bot.services.context import Actor, Context, record_audit
from bot.services.hours import add_block
from storage.db import UnitOfWork
from storage.errors import Conflict
from storage.models import Purchase
from storage.repos import Client

log = logging.getLogger(__name__)

STRIPE = Actor("stripe", "Stripe")  # who sold a block bought on the page
NOT_HERE = "There is nothing to buy here."


@dataclass(frozen=True)
class WebhookAnswer:
    """The webhook's answer: its HTTP status and a word for Stripe's dashboard (never a secret)."""

    status: int
    text: str


def offers_on_page(ctx: Context, client_id: int) -> tuple[Offer, ...]:
    """The offers the client's page shows a button for: none while Stripe is not configured."""
    if not ctx.settings.stripe_configured:
        return ()
    with ctx.db.unit_of_work(read_only=True) as uow:
        client = uow.clients.by_id(client_id)
        if client is None or client.archived:
            return ()
        return stored_offers(client.buy_offers)


def start_checkout(ctx: Context, client_id: int, minutes: int, page_url: str) -> str:
    """Open a Checkout Session for the client's ``minutes`` offer (see the module's docstring); returns
    the session's url. ``page_url``: the page's own address, where Stripe sends the buyer back."""
    checkout = checkout_of(ctx.settings, ctx.caches)
    if checkout is None:
        raise NotFound(NOT_HERE)
    reference = "bp_" + secrets.token_hex(10)
    with ctx.db.unit_of_work() as uow:
        client = uow.clients.by_id(client_id)
        offer = offer_of(stored_offers(client.buy_offers), minutes) if client and not client.archived else None
        if client is None or offer is None:
            raise NotFound(NOT_HERE)
        purchase = uow.purchases.add(reference, client.id, offer.minutes, offer.amount, offer.currency, ctx.now())
        params = session_params(client, offer, reference, page_url)
        purchase_id = purchase.id
        uow.commit()
    try:
        session = checkout.create_session(params, idempotency_key=reference)
    except CheckoutUnavailable as error:
        _record(ctx, purchase_id, state="failed", news=f"Stripe made no checkout session ({error})")
        raise
    _record(ctx, purchase_id, session_id=session.id)
    return session.url


def session_params(client: Client, offer: Offer, reference: str, page_url: str) -> dict[str, Any]:
    """Stripe's ``POST /v1/checkout/sessions`` parameters for one offer (its form encoding is the library's)."""
    metadata = {PURCHASE_KEY: reference, "client": client.handle, "minutes": str(offer.minutes)}
    return {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": offer.currency.lower(),
                    "unit_amount": offer.minor_amount,
                    "product_data": {"name": f"{hours_words(offer.minutes)} of support, {client.display_name}"},
                },
            }
        ],
        "client_reference_id": client.handle,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},  # refunds and disputes name the payment
        "success_url": f"{page_url}?bought={reference}",
        "cancel_url": page_url,
    }


def _record(ctx: Context, purchase_id: int, **values: Any) -> None:
    with ctx.db.unit_of_work() as uow:
        purchase = uow.purchases.get(purchase_id)
        for name, value in values.items():
            setattr(purchase, name, value)
        purchase.updated_at = ctx.now()
        uow.commit()


# -- the webhook --------------------------------------------------------------------------------------


def handle_webhook(ctx: Context, payload: bytes, signature: str | None) -> WebhookAnswer:
    """Stripe's event, verified and handled once (see the module's docstring)."""
    checkout = checkout_of(ctx.settings, ctx.caches)
    if checkout is None:
        return WebhookAnswer(404, "not configured")
    try:
        event = checkout.verify_event(payload, signature, ctx.now())
    except BadSignature as bad:
        log.warning("Stripe webhook refused: %s", bad)
        return WebhookAnswer(400, "bad signature")
    kind, event_id = str(event.get("type") or ""), str(event.get("id") or "")
    obj = (event.get("data") or {}).get("object") or {}
    if kind not in HANDLED_EVENTS or not event_id or not isinstance(obj, dict):
        return WebhookAnswer(200, "ignored")
    try:
        with ctx.db.unit_of_work() as uow:
            if uow.purchases.event_seen(event_id):
                return WebhookAnswer(200, "already handled")
            outcome, purchase_id = _handle(uow, ctx, event_id, kind, obj)
            uow.purchases.record_event(event_id, kind, purchase_id, outcome, ctx.now())
            uow.commit()
    except Conflict:  # the same event delivered twice at once: the other delivery committed its effect
        return WebhookAnswer(200, "already handled")
    return WebhookAnswer(200, outcome)


def _handle(uow: UnitOfWork, ctx: Context, event_id: str, kind: str, obj: dict[str, Any]) -> tuple[str, int | None]:
    """The event's effect, in the caller's unit of work; returns (outcome, purchase id)."""
    reference = (obj.get("metadata") or {}).get(PURCHASE_KEY)
    if kind in SESSION_EVENTS:
        found = uow.purchases.by_reference(str(reference)) if reference else None
        if found is None:
            found = uow.purchases.by_session(str(obj.get("id") or ""))
        if found is None:
            if reference:  # it says it is ours, and it is not: the managers look
                _tell_unknown(uow, ctx, event_id, kind, obj, f"no purchase {reference!r} is known here")
                return "unknown purchase", None
            return "not ours", None  # another sale on the same Stripe account
    else:
        payment = obj.get("payment_intent")
        found = uow.purchases.by_payment(str(payment)) if payment else None
        if found is None and reference:
            found = uow.purchases.by_reference(str(reference))
        if found is None:
            if reference:  # names our purchase, which we do not have: the managers look
                _tell_unknown(uow, ctx, event_id, kind, obj, on_charge_event(kind, obj, None).news)
                return "unknown payment", None
            return "not ours", None
    client = locked_client(uow, found.client_id)
    purchase = uow.purchases.reread(found)
    facts = _facts(purchase, client)
    verdict = on_session_event(kind, obj, facts) if kind in SESSION_EVENTS else on_charge_event(kind, obj, facts)
    _apply(uow, ctx, event_id, client, purchase, verdict, obj)
    return ("credited" if verdict.credit else verdict.state), purchase.id


def _facts(purchase: Purchase, client: Client) -> PurchaseFacts:
    return PurchaseFacts(
        reference=purchase.reference,
        client=client.handle,
        minutes=purchase.minutes,
        amount=purchase.amount,
        currency=purchase.currency,
        session_id=purchase.session_id,
        state=purchase.state,
        credited=purchase.block_id is not None,
    )


def _apply(
    uow: UnitOfWork,
    ctx: Context,
    event_id: str,
    client: Client,
    purchase: Purchase,
    verdict: Verdict,
    obj: dict[str, Any],
) -> None:
    before = {"state": purchase.state, "block_id": purchase.block_id}
    purchase.state, purchase.news, purchase.updated_at = verdict.state, verdict.news[:1000], ctx.now()
    if verdict.credit:
        payment = obj.get("payment_intent")
        if isinstance(payment, str):
            purchase.payment_intent = payment
        _credit(uow, ctx, client, purchase)
    if verdict.trouble:
        _tell_trouble(uow, ctx, event_id, client, purchase, verdict)
    record_audit(
        uow,
        ctx,
        STRIPE,
        "purchase",
        f"purchase:{purchase.id}",
        client.id,
        before,
        {"state": purchase.state, "block_id": purchase.block_id, "news": purchase.news},
    )


def _credit(uow: UnitOfWork, ctx: Context, client: Client, purchase: Purchase) -> None:
    """The paid block, by the top-up path: numbered, settling open overage, queued for the PSA."""
    command = TopUp(
        client=client.handle,
        minutes=purchase.minutes,
        price=purchase.amount,
        currency=purchase.currency,
        reference=purchase.reference,
        note="bought on the client's page, paid by card (Stripe)",
        paid=True,
    )
    book = ClientBook(uow, ctx, client, STRIPE)
    book.catch_up()
    block, _, _ = add_block(book, command, f"stripe:{purchase.reference}")
    purchase.block_id = block.id
    notice = PurchasePaid(
        client=client.handle,
        display_name=client.display_name,
        account_manager=client.account_manager,
        minutes=purchase.minutes,
        amount=str(purchase.amount),
        currency=purchase.currency,
        reference=purchase.reference,
        block_number=block.number,
        remaining_minutes=book.balance(),
    )
    alerts.queue(uow, ctx, notice, client, f"purchase:{purchase.id}:paid")


def _tell_trouble(
    uow: UnitOfWork, ctx: Context, event_id: str, client: Client, purchase: Purchase, verdict: Verdict
) -> None:
    block = uow.blocks.get(purchase.block_id) if purchase.block_id else None
    notice = PurchaseTrouble(
        client=client.handle,
        display_name=client.display_name,
        account_manager=client.account_manager,
        trouble=verdict.trouble or "news",
        news=verdict.news,
        reference=purchase.reference,
        minutes=purchase.minutes,
        amount=str(purchase.amount),
        currency=purchase.currency,
        block_number=block.number if block else None,
    )
    alerts.queue(uow, ctx, notice, client, f"stripe:{event_id}")


def _tell_unknown(uow: UnitOfWork, ctx: Context, event_id: str, kind: str, obj: dict[str, Any], news: str) -> None:
    """A payment event for no purchase of ours: the managers see it (nothing is added or taken back)."""
    trouble = "refused" if kind in SESSION_EVENTS else on_charge_event(kind, obj, None).trouble or "news"
    handle = obj.get("client_reference_id")
    client = uow.clients.get(str(handle)) if isinstance(handle, str) else None
    notice = PurchaseTrouble(
        client=client.handle if client else None,
        display_name=client.display_name if client else None,
        account_manager=client.account_manager if client else None,
        trouble=trouble,
        news=f"{kind} ({obj.get('id')}): {news}",
    )
    alerts.queue(uow, ctx, notice, client, f"stripe:{event_id}")
