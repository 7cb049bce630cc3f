"""``client set acme buy ...`` (issue 27, part 3): offers read, merged and stored; bad input refused
with a correct example; and what a Stripe event does to a purchase (bot.domain.purchases)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.commands import ClientSet
from bot.domain.errors import ParseError
from bot.domain.grammar import parse_command
from bot.domain.offers import (
    Offer,
    OfferChange,
    apply_offers,
    format_offers,
    hours_words,
    major_amount,
    minor_amount,
    parse_offer_words,
    stored_offers,
)
from bot.domain.purchases import PurchaseFacts, on_charge_event, on_session_event

TODAY = date(2026, 11, 25)
TEN = Offer(600, Decimal("950.00"), "USD")
TWENTY = Offer(1200, Decimal("1800.00"), "USD")


def buy(line: str) -> dict[str, object]:
    command = parse_command(f"client set acme {line}", TODAY)
    assert isinstance(command, ClientSet)
    return command.changes


def test_one_offer_is_a_size_a_price_and_a_currency() -> None:
    assert buy("buy 10h 950 USD") == {"buy_offers": OfferChange(sizes=((600, TEN),))}


def test_several_offers_are_separated_by_commas() -> None:
    expected = OfferChange(sizes=((600, TEN), (1200, TWENTY)))
    assert buy("buy 10h 950 USD, 20h 1800 USD") == {"buy_offers": expected}
    assert buy("buy 10h 950 usd , 20h 1800.00 USD") == {"buy_offers": expected}
    assert buy("buy 10h 950 USD 20h 1800 USD") == {"buy_offers": expected}


def test_none_removes_one_offer_or_all_of_them() -> None:
    assert buy("buy 10h none") == {"buy_offers": OfferChange(sizes=((600, None),))}
    assert buy("buy none") == {"buy_offers": OfferChange(clear=True)}


def test_other_settings_may_follow_the_offers() -> None:
    changes = buy("buy 10h 950 USD, 20h none rounding 15m")
    assert changes == {"buy_offers": OfferChange(sizes=((600, TEN), (1200, None))), "rounding_minutes": 15}


def test_amounts_take_the_currencys_minor_units() -> None:
    (offer,) = apply_offers((), parse_offer_words("10h 120000 JPY".split())[0])
    assert (offer.amount, offer.minor_amount) == (Decimal("120000"), 120000)
    (offer,) = apply_offers((), parse_offer_words("7h30m 99.5 EUR".split())[0])
    assert (offer.minutes, offer.amount, offer.minor_amount) == (450, Decimal("99.50"), 9950)
    assert TEN.minor_amount == 95000


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("buy 10h 950.123 USD", "USD amounts take at most 2 decimals"),
        ("buy 10h 950.5 JPY", "JPY amounts take no decimals"),
        ("buy 10h 950 XYZ", "`XYZ` is not a currency I know"),
        ("buy 10h 0 USD", "more than zero"),
        ("buy 10h -5 USD", "`-5` is not an amount"),
        ("buy 10h 1,800 USD", "without a thousands separator"),
        ("buy 10h 950", "an offer is a block size, a price and a currency"),
        ("buy ten 950 USD", "`ten` is not a block size"),
        ("buy 0h 950 USD", "more than zero"),
        ("buy", "`buy` needs an offer"),
        ("buy 10h 950 USD, 10h 990 USD", "given twice"),
        ("buy 10h 1000000 USD", "more than one card payment can take"),
    ],
)
def test_bad_offers_are_refused_with_a_correct_example(words: str, says: str) -> None:
    with pytest.raises(ParseError) as refused:
        buy(words)
    assert says in refused.value.message
    assert refused.value.example and "buy 10h 950 USD" in refused.value.example


def test_an_offer_is_added_or_repriced_and_the_others_are_kept() -> None:
    current = (TEN, TWENTY)
    cheaper = parse_offer_words("10h 900 USD".split())[0]
    assert apply_offers(current, cheaper) == (Offer(600, Decimal("900.00"), "USD"), TWENTY)
    assert apply_offers(current, parse_offer_words("10h none".split())[0]) == (TWENTY,)
    assert apply_offers(current, parse_offer_words("none".split())[0]) == ()


@given(
    st.lists(
        st.tuples(
            st.integers(1, 2000).map(lambda n: n * 30),
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2),
            st.sampled_from(["USD", "EUR", "GBP"]),
        ),
        max_size=5,
    )
)
def test_stored_offers_read_back_as_they_were(values: list[tuple[int, Decimal, str]]) -> None:
    offers = tuple(sorted({m: Offer(m, a, c) for m, a, c in values}.values()))
    assert stored_offers(format_offers(offers)) == offers


def test_the_button_says_hours_in_words() -> None:
    assert (TEN.label, hours_words(60), hours_words(450), hours_words(45)) == (
        "Buy 10 hours",
        "1 hour",
        "7.5 hours",
        "45 minutes",
    )


# -- what an event does to a purchase -------------------------------------------------------------------

PENDING = PurchaseFacts("bp_1", "acme", 600, Decimal("950.00"), "USD", "cs_1", "pending", credited=False)
PAID_SESSION = {
    "id": "cs_1",
    "mode": "payment",
    "amount_total": 95000,
    "currency": "usd",
    "client_reference_id": "acme",
    "metadata": {"blocktime_purchase": "bp_1"},
    "payment_status": "paid",
}


def test_only_a_paid_session_that_agrees_credits() -> None:
    assert on_session_event("checkout.session.completed", PAID_SESSION, PENDING).credit
    unpaid = {**PAID_SESSION, "payment_status": "unpaid"}
    assert not on_session_event("checkout.session.completed", unpaid, PENDING).credit
    assert on_session_event("checkout.session.async_payment_succeeded", PAID_SESSION, PENDING).credit
    for wrong in ({"amount_total": 94999}, {"currency": "eur"}, {"client_reference_id": "globex"}, {"id": "cs_2"}):
        verdict = on_session_event("checkout.session.completed", {**PAID_SESSION, **wrong}, PENDING)
        assert (verdict.credit, verdict.state, verdict.trouble) == (False, "refused", "refused")


def test_a_credited_purchase_is_never_credited_again() -> None:
    done = PurchaseFacts("bp_1", "acme", 600, Decimal("950.00"), "USD", "cs_1", "paid", credited=True)
    assert not on_session_event("checkout.session.async_payment_succeeded", PAID_SESSION, done).credit


def test_a_refund_is_told_and_takes_nothing_back() -> None:
    verdict = on_charge_event(
        "charge.refunded", {"amount_refunded": 40000, "currency": "usd", "refunded": False}, PENDING
    )
    assert (verdict.credit, verdict.trouble, verdict.news) == (False, "partly refunded", "partly refunded: 400.00 USD")


def test_an_expired_checkout_is_recorded_and_told_to_no_one() -> None:
    verdict = on_session_event("checkout.session.expired", {**PAID_SESSION, "status": "expired"}, PENDING)
    assert (verdict.state, verdict.credit, verdict.trouble) == ("expired", False, None)


def test_a_failure_after_the_block_was_added_is_told_and_keeps_the_block() -> None:
    done = PurchaseFacts("bp_1", "acme", 600, Decimal("950.00"), "USD", "cs_1", "paid", credited=True)
    verdict = on_session_event("checkout.session.async_payment_failed", PAID_SESSION, done)
    assert (verdict.state, verdict.credit, verdict.trouble) == ("paid", False, "payment failed")


def test_stripe_is_sent_isk_in_its_own_two_decimal_units_not_iso_4217s_none() -> None:
    """Stripe keeps ISK two-decimal (100 is 1 krona): ISO 4217's exponent would charge a hundredth."""
    (offer,) = apply_offers((), parse_offer_words("10h 150000 ISK".split())[0])
    assert (offer.amount, offer.minor_amount) == (Decimal("150000"), 15_000_000)
    assert major_amount(15_000_000, "ISK") == Decimal("150000")
    with pytest.raises(ParseError, match="ISK amounts take no decimals"):
        parse_offer_words("10h 950.5 ISK".split())
    assert (minor_amount(Decimal("120000"), "JPY"), minor_amount(Decimal("5.12"), "KWD")) == (120000, 5120)
