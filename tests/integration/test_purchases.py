"""Buy more hours (issue 27, part 3), below the page: a Checkout Session made through Stripe's own
library against the fake Stripe, and Stripe's signed events handled once, on SQLite and PostgreSQL.
Only a verified payment that agrees with our purchase adds a block; the rest is told to the managers."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bot.checkout import CheckoutUnavailable
from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.errors import NotFound
from bot.services import Actor, Context
from bot.services.purchases import handle_webhook, offers_on_page, start_checkout
from storage.models import Block, Client, OutboxMessage, Purchase, StripeEvent
from tests.fakes.stripe_api import FakeStripe, sign
from tests.helpers import do

PAGE = "https://hours.example.com/c/tok3n"
ALERTS = "CALERTS"


@pytest.fixture
def acme(ctx: Context, admin: Actor, fake_stripe: FakeStripe) -> int:
    ctx.settings = Settings(
        admins=frozenset({"UADMIN"}),
        alert_channel=ALERTS,
        psa="connectwise",
        **fake_stripe.settings_values(),
    )
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "client add globex Globex")
    do(ctx, admin, "client set acme buy 10h 950 USD, 20h 1800 USD manager <@UAM> psa-company 250 psa-agreement 30")
    with ctx.db.unit_of_work(read_only=True) as uow:
        return uow.clients.get("acme").id  # type: ignore[union-attr]


def session_of(fake: FakeStripe, url: str) -> dict[str, Any]:
    return fake.sessions[url.rsplit("/", 1)[1]]


def deliver(ctx: Context, fake: FakeStripe, event: dict[str, Any], secret: str | None = None, **at: float) -> Any:
    """``event`` signed as Stripe signs it, handed to the webhook's use case."""
    payload = json.dumps(event, indent=2)
    stamp = int((ctx.now() + timedelta(**at)).timestamp())
    return handle_webhook(ctx, payload.encode(), sign(payload, secret or fake.webhook_secret, stamp))


def rows(ctx: Context, model: Any, *where: Any) -> list[Any]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        found = list(uow.session.scalars(select(model).where(*where)))
        uow.session.expunge_all()  # read as they are now, after the unit of work is gone
        return found


def told(ctx: Context, kind: str) -> list[dict[str, Any]]:
    return [json.loads(r.payload) for r in rows(ctx, OutboxMessage, OutboxMessage.kind == kind)]


def test_the_buy_button_opens_a_checkout_session_for_the_offer(
    ctx: Context, acme: int, fake_stripe: FakeStripe
) -> None:
    url = start_checkout(ctx, acme, 600, PAGE)
    call = fake_stripe.calls[-1]
    assert (call.method, call.path, call.authorization) == (
        "POST",
        "/v1/checkout/sessions",
        f"Bearer {fake_stripe.secret_key}",
    )
    (purchase,) = rows(ctx, Purchase)
    form = call.form
    assert form["mode"] == "payment" and form["line_items[0][quantity]"] == "1"
    assert form["line_items[0][price_data][unit_amount]"] == "95000"
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert form["line_items[0][price_data][product_data][name]"] == "10 hours of support, Acme Corp"
    assert form["client_reference_id"] == "acme"
    assert form["metadata[blocktime_purchase]"] == purchase.reference == call.idempotency_key
    assert (form["metadata[client]"], form["metadata[minutes]"]) == ("acme", "600")
    assert form["success_url"] == f"{PAGE}?bought={purchase.reference}" and form["cancel_url"] == PAGE
    session = session_of(fake_stripe, url)
    assert url.startswith(fake_stripe.url + "/c/pay/cs_test_")
    assert (purchase.state, purchase.session_id, purchase.minutes) == ("pending", session["id"], 600)
    assert (purchase.amount, purchase.currency) == (Decimal("950.00"), "USD")


def test_an_event_that_does_not_verify_is_answered_400_and_changes_nothing(
    ctx: Context, acme: int, fake_stripe: FakeStripe
) -> None:
    session = session_of(fake_stripe, start_checkout(ctx, acme, 600, PAGE))
    event = fake_stripe.event("checkout.session.completed", fake_stripe.pay(session["id"]))
    payload = json.dumps(event)
    stamp = int(ctx.now().timestamp())
    secret = fake_stripe.webhook_secret
    tampered = payload.replace('"amount_total": 95000', '"amount_total": 1')
    for body, header in (
        (payload, sign(payload, "whsec_someone_else", stamp)),  # another endpoint's secret
        (payload, sign(payload, secret, stamp - 301)),  # older than the tolerance
        (payload, sign(payload, secret, stamp + 301)),  # from the future
        (payload, None),  # no Stripe-Signature
        (payload, "t=abc,v1=00"),
        (tampered, sign(payload, secret, stamp)),  # a body other than the one signed
    ):
        answer = handle_webhook(ctx, body.encode(), header)
        assert (answer.status, answer.text) == (400, "bad signature"), header
    assert rows(ctx, Block) == [] and rows(ctx, StripeEvent) == [] and rows(ctx, Purchase)[0].state == "pending"
    assert deliver(ctx, fake_stripe, event).text == "credited"  # the genuine one still does


