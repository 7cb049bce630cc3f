"""Fixtures for end-to-end Slack tests: the fake Web API, the running app, the request driver."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.services import Actor, Context
from storage.db import Database
from tests.e2e.page_harness import PageDriver, RunningWeb
from tests.e2e.processes import Cli
from tests.e2e.slack_harness import SIGNING_SECRET, RunningApp, SlackDriver
from tests.fakes.slack_api import FakeSlack
from tests.helpers import do


@pytest.fixture
def cli(database: Database, tmp_path: Path, clock: FixedClock) -> Cli:
    """The CLI in-process, at the test's clock (the one ``ctx`` seeds data with)."""
    return Cli(database.url, tmp_path, clock=clock)


@pytest.fixture
def cli_process(database: Database, tmp_path: Path) -> Cli:
    """The installed script in processes of its own (start-up, exit status, pipes)."""
    return Cli(database.url, tmp_path, process=True)


@pytest.fixture
def slack_settings(fake_slack: FakeSlack) -> Settings:
    return Settings(
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        admins=frozenset({"UADMIN"}),
    )


@pytest.fixture
def slack_ctx(database: Database, slack_settings: Settings, clock: FixedClock) -> Context:
    return Context(database, slack_settings, clock)


@pytest.fixture
def slack(slack_ctx: Context, fake_slack: FakeSlack) -> Iterator[SlackDriver]:
    fake_slack.reset()
    fake_slack.names.update({"UTECH": "Tess Tech", "UADMIN": "Ada Admin", "UMGR": "Max Manager"})
    running = RunningApp(slack_ctx)
    yield SlackDriver(running.port, fake_slack, running.app)
    running.stop()


@pytest.fixture
def acme(slack_ctx: Context) -> str:
    admin = Actor.local_admin()
    do(slack_ctx, admin, "client add acme Acme Corp")
    do(slack_ctx, admin, "topup acme 10")
    do(slack_ctx, admin, "role <@UMGR> manager")
    return "acme"


@pytest.fixture
def process() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; stopped afterwards whatever happened."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def page_settings() -> Settings:
    """The client's page's settings (a test module may override the fixture: a lower rate, say)."""
    return Settings(admins=frozenset({"UADMIN"}))


@pytest.fixture
def page_ctx(database: Database, page_settings: Settings, clock: FixedClock) -> Context:
    return Context(database, page_settings, clock)


@pytest.fixture
def web(page_ctx: Context) -> Iterator[PageDriver]:
    """The web surface alone (what ``blocktime web`` serves) over real HTTP, and a driver for it."""
    running = RunningWeb(page_ctx)
    yield PageDriver(running.port)
    running.stop()
