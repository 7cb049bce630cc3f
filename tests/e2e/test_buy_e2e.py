"""Buy more hours (issue 27, part 3) over real HTTP on both databases: the page's **Buy 10 hours**
opens a Checkout Session on the fake Stripe (Stripe's own library, form-encoded as Stripe takes it)
and answers 303 to it; the fake, like Stripe, signs its events and POSTs them to ``/stripe/webhook``;
exactly one paid block follows a payment, whatever is delivered twice, and nothing else moves hours."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlparse

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.services import Actor, Context
from storage.db import Database
from storage.models import Block, OutboxMessage, Purchase
from storage.psa_blocks import DESTINATION as PSA
from tests.e2e.page_harness import PageDriver, RunningWeb
from tests.e2e.slack_harness import Reply
from tests.fakes.stripe_api import FakeStripe
from tests.helpers import do

ADMIN = Actor.local_admin()


def stripe_settings(fake: FakeStripe, **more: Any) -> Settings:
    return Settings(
        admins=frozenset({"UADMIN"}),
        alert_channel="CALERTS",
        psa="connectwise",
        public_url="https://hours.example.com",
        **fake.settings_values(),
        **more,
    )


@pytest.fixture
def shop(database: Database, clock: FixedClock, fake_stripe: FakeStripe) -> Context:
    ctx = Context(database, stripe_settings(fake_stripe), clock)
    do(ctx, ADMIN, "client add acme Acme Corp")
    do(ctx, ADMIN, "client set acme buy 10h 950 USD, 20h 1800 USD manager <@UAM> psa-company 250 psa-agreement 30")
    return ctx


@pytest.fixture
def web(shop: Context, fake_stripe: FakeStripe) -> Iterator[PageDriver]:
    running = RunningWeb(shop)
    fake_stripe.webhook_url = f"http://127.0.0.1:{running.port}/stripe/webhook"
    yield PageDriver(running.port)
    running.stop()


@pytest.fixture
def link(shop: Context) -> str:
    made: str = do(shop, ADMIN, "share acme").data["link"]
    return urlparse(made).path


def post_form(web: PageDriver, path: str, fields: dict[str, str]) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", web.port, timeout=15)
    try:
        body = urlencode(fields).encode()
        connection.request("POST", path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        return Reply(response.status, response.read(), {k.lower(): v for k, v in response.getheaders()})
    finally:
        connection.close()


def rows(ctx: Context, model: Any, *where: Any) -> list[Any]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        found = list(uow.session.scalars(select(model).where(*where)))
        uow.session.expunge_all()
        return found


def told(ctx: Context, kind: str) -> list[dict[str, Any]]:
    return [json.loads(r.payload) for r in rows(ctx, OutboxMessage, OutboxMessage.kind == kind)]


def test_the_page_offers_a_buy_button_per_offer_and_lets_its_form_go_to_checkout(
    web: PageDriver, link: str, fake_stripe: FakeStripe
) -> None:
    reply = web.get(link)
    page = reply.body.decode()
    assert page.count('<form method="post" action="' + link + '/buy">') == 2
    assert "Buy 10 hours" in page and "Buy 20 hours" in page and "950.00 USD" in page
    assert "<script" not in page
    assert f"form-action 'self' {fake_stripe.url};" in reply.headers["content-security-policy"]


def test_buying_ten_hours_adds_one_paid_block_written_to_the_psa_and_tells_the_manager(
    web: PageDriver, shop: Context, link: str, fake_stripe: FakeStripe
) -> None:
    answer = post_form(web, f"{link}/buy", {"minutes": "600"})
    assert answer.status == 303
    session_id = answer.headers["location"].rsplit("/", 1)[1]
    assert answer.headers["location"] == f"{fake_stripe.url}/c/pay/{session_id}"
    (call,) = fake_stripe.calls
    assert call.form["line_items[0][price_data][unit_amount]"] == "95000"
    assert call.form["line_items[0][price_data][currency]"] == "usd"
    assert call.form["client_reference_id"] == "acme" and call.form["mode"] == "payment"
    assert call.form["success_url"].startswith(f"https://hours.example.com{link}?bought=bp_")
    assert call.form["cancel_url"] == f"https://hours.example.com{link}"

    event = fake_stripe.event("checkout.session.completed", fake_stripe.pay(session_id))
    delivered = fake_stripe.deliver(fake_stripe.webhook_url or "", event)
    assert (delivered.status_code, delivered.text) == (200, "credited\n")
    (block,) = rows(shop, Block)
    assert (block.minutes, block.paid) == (600, True)
    assert len(rows(shop, OutboxMessage, OutboxMessage.destination == PSA)) == 1
    (paid,) = told(shop, "purchase_paid")
    assert paid["account_manager"] == "UAM"
    assert {r.target for r in rows(shop, OutboxMessage, OutboxMessage.kind == "purchase_paid")} == {"CALERTS"}

    again = fake_stripe.deliver(fake_stripe.webhook_url or "", event)
    assert (again.status_code, again.text) == (200, "already handled\n")
    assert len(rows(shop, Block)) == 1 and len(told(shop, "purchase_paid")) == 1
    assert "10h" in web.text(f"{link}?bought=x") and "Thank you" in web.text(f"{link}?bought=x")


def test_paying_on_the_fake_checkout_page_comes_back_to_the_page_with_the_hours(
    web: PageDriver, shop: Context, link: str, fake_stripe: FakeStripe
) -> None:
    checkout = urlparse(post_form(web, f"{link}/buy", {"minutes": "1200"}).headers["location"])
    connection = http.client.HTTPConnection(checkout.hostname, checkout.port, timeout=15)
    connection.request("POST", checkout.path, body=b"", headers={"Content-Length": "0"})
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 303 and "?bought=bp_" in (response.getheader("Location") or "")
    (block,) = rows(shop, Block)
    assert (block.minutes, block.paid) == (1200, True)
    assert do(shop, ADMIN, "balance acme").balances[0].remaining_minutes == 1200


def test_a_payment_for_a_link_revoked_since_and_a_checkout_expired_since_still_adds_the_block(
    web: PageDriver, shop: Context, link: str, fake_stripe: FakeStripe
) -> None:
    """The client paid: the block follows, whatever became of the link or the session meanwhile."""
    session_id = post_form(web, f"{link}/buy", {"minutes": "600"}).headers["location"].rsplit("/", 1)[1]
    do(shop, ADMIN, "share revoke acme")
    assert web.get(link).status == 404
    url = fake_stripe.webhook_url or ""
    session = fake_stripe.public(fake_stripe.sessions[session_id])
    assert fake_stripe.deliver(url, fake_stripe.event("checkout.session.expired", session)).text == "expired\n"
    paid = fake_stripe.event("checkout.session.completed", fake_stripe.pay(session_id))
    assert fake_stripe.deliver(url, paid).text == "credited\n"
    (block,) = rows(shop, Block)
    assert (block.minutes, block.paid) == (600, True)


def test_a_checkout_paid_later_adds_one_block(
    web: PageDriver, shop: Context, link: str, fake_stripe: FakeStripe
) -> None:
    session_id = post_form(web, f"{link}/buy", {"minutes": "600"}).headers["location"].rsplit("/", 1)[1]
    url = fake_stripe.webhook_url or ""
    fake_stripe.deliver(url, fake_stripe.event("checkout.session.completed", fake_stripe.pay(session_id, paid=False)))
    assert rows(shop, Block) == []
    settled = fake_stripe.settle(session_id)
    assert (
        fake_stripe.deliver(url, fake_stripe.event("checkout.session.async_payment_succeeded", settled)).text
        == "credited\n"
    )
    fake_stripe.deliver(url, fake_stripe.event("checkout.session.async_payment_succeeded", settled))
    assert len(rows(shop, Block)) == 1


def test_a_bad_signature_is_400_and_changes_nothing(
    web: PageDriver, shop: Context, link: str, fake_stripe: FakeStripe
) -> None:
    session_id = post_form(web, f"{link}/buy", {"minutes": "600"}).headers["location"].rsplit("/", 1)[1]
    event = fake_stripe.event("checkout.session.completed", fake_stripe.pay(session_id))
    refused = fake_stripe.deliver(fake_stripe.webhook_url or "", event, secret="whsec_not_the_endpoints")
    assert refused.status_code == 400
    assert rows(shop, Block) == [] and rows(shop, Purchase)[0].state == "pending"


def test_a_forged_event_for_another_amount_is_refused_and_told(
    web: PageDriver, shop: Context, link: str, fake_stripe: FakeStripe
) -> None:
    session_id = post_form(web, f"{link}/buy", {"minutes": "600"}).headers["location"].rsplit("/", 1)[1]
    forged = {**fake_stripe.pay(session_id), "amount_total": 100, "client_reference_id": "globex"}
    answer = fake_stripe.deliver(fake_stripe.webhook_url or "", fake_stripe.event("checkout.session.completed", forged))
    assert answer.status_code == 200
    assert rows(shop, Block) == []
    assert [t["trouble"] for t in told(shop, "purchase_trouble")] == ["refused"]


def test_a_refund_tells_the_managers_and_keeps_the_hours(
    web: PageDriver, shop: Context, link: str, fake_stripe: FakeStripe
) -> None:
    session_id = post_form(web, f"{link}/buy", {"minutes": "600"}).headers["location"].rsplit("/", 1)[1]
    url = fake_stripe.webhook_url or ""
    fake_stripe.deliver(url, fake_stripe.event("checkout.session.completed", fake_stripe.pay(session_id)))
    assert (
        fake_stripe.deliver(url, fake_stripe.event("charge.refunded", fake_stripe.charge(session_id))).status_code
        == 200
    )
    assert [t["trouble"] for t in told(shop, "purchase_trouble")] == ["refunded"]
    assert do(shop, ADMIN, "balance acme").balances[0].remaining_minutes == 600


def test_without_offers_there_is_no_button_and_the_buy_address_is_404(
    web: PageDriver, shop: Context, link: str, fake_stripe: FakeStripe
) -> None:
    assert post_form(web, f"{link}/buy", {"minutes": "300"}).status == 404  # no 5h offer
    do(shop, ADMIN, "client set acme buy none")
    assert "<form" not in web.text(link)
    assert post_form(web, f"{link}/buy", {"minutes": "600"}).status == 404
    assert post_form(web, "/c/not-a-link/buy", {"minutes": "600"}).status == 404
    assert fake_stripe.calls == []


def test_without_stripe_settings_there_is_no_button_and_both_addresses_are_404(
    database: Database, clock: FixedClock, fake_stripe: FakeStripe
) -> None:
    ctx = Context(database, Settings(admins=frozenset({"UADMIN"})), clock)
    do(ctx, ADMIN, "client add acme Acme Corp")
    do(ctx, ADMIN, "client set acme buy 10h 950 USD")
    path = urlparse(do(ctx, ADMIN, "share acme").data["link"]).path
    running = RunningWeb(ctx)
    try:
        web = PageDriver(running.port)
        reply = web.get(path)
        assert "<form" not in reply.body.decode()
        assert "form-action 'self';" in reply.headers["content-security-policy"]
        assert post_form(web, f"{path}/buy", {"minutes": "600"}).status == 404
        event = fake_stripe.event("checkout.session.completed", {"id": "cs_x", "object": "checkout.session"})
        assert fake_stripe.deliver(f"http://127.0.0.1:{running.port}/stripe/webhook", event).status_code == 404
    finally:
        running.stop()
    assert fake_stripe.calls == [] and rows(ctx, Purchase) == []
