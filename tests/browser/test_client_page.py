"""The client's private page in a real browser, served by ``blocktime web`` on SQLite and on PostgreSQL:
a link made with ``share`` opens it and shows the figures ``balance --json`` gives, the blocks, a
month's statement lines as ``report --json`` has them, and downloads that month as CSV; a revoked or
wrong link is the plain 404; each state (healthy, low, used up, in overage, on hold) shows its figures
on a phone and a desktop (screenshots kept as artefacts); the page passes an accessibility smoke check.
Every page's console stays clean (the ring's ``page`` fixture fails a test on any error or CSP
violation)."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.domain.durations import format_duration
from tests.browser.harness import DESKTOP, PHONE, ConsoleWatch, screenshot
from tests.browser.site import Site

# Each state's client, seeded through the CLI as a manager would: (handle, name, settings, entries).
STATES: dict[str, tuple[str, str, list[str], list[str]]] = {
    "healthy": ("acme", "Acme Corp", ["client-notes", "on"], ["2h printer fix", "30m #1234 password reset"]),
    "low": ("globex", "Globex Inc", [], ["9h30m GLOBEX-INTERNAL server move"]),
    "used up": ("initech", "Initech", [], ["10h office move"]),
    "in overage": ("umbrella", "Umbrella Ltd", ["overdraft", "5h"], ["10h migration", "2h cleanup"]),
    "on hold": ("hooli", "Hooli", ["overdraft", "5h", "hold-at", "1h"], ["10h migration", "1h patching"]),
}

# How the page looks and behaves in the browser does not depend on the database: checked on one.
ONE_DATABASE = pytest.mark.parametrize("site", ["sqlite"], indirect=True)


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
    return page.get_by_role("region", name="Hours left").locator("#hours-left")


def minutes(page: Any, selector: str) -> int:
    return int(page.locator(selector).get_attribute("data-minutes"))


def cells(page: Any, table: str) -> list[list[str]]:
    """The text of each body row's cells (its header cell included) of the table with id ``table``."""
    rows: list[list[str]] = page.locator(f"#{table} tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
    )
    return rows


def test_a_link_opens_the_page_with_the_figures_balance_json_gives(seeded: Site, page: Any) -> None:
    balance = seeded.json("balance", "acme")
    response = page.goto(seeded.link("acme"))
    assert response.status == 200
    assert page.get_by_role("heading", level=1).inner_text() == "Acme Corp"
    assert minutes(page, "#hours-left") == balance["remaining_minutes"] == 450
    assert hours_figure(page).inner_text() == format_duration(balance["remaining_minutes"])
    assert int(page.locator("#left-meter").get_attribute("data-percent")) == balance["percent_left"] == 75
    # this month's use, read before and after the page: a run across midnight at a month's end may see both
    used = {balance["used_this_month_minutes"], seeded.json("balance", "acme")["used_this_month_minutes"]}
    assert minutes(page, "#used-this-month") in used
    assert page.locator("#state").get_attribute("data-state") == "healthy"
    assert cells(page, "blocks") == [
        ["Block 1", format_duration(b["minutes"]), format_duration(b["remaining_minutes"]), "never", "paid"]
        for b in balance["blocks"]
    ]
    assert "Globex" not in page.content()
    assert page.locator("form").count() == 0  # read-only: without offers to buy, nothing to submit


def work_month(site: Site, handle: str) -> str:
    """The month (``2026-12``) of ``handle``'s entries, all logged on one day: the page is asked for
    that month by name, so a run that crosses midnight at a month's end still compares one month."""
    months = {entry["work_date"][:7] for entry in site.json("balance", handle)["last_entries"]}
    assert len(months) == 1, months
    return months.pop()