FORGERIES: list[dict[str, Any]] = [
    {"client_reference_id": "globex"},
    {"amount_total": 100},
    {"currency": "eur"},
    {"mode": "subscription"},
]


def test_a_paid_event_that_disagrees_with_our_purchase_is_refused_and_told(
    ctx: Context, acme: int, fake_stripe: FakeStripe
) -> None:
    for n, forged in enumerate(FORGERIES, start=1):
        session = session_of(fake_stripe, start_checkout(ctx, acme, 600, PAGE))
        obj = {**fake_stripe.pay(session["id"]), **forged}
        assert deliver(ctx, fake_stripe, fake_stripe.event("checkout.session.completed", obj)).status == 200
        assert max(rows(ctx, Purchase), key=lambda p: p.id).state == "refused", forged
        # the genuine event afterwards adds nothing either, and is told: the managers decide
        deliver(ctx, fake_stripe, fake_stripe.event("checkout.session.completed", fake_stripe.public(session)))
        assert sorted(t["trouble"] for t in told(ctx, "purchase_trouble")) == ["paid late"] * n + ["refused"] * n
    assert rows(ctx, Block) == []


def test_a_paid_event_naming_a_reference_we_never_made_is_refused_and_told(
    ctx: Context, acme: int, fake_stripe: FakeStripe
) -> None:
    session = session_of(fake_stripe, start_checkout(ctx, acme, 600, PAGE))
    other = {"blocktime_purchase": "bp_not_ours", "client": "acme", "minutes": "600"}
    obj = {**fake_stripe.pay(session["id"]), "id": "cs_test_elsewhere", "metadata": other}
    assert deliver(ctx, fake_stripe, fake_stripe.event("checkout.session.completed", obj)).text == "unknown purchase"
    assert rows(ctx, Block) == [] and [t["trouble"] for t in told(ctx, "purchase_trouble")] == ["refused"]


def test_a_refund_is_told_to_the_managers_and_removes_no_hours(
    ctx: Context, acme: int, fake_stripe: FakeStripe
) -> None:
    session = session_of(fake_stripe, start_checkout(ctx, acme, 600, PAGE))
    deliver(ctx, fake_stripe, fake_stripe.event("checkout.session.completed", fake_stripe.pay(session["id"])))
    answer = deliver(ctx, fake_stripe, fake_stripe.event("charge.refunded", fake_stripe.charge(session["id"])))
    assert answer.status == 200
    assert do(ctx, Actor.local_admin(), "balance acme").balances[0].remaining_minutes == 600
    (trouble,) = told(ctx, "purchase_trouble")
    assert (
        trouble["trouble"] == "refunded" and trouble["news"] == "refunded: 950.00 USD" and trouble["block_number"] == 1
    )
    assert rows(ctx, Purchase)[0].state == "refunded"
    from bot.domain.notices import PurchaseTrouble
    from bot.phrasebook import purchase_advice

    assert "`void topup acme 1`" in purchase_advice(PurchaseTrouble.from_json(trouble))
    deliver(ctx, fake_stripe, fake_stripe.event("charge.dispute.created", fake_stripe.dispute(session["id"])))
    assert [t["trouble"] for t in told(ctx, "purchase_trouble")] == ["refunded", "disputed"]
    assert do(ctx, Actor.local_admin(), "balance acme").balances[0].remaining_minutes == 600


def test_a_failed_payment_is_told_and_adds_nothing(ctx: Context, acme: int, fake_stripe: FakeStripe) -> None:
    session = session_of(fake_stripe, start_checkout(ctx, acme, 600, PAGE))
    obj = fake_stripe.pay(session["id"], paid=False)
    deliver(ctx, fake_stripe, fake_stripe.event("checkout.session.async_payment_failed", obj))
    assert rows(ctx, Block) == [] and rows(ctx, Purchase)[0].state == "failed"
    assert [t["trouble"] for t in told(ctx, "purchase_trouble")] == ["payment failed"]


