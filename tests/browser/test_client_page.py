"""The client's private page in a real browser, served by ``blocktime web`` on SQLite and on PostgreSQL:
a link made with ``share`` opens it and shows the figures ``balance --json`` gives; a revoked or wrong
link is the plain 404; each state (healthy, low, used up, in overage, on hold) looks right on a phone
and a desktop (screenshots kept as artefacts); the page passes an accessibility smoke check. Every
page's console stays clean (the ring's ``context`` fixture fails a test on any error or CSP violation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.domain.durations import format_duration
from tests.browser.harness import DESKTOP, PHONE, ConsoleWatch, screenshot
from tests.browser.site import Site

# Each state's client, seeded through the CLI as a manager would: (handle, name, settings, entries).
STATES: dict[str, tuple[str, str, list[str], list[str]]] = {
    "healthy": ("acme", "Acme Corp", [], ["2h printer fix", "30m password reset"]),
    "low": ("globex", "Globex Inc", [], ["8h server move"]),
    "used-up": ("initech", "Initech", [], ["10h office move"]),
    "in-overage": ("umbrella", "Umbrella Ltd", ["overdraft", "5h"], ["10h migration", "2h cleanup"]),
    "on-hold": ("hooli", "Hooli", ["overdraft", "5h", "hold-at", "1h"], ["10h migration", "1h patching"]),
}


@pytest.fixture(scope="module")
def seeded(site: Site) -> Site:
    """Five clients, one in each state, each with a 10h block and entries logged today."""
    for handle, name, settings, entries in STATES.values():
        site.run("client", "add", handle, *name.split())
        if settings:
            site.run("client", "set", handle, *settings)
        site.run("topup", handle, "10")
        for entry in entries:
            site.run("logtime", handle, *entry.split())
    return site


def hours_figure(page: Any) -> Any:
    return page.get_by_role("region", name="Hours left").locator("[data-minutes]").first


def test_a_link_opens_the_page_with_the_figures_balance_json_gives(seeded: Site, page: Any) -> None:
    balance = seeded.json("balance", "acme")
    response = page.goto(seeded.link("acme"))
    assert response.status == 200
    assert page.get_by_role("heading", level=1).inner_text() == "Acme Corp"
    figure = hours_figure(page)
    assert int(figure.get_attribute("data-minutes")) == balance["remaining_minutes"] == 450
    assert figure.inner_text() == format_duration(balance["remaining_minutes"])
    assert "Globex" not in page.content()


@pytest.mark.parametrize("state", list(STATES))
def test_each_state_shows_its_figures_on_a_desktop_and_a_phone(
    seeded: Site, page: Any, artefacts: Path, state: str
) -> None:
    handle = STATES[state][0]
    balance = seeded.json("balance", handle)
    page.goto(seeded.link(handle))
    assert int(hours_figure(page).get_attribute("data-minutes")) == balance["remaining_minutes"]
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    if seeded.backend == "sqlite":  # the same pages on PostgreSQL: one set of pictures is enough
        for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            path = screenshot(page, artefacts, f"client-page-{state}-{name}")
            assert path.stat().st_size > 1000


def test_the_page_loads_its_stylesheet_under_its_own_policy_and_logs_nothing(
    seeded: Site, page: Any, console: ConsoleWatch
) -> None:
    response = page.goto(seeded.link("acme"))
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page.wait_for_load_state("load")
    assert page.evaluate("document.styleSheets.length") >= 1
    figure_size = float(hours_figure(page).evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    body_size = float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))
    assert figure_size >= 2 * body_size  # hours left first and large
    assert console.messages == []


def test_the_page_works_without_javascript(seeded: Site, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(seeded.link("acme"))
        assert hours_figure(page).inner_text() == format_duration(seeded.json("balance", "acme")["remaining_minutes"])
    finally:
        context.close()


def test_a_revoked_link_gives_the_plain_404(seeded: Site, page: Any, console: ConsoleWatch) -> None:
    made = seeded.share("acme")
    link = made["link"]
    assert page.goto(link).status == 200
    assert seeded.json("share", "revoke", "acme", str(made["id"]))["data"]["revoked"] == [made["id"]]
    console.expect(r"Failed to load resource: .* 404")
    revoked = page.goto(link)
    assert revoked.status == 404 and revoked.headers["content-type"].startswith("text/plain")
    body = revoked.body()
    assert body == b"Not Found\n" and page.locator("body").inner_text().strip() == "Not Found"
    wrong = page.goto(f"{seeded.base_url}/c/{'x' * 43}")
    assert wrong.status == 404 and wrong.body() == body


def test_the_page_passes_an_accessibility_smoke_check(seeded: Site, page: Any) -> None:
    page.goto(seeded.link("acme"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.title().strip() != ""
    assert page.get_by_role("heading", level=1).count() == 1
    levels = [
        int(tag[1]) for tag in page.locator("h1, h2, h3, h4, h5, h6").evaluate_all("hs => hs.map(h => h.tagName)")
    ]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), levels
    assert page.get_by_role("main").count() == 1
    unlabelled = page.locator("input, select, textarea").evaluate_all(
        "fields => fields.filter(f => f.type !== 'hidden' && !(f.labels && f.labels.length)"
        " && !f.getAttribute('aria-label') && !f.getAttribute('aria-labelledby')).map(f => f.outerHTML)"
    )
    assert unlabelled == []
    assert hours_figure(page).inner_text() != ""