def test_the_statement_shows_the_months_lines_as_the_report_has_them(seeded: Site, page: Any) -> None:
    month = work_month(seeded, "acme")
    entries = seeded.json("report", "acme", month)["entries"]
    page.goto(f"{seeded.link('acme')}?month={month}")
    rows = cells(page, "statement-lines")
    assert len(rows) == len(entries) == 2
    page_minutes = page.locator("#statement-lines tbody tr").evaluate_all("rows => rows.map(r => r.dataset.minutes)")
    page_lines = sorted((row[2], int(m), row[4]) for row, m in zip(rows, page_minutes, strict=True))
    assert page_lines == sorted((e["ticket"] or "", e["minutes"], e["note"]) for e in entries)
    assert [row[3] for row in sorted(rows, key=lambda r: r[2])] == ["2h", "30m"]
    assert {row[1] for row in rows} == {"local"}  # technicians by first name ("local admin" logged them)
    assert minutes(page, "#statement-summary tr:has-text('Used') td") == sum(e["minutes"] for e in entries)


def test_notes_stay_off_the_page_without_client_notes(seeded: Site, page: Any) -> None:
    page.goto(f"{seeded.link('globex')}?month={work_month(seeded, 'globex')}")
    assert len(cells(page, "statement-lines")) == 1
    assert "GLOBEX-INTERNAL" not in page.content()


def test_the_csv_download_holds_the_months_lines(seeded: Site, page: Any) -> None:
    month = work_month(seeded, "acme")
    entries = seeded.json("report", "acme", month)["entries"]
    page.goto(f"{seeded.link('acme')}?month={month}")
    with page.expect_download() as started:
        page.get_by_role("link", name=re.compile(r"^Download .* as CSV$")).click()
    download = started.value
    assert download.failure() is None and download.suggested_filename == f"acme-{month}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert sorted((r["work_date"], int(r["minutes"]), r["ticket"], r["technician"], r["note"]) for r in rows) == sorted(
        (e["work_date"], e["minutes"], e["ticket"] or "", "local", e["note"]) for e in entries
    )
    assert sum(Decimal(r["hours"]) for r in rows) == Decimal(sum(e["minutes"] for e in entries)) / 60 == Decimal("2.5")


@pytest.mark.parametrize("state", list(STATES))
def test_each_state_shows_its_figures_on_a_desktop_and_a_phone(
    seeded: Site, page: Any, artefacts: Path, state: str
) -> None:
    handle = STATES[state][0]
    balance = seeded.json("balance", handle)
    page.goto(seeded.link(handle))
    assert minutes(page, "#hours-left") == balance["remaining_minutes"]
    assert page.locator("#state").get_attribute("data-state") == state
    used = {balance["used_this_month_minutes"], seeded.json("balance", handle)["used_this_month_minutes"]}
    assert minutes(page, "#used-this-month") in used  # read before and after: a month may end between
    if balance["overage_minutes"]:
        assert minutes(page, "#overage") == balance["overage_minutes"]
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    if seeded.backend == "sqlite":  # the same pages on PostgreSQL: one set of pictures is enough
        for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            path = screenshot(page, artefacts, f"client-page-{state.replace(' ', '-')}-{name}")
            assert path.stat().st_size > 1000


@ONE_DATABASE
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


@ONE_DATABASE
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


@ONE_DATABASE
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
    unlabelled = page.locator("input, select, textarea, meter, progress").evaluate_all(
        "fields => fields.filter(f => f.type !== 'hidden' && !(f.labels && f.labels.length)"
        " && !f.getAttribute('aria-label') && !f.getAttribute('aria-labelledby')).map(f => f.outerHTML)"
    )
    assert unlabelled == []
    nameless = page.locator("a, button").evaluate_all(
        "els => els.filter(e => !e.innerText.trim() && !e.getAttribute('aria-label')).map(e => e.outerHTML)"
    )
    assert nameless == []
    assert page.locator("table").evaluate_all("ts => ts.filter(t => !t.caption).length") == 0
    assert page.get_by_role("meter", name=re.compile(r"of the current blocks")).count() == 1
    assert page.get_by_role("img", name=re.compile(r"^Balance at each day's end")).count() == 1
    # the hours figure is read out under its heading, in the region that heading names
    snapshot = page.get_by_role("region", name="Hours left").aria_snapshot()
    assert 'heading "Hours left"' in snapshot and "7h 30m" in snapshot, snapshot