def test_an_event_type_we_do_not_handle_is_answered_200_and_ignored(
    ctx: Context, acme: int, fake_stripe: FakeStripe
) -> None:
    answer = deliver(ctx, fake_stripe, fake_stripe.event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert (answer.status, answer.text) == (200, "ignored")
    assert rows(ctx, StripeEvent) == []


def test_without_offers_or_stripe_settings_there_is_nothing_to_buy(
    ctx: Context, acme: int, admin: Actor, fake_stripe: FakeStripe
) -> None:
    assert [o.minutes for o in offers_on_page(ctx, acme)] == [600, 1200]
    with pytest.raises(NotFound):
        start_checkout(ctx, acme, 300, PAGE)  # no 5h offer
    stripe_set = ctx.settings
    ctx.settings = Settings(admins=frozenset({"UADMIN"}))
    assert offers_on_page(ctx, acme) == ()
    with pytest.raises(NotFound):
        start_checkout(ctx, acme, 600, PAGE)
    ctx.settings = stripe_set
    do(ctx, admin, "client set acme buy none")
    assert offers_on_page(ctx, acme) == ()
    with pytest.raises(NotFound):
        start_checkout(ctx, acme, 600, PAGE)
    assert fake_stripe.calls == [] and rows(ctx, Purchase) == []


def test_when_stripe_is_down_the_purchase_is_marked_failed(ctx: Context, acme: int, fake_stripe: FakeStripe) -> None:
    fake_stripe.down = True
    with pytest.raises(CheckoutUnavailable):
        start_checkout(ctx, acme, 600, PAGE)
    (purchase,) = rows(ctx, Purchase)
    assert purchase.state == "failed" and purchase.session_id is None


def test_client_set_buy_adds_reprices_and_removes_offers(
    ctx: Context, acme: int, admin: Actor, clock: FixedClock
) -> None:
    def offers() -> str | None:
        return rows(ctx, Client, Client.handle == "acme")[0].buy_offers

    assert offers() == "10h 950.00 USD, 20h 1800.00 USD"
    do(ctx, admin, "client set acme buy 10h 990 USD")
    assert offers() == "10h 990.00 USD, 20h 1800.00 USD"
    do(ctx, admin, "client set acme buy 5h 500 EUR")
    assert offers() == "5h 500.00 EUR, 10h 990.00 USD, 20h 1800.00 USD"
    do(ctx, admin, "client set acme buy 10h none")
    assert offers() == "5h 500.00 EUR, 20h 1800.00 USD"
    shown = do(ctx, admin, "client show acme")
    assert shown.buy_offers == "5h 500.00 EUR, 20h 1800.00 USD"
    do(ctx, admin, "client set acme buy none")
    assert offers() is None


def test_another_sale_on_the_same_stripe_account_is_left_alone(
    ctx: Context, acme: int, fake_stripe: FakeStripe
) -> None:
    other = {"id": "cs_test_other", "object": "checkout.session", "mode": "payment", "amount_total": 500}
    other.update(currency="usd", client_reference_id=None, metadata={}, payment_status="paid")
    assert deliver(ctx, fake_stripe, fake_stripe.event("checkout.session.completed", other)).text == "not ours"
    charge = {"id": "ch_other", "object": "charge", "amount": 500, "amount_refunded": 500, "currency": "usd"}
    charge.update(payment_intent="pi_other", refunded=True, metadata={})
    assert deliver(ctx, fake_stripe, fake_stripe.event("charge.refunded", charge)).text == "not ours"
    assert rows(ctx, Block) == [] and told(ctx, "purchase_trouble") == []


def test_the_same_event_delivered_twice_at_once_adds_one_block(
    ctx: Context, acme: int, fake_stripe: FakeStripe
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    session = session_of(fake_stripe, start_checkout(ctx, acme, 600, PAGE))
    event = fake_stripe.event("checkout.session.completed", fake_stripe.pay(session["id"]))
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: deliver(ctx, fake_stripe, event), range(2)))
    assert sorted(a.text for a in answers) == ["already handled", "credited"]
    assert all(a.status == 200 for a in answers)
    assert len(rows(ctx, Block)) == 1 and len(rows(ctx, StripeEvent)) == 1


def test_an_isk_offer_is_charged_in_stripes_two_decimal_units_and_credited(
    ctx: Context, admin: Actor, acme: int, fake_stripe: FakeStripe
) -> None:
    """ISK is zero-decimal in ISO 4217 but two-decimal in Stripe's API: 150000 ISK is 15000000."""
    do(ctx, admin, "client set acme buy 10h 150000 ISK")
    session = session_of(fake_stripe, start_checkout(ctx, acme, 600, PAGE))
    assert fake_stripe.calls[-1].form["line_items[0][price_data][unit_amount]"] == "15000000"
    assert (session["amount_total"], session["currency"]) == (15_000_000, "isk")
    event = fake_stripe.event("checkout.session.completed", fake_stripe.pay(session["id"]))
    assert deliver(ctx, fake_stripe, event).text == "credited"
    (block,) = rows(ctx, Block)
    assert (block.minutes, block.price, block.currency) == (600, Decimal("150000"), "ISK")


def test_no_share_token_reaches_a_log_through_stripes_library(
    ctx: Context, acme: int, fake_stripe: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    """Stripe's library logs each request's form (the success_url, URL-encoded) and each answer's body at
    DEBUG: the page's token in them is redacted like anywhere else."""
    token = "sRwASrycNQg2WBlQDzbSZPIOfFB7NXDjRq16glE-lQ8"
    with caplog.at_level(logging.DEBUG):
        start_checkout(ctx, acme, 600, f"https://hours.example.com/c/{token}")
    assert "Post details" in caplog.text and "API response body" in caplog.text
    assert token not in caplog.text
