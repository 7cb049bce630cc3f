"""Offers of hours a client may buy on its page (issue 27, part 3): ``client set acme buy 10h 950 USD``.

An offer is a block size with its price in one currency. A client has at most one offer per size:
``buy 10h 950 USD`` adds the 10-hour offer or re-prices it, ``buy 10h 950 USD, 20h 1800 USD`` sets
several at once, ``buy 10h none`` removes one and ``buy none`` removes them all.

Money is a ``Decimal`` in the currency's major unit; Stripe is sent it in minor units (cents), by the
currency's ISO 4217 exponent, or Stripe's own where it differs (ISK: two, ``STRIPE_EXPONENT``). An amount
has no more decimals than its currency has minor units (ISO 4217: none for ISK), and never more than two
(the ledger keeps a block's price to cents; Stripe asks the three-decimal currencies for amounts that
end in 0 anyway). Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.domain.durations import format_duration, looks_like_duration, parse_duration
from bot.domain.errors import ParseError

EXAMPLE = "client set acme buy 10h 950 USD, 20h 1800 USD"
LARGEST_OFFER_MINUTES = 1000 * 60
LARGEST_MINOR_AMOUNT = 99_999_999  # Stripe's limit on a Checkout amount (eight digits in minor units)

# ISO 4217: each currency's minor units (its exponent). The currencies a card payment is taken in.
MINOR_UNITS: Mapping[str, int] = {
    **dict.fromkeys(
        "AED AUD BGN BRL CAD CHF CNY CZK DKK EGP EUR GBP HKD HUF IDR ILS INR MAD MXN MYR NGN NOK NZD PHP PKR "
        "PLN QAR RON RSD SAR SEK SGD THB TRY TWD UAH USD ZAR COP ARS PEN LKR KES GHS".split(),
        2,
    ),
    **dict.fromkeys("JPY KRW VND CLP ISK XOF XAF UGX PYG RWF".split(), 0),
    **dict.fromkeys("BHD JOD KWD OMR TND".split(), 3),
}
# Stripe's own exponent where it differs from ISO 4217: ISK is a zero-decimal currency, but Stripe's API
# keeps it two-decimal (an amount of 100 is 1 krona, and must be divisible by 100). Sending ISO's exponent
# would charge a hundredth of the price.
STRIPE_EXPONENT: Mapping[str, int] = {"ISK": 2}
_AMOUNT = re.compile(r"\d+(\.\d+)?")
_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")


@dataclass(frozen=True, order=True)
class Offer:
    """``minutes`` of block time for ``amount`` in ``currency`` (an ISO 4217 code, upper case)."""

    minutes: int
    amount: Decimal
    currency: str

    def words(self) -> str:
        """``10h 950 USD``: as ``client set ... buy`` takes it, so it can be typed again."""
        return f"{format_duration(self.minutes).replace(' ', '')} {self.amount} {self.currency}"

    @property
    def label(self) -> str:
        """``Buy 10 hours``: the page's button."""
        return f"Buy {hours_words(self.minutes)}"

    @property
    def minor_amount(self) -> int:
        """The amount in Stripe's minor units of the currency (cents), as Stripe takes it."""
        return minor_amount(self.amount, self.currency)


@dataclass(frozen=True)
class OfferChange:
    """What one ``buy`` says: drop every offer first (``buy none``), then set or (None) remove these sizes."""

    clear: bool = False
    sizes: tuple[tuple[int, Offer | None], ...] = ()


def hours_words(minutes: int) -> str:
    """``10 hours``, ``1 hour``, ``7.5 hours``, ``90 minutes``."""
    if minutes % 30:
        return f"{minutes} minutes"
    hours = Decimal(minutes) / 60
    shown = f"{hours:f}".rstrip("0").rstrip(".") if "." in f"{hours:f}" else f"{hours:f}"
    return f"{shown} hour" if minutes == 60 else f"{shown} hours"


def stripe_exponent(currency: str) -> int:
    """How many decimals Stripe's API counts in ``currency``'s amounts (ISO 4217's, but for ``STRIPE_EXPONENT``)."""
    return STRIPE_EXPONENT.get(currency, MINOR_UNITS[currency])


def minor_amount(amount: Decimal, currency: str) -> int:
    """``amount`` (major unit) as Stripe's API takes it: in its minor units (``stripe_exponent``)."""
    return int(amount.scaleb(stripe_exponent(currency)).to_integral_value())


def major_amount(minor: int, currency: str) -> Decimal:
    """A minor-unit amount (Stripe's ``amount_total``) back in the currency's major unit."""
    return Decimal(minor).scaleb(-stripe_exponent(currency))


def parse_currency(word: str) -> str:
    code = word.strip().upper()
    if code not in MINOR_UNITS:
        raise ParseError(
            f"`{word}` is not a currency I know: give its three-letter ISO 4217 code (USD, EUR, GBP...).", EXAMPLE
        )
    return code


