"""The browser ring: pages opened in a real headless Chromium (the distribution's package, never a
browser Playwright downloads) driven by Playwright. Every test here carries the ``browser`` marker.

Without a Chromium the ring is skipped, saying how to install one; with ``BLOCKTIME_REQUIRE_BROWSER=1``
(``.ci/run`` sets it) a missing Chromium fails instead, so CI never passes by skipping. One browser and
one context per session; each test gets a new page whose console is watched: any error or warning the
page logs, an uncaught exception, a failed request or a Content-Security-Policy violation fails the
test at teardown unless the test said it expects it. Screenshots go to ``BLOCKTIME_ARTEFACTS``
(default: ``blocktime-browser-artefacts`` in the system's temporary directory), printed at the end of
the run."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from storage.db import Database
from tests.browser.harness import DESKTOP, INSTALL_HINT, SCREENSHOTS, WATCH_CSP, ConsoleWatch, find_chromium
from tests.browser.site import Site, start_site
from tests.conftest import BACKENDS, _empty_pg

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # under pytest-xdist (--dist loadgroup) the ring stays on one worker: one browser, one server a module
    grouped = config.pluginmanager.hasplugin("xdist")
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)
            if grouped:
                item.add_marker(pytest.mark.xdist_group("browser"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS:
        terminalreporter.write_line(f"browser screenshots ({len(SCREENSHOTS)}): {SCREENSHOTS[0].parent}")


def _missing(reason: str) -> NoReturn:
    if os.environ.get("BLOCKTIME_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (BLOCKTIME_REQUIRE_BROWSER=1: the browser ring must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> str:
    return find_chromium() or _missing(INSTALL_HINT)


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed: pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        # the browser keeps the real clock: under `make test-dates` (libfaketime preloaded) Chromium's
        # network service never loads a page; the page's dates are the server's, and it has no script
        real_clock = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}
        launched = playwright.chromium.launch(executable_path=chromium, env=real_clock)
        yield launched
        launched.close()


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


@pytest.fixture(scope="session")
def context(browser: Any) -> Iterator[Any]:
    """One browser context at a desktop size for the session (a context costs a few tenths of a second
    to make; the page keeps no cookies or storage that one test could leave to the next)."""
    made = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    made.add_init_script(WATCH_CSP)
    yield made
    made.close()


@pytest.fixture
def page(context: Any, console: ConsoleWatch) -> Iterator[Any]:
    """A new page, watched by ``console``: anything it reports fails the test at teardown."""
    opened = context.new_page()
    console.attach(opened)
    yield opened
    opened.close()
    assert console.unexpected() == [], "the browser reported errors"


@pytest.fixture(scope="session")
def artefacts() -> Path:
    """``BLOCKTIME_ARTEFACTS``, or ``blocktime-browser-artefacts`` in the system's temporary directory
    (not pytest's own, which later runs clean away; one known place, whichever worker took them)."""
    configured = os.environ.get("BLOCKTIME_ARTEFACTS", "").strip()
    folder = Path(configured) if configured else Path(tempfile.gettempdir()) / "blocktime-browser-artefacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def site_settings() -> dict[str, str]:
    """Environment variables of the module's ``blocktime web`` (a module overrides this fixture)."""
    return {}


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest,
    browser: Any,
    site_settings: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[Site]:
    """``blocktime web`` with ``site_settings`` on a database of the module's own (a copy of the
    migrated SQLite template, or the session's PostgreSQL schema emptied), for every test of the module.
    Asks for the browser first, so without Chromium no server starts. At the end no token the module
    made may be in the server's log."""
    folder = tmp_path_factory.mktemp(f"site-{request.param}")
    if request.param == "sqlite":
        path = folder / "blocktime.db"
        path.write_bytes(sqlite_template.read_bytes())
        database = Database(f"sqlite:///{path}")
    else:
        database = request.getfixturevalue("pg_database")
        _empty_pg(database)
    running = start_site(request.param, database, folder, **site_settings)
    yield running
    running.stop()
    if request.param == "sqlite":
        database.dispose()
    assert running.tokens_logged() == [], "a share link's token reached the server's log"
