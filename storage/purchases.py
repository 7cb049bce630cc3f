"""Purchases through Stripe Checkout and the Stripe events handled (issue 27): ``uow.purchases``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Purchase, StripeEvent


class Purchases:
    """Purchases by our reference, Stripe's session or payment, and the events already handled."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self, reference: str, client_id: int, minutes: int, amount: Decimal, currency: str, now: datetime
    ) -> Purchase:
        purchase = Purchase(
            reference=reference,
            client_id=client_id,
            minutes=minutes,
            amount=amount,
            currency=currency,
            state="pending",
            created_at=now,
            updated_at=now,
        )
        self._session.add(purchase)
        self._session.flush()
        return purchase

    def get(self, purchase_id: int) -> Purchase:
        purchase = self._session.get(Purchase, purchase_id)
        assert purchase is not None, purchase_id
        return purchase

    def by_reference(self, reference: str, lock: bool = False) -> Purchase | None:
        query = select(Purchase).where(Purchase.reference == reference)
        return self._session.execute(query.with_for_update() if lock else query).scalar_one_or_none()

    def by_session(self, session_id: str) -> Purchase | None:
        return self._session.execute(select(Purchase).where(Purchase.session_id == session_id)).scalar_one_or_none()

    def by_payment(self, payment_intent: str) -> Purchase | None:
        query = select(Purchase).where(Purchase.payment_intent == payment_intent).order_by(Purchase.id)
        return self._session.execute(query).scalars().first()

    def of_client(self, client_id: int) -> list[Purchase]:
        query = select(Purchase).where(Purchase.client_id == client_id).order_by(Purchase.id)
        return list(self._session.execute(query).scalars())

    def reread(self, purchase: Purchase) -> Purchase:
        """The row read again (after its client's row lock was taken: what another process wrote shows)."""
        self._session.refresh(purchase)
        return purchase

    def event_seen(self, event_id: str) -> bool:
        return self._session.get(StripeEvent, event_id) is not None

    def record_event(self, event_id: str, kind: str, purchase_id: int | None, outcome: str, now: datetime) -> None:
        """Mark the event handled; a second insert of one id fails on the primary key (``Conflict``) at
        once, so of two deliveries at the same moment only one commits its effect."""
        self._session.add(
            StripeEvent(event_id=event_id, type=kind[:64], purchase_id=purchase_id, outcome=outcome, received_at=now)
        )
        self._session.flush()
