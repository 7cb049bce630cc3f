"""What a block's renewal rule (``topup acme 10h ... renew monthly``) makes when its anniversary comes:
the next block, decided here and added by the renewal job (``bot.services.scheduled``).

The renewal is the same size, price and rule, for the next period, and not invoiced yet (no reference).
It is paid as the block it renews was: a block sold on an invoice still to be paid renews unpaid, its
invoice to follow, so a renewal never makes hours paid that were not (issue 26)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.domain.commands import TopUp
from bot.domain.dates import add_months


def renewal(
    handle: str,
    *,
    minutes: int,
    start_on: date,
    expires_on: date | None,
    renew_months: int,
    price: Decimal | None,
    currency: str | None,
    label: str,
    paid: bool,
) -> TopUp:
    """The top-up renewing a block (``label``: "block 3") that starts ``start_on``, renews every
    ``renew_months`` and was ``paid`` or not."""
    return TopUp(
        handle,
        minutes,
        add_months(expires_on, renew_months) if expires_on else None,
        add_months(start_on, renew_months),
        price,
        currency,
        None,  # the renewal is not invoiced yet: no reference of the block it renews
        renew_months,
        f"renewal of {label}" + ("" if paid else ", unpaid: invoice to follow"),
        paid=paid,
    )
