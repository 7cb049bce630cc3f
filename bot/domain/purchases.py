"""What a Stripe event does to a purchase made on the client's page (issue 27, part 3). Pure.

A purchase is ours (a row written when its Checkout Session was made, with the offer as it stood),
and hours come only from it: an event is checked against it, never believed on its own.

- ``checkout.session.completed`` with ``payment_status`` ``paid``, or a later
  ``checkout.session.async_payment_succeeded``: the block is added, once; the session must agree with
  the purchase (our reference, the client, the amount in minor units, the currency, the session id),
  else nothing is credited and the managers are told.
- ``checkout.session.completed`` still unpaid (a bank debit on its way): recorded, nothing more.
- ``checkout.session.async_payment_failed`` and ``checkout.session.expired``: recorded (the failure is
  told to the managers).
- ``charge.refunded``, ``charge.refund.updated``, ``charge.dispute.created``: recorded and told to the
  managers. A refund never takes hours back: managers decide (``void topup``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.domain.offers import MINOR_UNITS, major_amount, minor_amount

PURCHASE_KEY = "blocktime_purchase"  # the metadata key that carries our reference

PAID_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
SESSION_EVENTS = (*PAID_EVENTS, "checkout.session.async_payment_failed", "checkout.session.expired")
CHARGE_EVENTS = ("charge.refunded", "charge.refund.updated", "charge.dispute.created")
HANDLED_EVENTS = (*SESSION_EVENTS, *CHARGE_EVENTS)
CREDITABLE = ("pending", "failed", "expired")  # states a verified payment may still add the block from


@dataclass(frozen=True)
class PurchaseFacts:
    """Our purchase as the rules need it."""

    reference: str
    client: str  # the client's handle (the session's client_reference_id)
    minutes: int
    amount: Decimal
    currency: str
    session_id: str | None
    state: str
    credited: bool  # its block was added


@dataclass(frozen=True)
class Verdict:
    """What to do: ``credit`` (add the block, state ``paid``), or only record ``state`` and ``news``;
    ``trouble`` (what the managers are told, in a word or two) when they must hear of it."""

    state: str
    news: str
    credit: bool = False
    trouble: str | None = None


def money_words(amount: Decimal, currency: str) -> str:
    return f"{amount} {currency}"


def session_mismatches(purchase: PurchaseFacts, session: Mapping[str, Any]) -> list[str]:
    """Where a paid session disagrees with our purchase, in words (empty when it agrees)."""
    found = []
    metadata = session.get("metadata") or {}
    if metadata.get(PURCHASE_KEY) != purchase.reference:
        found.append(f"its reference is {metadata.get(PURCHASE_KEY)!r}, not {purchase.reference!r}")
    if session.get("client_reference_id") != purchase.client:
        found.append(f"it is for client {session.get('client_reference_id')!r}, not {purchase.client!r}")
    if purchase.session_id is not None and session.get("id") != purchase.session_id:
        found.append(f"it is session {session.get('id')!r}, not {purchase.session_id!r}")
    if session.get("mode") not in (None, "payment"):
        found.append(f"its mode is {session.get('mode')!r}, not a payment")
    currency = str(session.get("currency") or "").upper()
    total = session.get("amount_total")
    if currency != purchase.currency:
        found.append(f"it is in {currency or 'no currency'}, not {purchase.currency}")
    elif not isinstance(total, int) or total != minor_amount(purchase.amount, purchase.currency):
        said = money_words(major_amount(total, currency), currency) if isinstance(total, int) else repr(total)
        found.append(f"it charged {said}, not {money_words(purchase.amount, purchase.currency)}")
    return found


def on_session_event(kind: str, session: Mapping[str, Any], purchase: PurchaseFacts) -> Verdict:
    """A ``checkout.session.*`` event of our purchase (see the module's docstring)."""
    state = purchase.state
    if kind in PAID_EVENTS and (kind != PAID_EVENTS[0] or session.get("payment_status") == "paid"):
        if purchase.credited or state == "paid":
            return Verdict(state, f"{kind}: the block was added already")
        wrong = session_mismatches(purchase, session)
        if wrong:
            return Verdict("refused", f"{kind} refused: {'; '.join(wrong)}", trouble="refused")
        if state not in CREDITABLE:
            return Verdict(state, f"{kind} after the purchase was {state}: nothing added", trouble="paid late")
        return Verdict("paid", f"paid ({kind})", credit=True)
    if kind == PAID_EVENTS[0]:
        status = session.get("payment_status")
        return Verdict(state, f"checkout completed, payment {status}: the block waits for the payment")
    if kind == "checkout.session.async_payment_failed":
        if purchase.credited:
            return Verdict(state, "a payment failure arrived after the block was added", trouble="payment failed")
        return Verdict("failed", "the payment failed", trouble="payment failed")
    if kind == "checkout.session.expired":
        return Verdict("expired" if state == "pending" else state, "the checkout expired unpaid")
    return Verdict(state, f"{kind}: nothing to do")


def on_charge_event(kind: str, obj: Mapping[str, Any], purchase: PurchaseFacts | None) -> Verdict:
    """A refund or a dispute of a payment (of our purchase, or one we know nothing of: the managers
    hear of it all the same). Hours are never taken back here."""
    state = purchase.state if purchase else "unknown"
    currency = str(obj.get("currency") or (purchase.currency if purchase else "")).upper()
    money = _money(obj.get("amount_refunded") if kind == "charge.refunded" else obj.get("amount"), currency)
    if kind == "charge.refunded":
        whole = obj.get("refunded") is True
        return Verdict(
            "refunded" if purchase else state,
            f"{'refunded' if whole else 'partly refunded'}: {money}",
            trouble="refunded" if whole else "partly refunded",
        )
    if kind == "charge.refund.updated":
        return Verdict(state, f"a refund of {money} is {obj.get('status')}", trouble="refund updated")
    if kind == "charge.dispute.created":
        why = obj.get("reason") or "no reason given"
        return Verdict("disputed" if purchase else state, f"disputed ({why}): {money}", trouble="disputed")
    return Verdict(state, f"{kind}: nothing to do")


def _money(minor: Any, currency: str) -> str:
    if not isinstance(minor, int) or currency not in MINOR_UNITS:
        return f"{minor} {currency}".strip()
    return money_words(major_amount(minor, currency), currency)