def parse_amount(word: str, currency: str) -> Decimal:
    """A price in ``currency``: more than zero, no more decimals than the currency has (cents: two)."""
    if not _AMOUNT.fullmatch(word):
        hint = " (write 1800, without a thousands separator)" if "," in word else ""
        raise ParseError(f"`{word}` is not an amount{hint}: give a number, e.g. 950 or 950.00.", EXAMPLE)
    try:
        amount = Decimal(word)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise ParseError(f"`{word}` is not an amount.", EXAMPLE) from None
    if amount <= 0:
        raise ParseError(f"`{word} {currency}`: a price must be more than zero.", EXAMPLE)
    places = min(MINOR_UNITS[currency], 2)
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        allowed = "no decimals" if places == 0 else f"at most {places} decimals"
        raise ParseError(f"`{word} {currency}`: {currency} amounts take {allowed}.", EXAMPLE)
    amount = amount.quantize(Decimal(1).scaleb(-places))
    if minor_amount(amount, currency) > LARGEST_MINOR_AMOUNT:
        raise ParseError(f"`{word} {currency}` is more than one card payment can take.", EXAMPLE)
    return amount


def parse_size(word: str) -> int:
    """An offer's block size: a duration (``10h``, ``7h30m``), more than zero."""
    if not looks_like_duration(word):
        raise ParseError(f"`{word}` is not a block size: give hours, e.g. 10h.", EXAMPLE)
    try:
        minutes = parse_duration(word, max_minutes=LARGEST_OFFER_MINUTES)
    except ParseError as error:  # speak of offers, not of time logged
        said = "more than zero" if "zero" in error.message or "negative" in error.message else "at most 1000h"
        raise ParseError(f"`{word}`: an offer's block size must be {said}.", EXAMPLE) from None
    return minutes


def parse_offer_words(words: Sequence[str]) -> tuple[OfferChange, int]:
    """Read ``buy``'s words (those after ``buy``): ``none``, or offers ``<size> <amount> <currency>`` and
    ``<size> none``, separated by commas (or not, when the next word is a size). Returns the change and
    how many words it used; the words after it are other settings."""
    if not words:
        raise ParseError("`buy` needs an offer: a block size, its price and currency.", EXAMPLE)
    if words[0].lower().rstrip(",") in ("none", "off"):
        return OfferChange(clear=True), 1
    grouped = next((w for w in words if _THOUSANDS.fullmatch(w.rstrip(","))), None)
    if grouped is not None:
        raise ParseError(f"`{grouped}`: write amounts without a thousands separator, e.g. 1800.", EXAMPLE)
    tokens = _tokens(words)
    sizes: dict[int, Offer | None] = {}
    p, used = 0, 0
    while p < len(tokens):
        group: list[str] = []
        while p < len(tokens) and tokens[p][0] != "," and len(group) < 3:
            if len(group) == 2 and group[1].lower() in ("none", "off"):
                break
            group.append(tokens[p][0])
            used = tokens[p][1]
            p += 1
        minutes, offer = _offer(group)
        if minutes in sizes and sizes[minutes] != offer:
            raise ParseError(f"The {format_duration(minutes)} offer is given twice; give it once.", EXAMPLE)
        sizes[minutes] = offer
        if p < len(tokens) and tokens[p][0] == ",":
            used = tokens[p][1]
            p += 1
        elif not (p < len(tokens) and looks_like_duration(tokens[p][0])):
            break
    return OfferChange(sizes=tuple(sorted(sizes.items()))), used


def _tokens(words: Sequence[str]) -> list[tuple[str, int]]:
    """The words with their commas apart (``USD,`` is ``USD`` then ``,``), each with the count of words
    read once it is."""
    found: list[tuple[str, int]] = []
    for n, word in enumerate(words, start=1):
        parts = word.split(",")
        for k, part in enumerate(parts):
            if part:
                found.append((part, n))
            if k < len(parts) - 1:
                found.append((",", n))
    return found


def _offer(group: list[str]) -> tuple[int, Offer | None]:
    """One offer's words: ``10h 950 USD``, or ``10h none`` (remove it)."""
    if len(group) == 2 and group[1].lower() in ("none", "off"):
        return parse_size(group[0]), None
    if len(group) != 3:
        said = " ".join(group) or "nothing"
        raise ParseError(f"`{said}`: an offer is a block size, a price and a currency.", EXAMPLE)
    minutes = parse_size(group[0])
    currency = parse_currency(group[2])
    return minutes, Offer(minutes, parse_amount(group[1], currency), currency)


def apply_offers(current: Iterable[Offer], change: OfferChange) -> tuple[Offer, ...]:
    """The client's offers after ``change``, by size."""
    offers = {} if change.clear else {offer.minutes: offer for offer in current}
    for minutes, offer in change.sizes:
        if offer is None:
            offers.pop(minutes, None)
        else:
            offers[minutes] = offer
    return tuple(sorted(offers.values()))


def format_offers(offers: Iterable[Offer]) -> str | None:
    """``10h 950.00 USD, 20h 1800.00 USD`` (as stored and shown), or None when there is none."""
    text = ", ".join(offer.words() for offer in sorted(offers))
    return text or None


def stored_offers(text: str | None) -> tuple[Offer, ...]:
    """The offers a client's stored text holds (as :func:`format_offers` wrote them)."""
    if not text:
        return ()
    change, _ = parse_offer_words(text.split())
    return apply_offers((), change)


def offer_of(offers: Iterable[Offer], minutes: int) -> Offer | None:
    return next((offer for offer in offers if offer.minutes == minutes), None)
