"""``GET /metrics`` (issue 27, part 5) over real HTTP beside the Slack endpoint, on SQLite and
PostgreSQL: off without ``BLOCKTIME_METRICS_TOKEN``, a bearer token when on, Prometheus' text format,
and figures that follow what happened (a signed /logtime, outbox rows, a job's run, a page view)."""

from __future__ import annotations

import http.client
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bot.app import drain, socket_mode_handler
from bot.clock import FixedClock
from bot.config import Settings
from bot.jobs.runs import run_once
from bot.metrics import MULTIPROCESS_DIR, SLACK_REQUESTS, registry_for
from bot.services import Actor, Context
from bot.services.shares import resolve_share
from storage import outbox
from storage.models import JobRun, OutboxMessage
from tests.e2e.page_harness import RunningWeb
from tests.e2e.slack_harness import Reply, RunningApp, SlackDriver
from tests.fakes.slack_api import FakeSlack
from tests.helpers import do

TOKEN = "scrape-me-4f1c9e7a2b"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def watched(slack_settings: Settings, slack_ctx: Context, fake_slack: FakeSlack) -> Iterator[SlackDriver]:
    """The app with ``/metrics`` on (the token set), driven over HTTP like Slack and Prometheus do."""
    fake_slack.reset()
    fake_slack.names.update({"UTECH": "Tess Tech"})
    slack_ctx.settings = replace(slack_settings, metrics_token=TOKEN)
    running = RunningApp(slack_ctx)
    yield SlackDriver(running.port, fake_slack, running.app)
    running.stop()


def get(port: int, path: str = "/metrics", authorization: str | None = None) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("GET", path, headers={"Authorization": authorization} if authorization else {})
        response = connection.getresponse()
        return Reply(response.status, response.read(), {k.lower(): v for k, v in response.getheaders()})
    finally:
        connection.close()


