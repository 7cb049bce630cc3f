"""Buying hours on the client's page in a real browser, on SQLite and on PostgreSQL: **Buy 10 hours** ->
the (fake) Stripe Checkout page -> Pay -> back on the page, thanked, with no hours added yet -> Stripe
delivers the signed ``checkout.session.completed`` (here the test does, as Stripe would) -> a reload
shows the new paid block and the hours, as ``balance --json`` has them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain.durations import format_duration
from tests.browser.harness import screenshot
from tests.browser.site import Site
from tests.fakes.stripe_api import FakeStripe


@pytest.fixture(scope="module")
def stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe().start()  # its checkout page delivers nothing itself (no webhook_url): the test does
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def site_settings(stripe: FakeStripe) -> dict[str, str]:
    return stripe.env()


@pytest.fixture(scope="module")
def shop(site: Site) -> Site:
    """Acme, low on hours (1h of 10h left), offered 10 hours for 950 USD on its page."""
    site.run("client", "add", "acme", "Acme", "Corp")
    site.run("topup", "acme", "10")
    site.run("logtime", "acme", "9h", "server", "move")
    site.run("client", "set", "acme", "buy", "10h", "950", "USD")
    return site


def hours_left(page: Any) -> int:
    return int(page.locator("#hours-left").get_attribute("data-minutes"))


def test_buying_10_hours_through_checkout_adds_a_paid_block_once_stripe_confirms(
    shop: Site, stripe: FakeStripe, page: Any, artefacts: Path
) -> None:
    before = shop.json("balance", "acme")
    link = shop.link("acme")
    page.goto(link)
    assert hours_left(page) == before["remaining_minutes"] == 60
    assert page.locator("#state").get_attribute("data-state") == "low"
    forms = page.locator("form").evaluate_all("fs => fs.map(f => [f.method, new URL(f.action).pathname])")
    assert forms == [["post", f"{link.removeprefix(shop.base_url)}/buy"]]  # the one thing the page can change

    page.get_by_role("button", name="Buy 10 hours").click()
    page.wait_for_url(f"{stripe.url}/c/pay/cs_*")
    [session_id] = [s for s in stripe.sessions if s in page.url]
    assert page.get_by_role("heading", level=1).inner_text() == "Pay 95000 USD (minor units)"

    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(f"{link}?bought=*")
    assert "appear here as soon as the payment is confirmed" in page.get_by_role("status").inner_text()
    assert hours_left(page) == 60  # paid at Stripe, but no block before the webhook says so
    if shop.backend == "sqlite":
        screenshot(page, artefacts, "client-page-bought-waiting-for-stripe")

    event = stripe.event("checkout.session.completed", stripe.public(stripe.sessions[session_id]))
    delivered = stripe.deliver(f"{shop.base_url}/stripe/webhook", event)
    assert delivered.status_code == 200, delivered.text

    page.reload()
    after = shop.json("balance", "acme")
    assert hours_left(page) == after["remaining_minutes"] == 660
    [new_block] = [block for block in after["blocks"] if block["number"] == 2]
    assert (new_block["number"], new_block["minutes"], new_block["paid"]) == (2, 600, True)
    rows = page.locator("#blocks tbody tr").evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.innerText))")
    assert ["Block 2", "10h", "10h", "never", "paid"] in [[c.strip() for c in row] for row in rows]
    assert page.locator("#state").get_attribute("data-state") == "healthy"
    assert format_duration(660) == page.locator("#hours-left").inner_text()
    if shop.backend == "sqlite":
        screenshot(page, artefacts, "client-page-bought-block-added")