def scrape(driver: SlackDriver) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and labels."""
    reply = get(driver.port, authorization=f"Bearer {TOKEN}")
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(reply.body.decode())
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_is_a_plain_404_unless_a_token_is_set(slack: SlackDriver) -> None:
    reply = get(slack.port, authorization=f"Bearer {TOKEN}")
    assert reply.status == 404
    assert get(slack.port, "/nowhere").status == 404


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer", TOKEN])
def test_metrics_wants_the_bearer_token(watched: SlackDriver, authorization: str | None) -> None:
    reply = get(watched.port, authorization=authorization)
    assert reply.status == 401
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert b"blocktime_" not in reply.body


def test_no_token_reaches_a_log(watched: SlackDriver, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert get(watched.port, authorization="Bearer guessed-token-77").status == 401
    assert get(watched.port, authorization=f"Bearer {TOKEN}").status == 200
    assert TOKEN not in caplog.text and "guessed-token-77" not in caplog.text


def test_the_scrape_parses_and_names_every_figure(watched: SlackDriver) -> None:
    names = {name for name, _ in scrape(watched)}
    assert {
        "blocktime_database_up",
        "blocktime_entries_logged_total",
        "blocktime_outbox_waiting",
        "blocktime_outbox_oldest_waiting_age_seconds",
        "blocktime_outbox_failed",
        "blocktime_page_views_total",
    } <= names
    samples = scrape(watched)
    assert value(samples, "blocktime_database_up") == 1
    for destination in ("slack", "email", "webhook", "psa"):
        assert value(samples, "blocktime_outbox_waiting", destination=destination) == 0
        assert ("blocktime_outbox_oldest_waiting_age_seconds", (("destination", destination),)) in samples


def test_a_signed_logtime_moves_the_command_counters_and_the_entries_logged(
    watched: SlackDriver, slack_ctx: Context
) -> None:
    do(slack_ctx, Actor.local_admin(), "client add acme Acme Corp")
    do(slack_ctx, Actor.local_admin(), "topup acme 10")
    before = scrape(watched)
    reply = watched.command("/logtime", "acme 15m laptop advice")
    assert reply.status == 200, reply.body
    after = scrape(watched)
    assert value(after, "blocktime_slack_requests_total", kind="command") == (
        value(before, "blocktime_slack_requests_total", kind="command") + 1
    )
    assert value(after, "blocktime_slack_request_duration_seconds_count", kind="command") == (
        value(before, "blocktime_slack_request_duration_seconds_count", kind="command") + 1
    )
    assert value(after, "blocktime_slack_request_duration_seconds_sum", kind="command") > value(
        before, "blocktime_slack_request_duration_seconds_sum", kind="command"
    )
    assert value(after, "blocktime_entries_logged_total") == value(before, "blocktime_entries_logged_total") + 1


def test_a_click_counts_as_an_action_not_a_command(watched: SlackDriver) -> None:
    before = scrape(watched)
    watched.click("no_such_button")
    after = scrape(watched)
    assert value(after, "blocktime_slack_requests_total", kind="action") == (
        value(before, "blocktime_slack_requests_total", kind="action") + 1
    )
    assert value(after, "blocktime_slack_requests_total", kind="command") == value(
        before, "blocktime_slack_requests_total", kind="command"
    )


def queue(ctx: Context, destination: str, key: str, minutes_ago: int, status: str = "pending") -> None:
    created = ctx.now() - timedelta(minutes=minutes_ago)
    row = outbox.new_row(
        kind="digest", destination=destination, now=created, payload="{}", dedupe_key=key, client_id=None
    )
    with ctx.db.unit_of_work() as uow:
        uow.session.add(OutboxMessage(**{**row, "status": status}))
        uow.commit()


def test_a_waiting_row_shows_its_count_and_the_oldest_ones_age(
    watched: SlackDriver, slack_ctx: Context, clock: FixedClock
) -> None:
    queue(slack_ctx, "webhook", "a", minutes_ago=20)
    queue(slack_ctx, "webhook", "b", minutes_ago=3)
    queue(slack_ctx, "webhook", "c", minutes_ago=90, status="sent")
    clock.advance(seconds=30)
    samples = scrape(watched)
    assert value(samples, "blocktime_outbox_waiting", destination="webhook") == 2
    assert value(samples, "blocktime_outbox_oldest_waiting_age_seconds", destination="webhook") == 20 * 60 + 30
    assert value(samples, "blocktime_outbox_waiting", destination="slack") == 0
    assert value(samples, "blocktime_outbox_oldest_waiting_age_seconds", destination="slack") == 0


def test_a_row_failed_for_good_counts_for_its_destination(watched: SlackDriver, slack_ctx: Context) -> None:
    queue(slack_ctx, "email", "refused", minutes_ago=5, status="failed")
    samples = scrape(watched)
    assert value(samples, "blocktime_outbox_failed", destination="email") == 1
    assert value(samples, "blocktime_outbox_waiting", destination="email") == 0
    assert value(samples, "blocktime_outbox_failed", destination="slack") == 0


def test_each_jobs_last_success_is_its_newest_finished_run(
    watched: SlackDriver, slack_ctx: Context, clock: FixedClock
) -> None:
    run_once(slack_ctx, "digest", "2026-11-24", "here", lambda: "sent 1")
    clock.advance(days=1)
    run_once(slack_ctx, "digest", "2026-11-25", "here", lambda: "sent 2")
    with pytest.raises(RuntimeError):
        run_once(slack_ctx, "expiry", "2026-11-26", "here", lambda: (_ for _ in ()).throw(RuntimeError("down")))
    samples = scrape(watched)
    with slack_ctx.db.unit_of_work(read_only=True) as uow:
        finished = uow.session.scalars(select(JobRun.finished_at).where(JobRun.job == "digest")).all()
        newest = max(at for at in finished if at is not None)
    assert value(samples, "blocktime_job_last_success_timestamp_seconds", job="digest") == newest.timestamp()
    assert newest == clock.now()
    assert ("blocktime_job_last_success_timestamp_seconds", (("job", "expiry"),)) not in samples


def test_a_view_of_a_clients_page_counts(watched: SlackDriver, slack_ctx: Context) -> None:
    admin = Actor.local_admin()
    do(slack_ctx, admin, "client add acme Acme Corp")
    token = do(slack_ctx, admin, "share acme").data["link"].rsplit("/c/", 1)[1]
    before = value(scrape(watched), "blocktime_page_views_total")
    assert resolve_share(slack_ctx, token, slack_ctx.now()) is not None
    assert resolve_share(slack_ctx, "not-a-token", slack_ctx.now()) is None
    assert value(scrape(watched), "blocktime_page_views_total") == before + 1


def test_in_multiprocess_mode_a_scrape_sums_every_processs_slack_requests(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``PROMETHEUS_MULTIPROC_DIR``: two processes (a parent and its fork, as ``serve --workers``
    makes them) count a command each; the scrape of a third shows both."""
    script = (
        "import os\n"
        "from bot.metrics import observe\n"
        "pid = os.fork()\n"
        "observe('command', 0.2)\n"
        "if pid: os.waitpid(pid, 0)\n"
        "else: os._exit(0)\n"
    )
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {**os.environ, MULTIPROCESS_DIR: str(shared), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    assert len(list(shared.glob("counter_*.db"))) == 2  # a file per process
    monkeypatch.setenv(MULTIPROCESS_DIR, str(shared))
    exposed = generate_latest(registry_for(ctx)).decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposed)
        for s in family.samples
    }
    assert value(samples, "blocktime_slack_requests_total", kind="command") == 2
    assert value(samples, "blocktime_slack_request_duration_seconds_count", kind="command") == 2
    assert value(samples, "blocktime_database_up") == 1


def test_the_web_surface_alone_serves_the_metrics_too(slack_settings: Settings, slack_ctx: Context) -> None:
    """``blocktime web`` (beside Socket Mode) has the same ``/metrics``, token and all."""
    slack_ctx.settings = replace(slack_settings, metrics_token=TOKEN)
    web = RunningWeb(slack_ctx)
    try:
        assert get(web.port).status == 401
        reply = get(web.port, authorization=f"Bearer {TOKEN}")
        assert reply.status == 200
        names = {family.name for family in text_string_to_metric_families(reply.body.decode())}
        assert {"blocktime_outbox_oldest_waiting_age_seconds", "blocktime_slack_requests"} <= names
    finally:
        web.stop()


def test_socket_mode_counts_its_requests_by_kind(
    slack_settings: Settings, slack_ctx: Context, fake_slack: FakeSlack
) -> None:
    """A slash command over Socket Mode (the envelope as Slack sends it, handed to the handler the
    WebSocket client would call) counts and is timed like one over HTTP."""
    from slack_sdk.socket_mode.request import SocketModeRequest

    fake_slack.reset()
    slack_ctx.settings = replace(slack_settings, slack_app_token="xapp-socket")
    handler = socket_mode_handler(slack_ctx)
    answered: list[object] = []

    class Connection:  # what the handler answers through: the WebSocket client
        logger = handler.client.logger

        def send_socket_mode_response(self, response: object) -> None:
            answered.append(response)

    def counted() -> float:
        return SLACK_REQUESTS.labels("command")._value.get()

    before = counted()
    try:
        payload = {"command": "/logtime", "text": "", "user_id": "UTECH", "channel_id": "CGENERAL", "team_id": "T0"}
        handler.handle(Connection(), SocketModeRequest(type="slash_commands", envelope_id="e1", payload=payload))
        assert answered, "the envelope was acknowledged"
        assert counted() == before + 1
    finally:
        drain(handler.app)
        # the WebSocket client (never connected) takes a second to stop its runners: not waited for
        threading.Thread(target=handler.close, daemon=True).start()
