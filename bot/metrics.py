"""What operators watch (``GET /metrics``, Prometheus' text format, issue 27 part 5), through the
official client library.

Two sources:
- figures read from the database at each scrape (``storage.monitoring``, one read transaction): entries
  logged, the outbox per destination (rows waiting, the oldest one's age, rows failed for good), each
  job's last success, the client page's views. Every process answers alike, however many there are.
- Slack requests counted and timed in the process that served them, by kind of input as Bolt tells
  them apart (``request_kind``). With ``blocktime serve --workers N`` each worker counts its own: set
  ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode, an empty directory shared by the
  processes, read when the library is first imported) and any worker's ``/metrics`` sums them all.

The endpoint is off unless ``BLOCKTIME_METRICS_TOKEN`` is set (then it is a 404 like any unknown
path); with it, ``Authorization: Bearer <token>`` is required, compared in constant time. The token
is never logged."""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from slack_bolt.request.payload_utils import (
    is_action,
    is_event,
    is_options,
    is_shortcut,
    is_slash_command,
    is_view_closed,
    is_view_submission,
)

from storage import monitoring

if TYPE_CHECKING:  # a process that only counts (a fork, a test's) need not load the services
    from bot.services import Context

log = logging.getLogger("blocktime.metrics")

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# Every destination the outbox delivers to is shown, with zeros when nothing waits there, so an alert
# rule sees a series before the first trouble; a destination added later shows once it has a row.
# (Stripe is no destination: a Checkout Session is opened while the client waits, and Stripe's events
# come to us.)
DESTINATIONS = ("slack", "email", "webhook", "psa")
# Slack wants an answer within 3 seconds: a bucket ends there.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)

# Not in prometheus_client's default registry: each ``/metrics`` has a registry of its own that holds
# these (or, in multiprocess mode, the files every process writes them to) beside the database figures.
SLACK_REQUESTS = Counter(
    "blocktime_slack_requests", "Slack requests served, by kind of input.", ["kind"], registry=None
)
SLACK_LATENCY = Histogram(
    "blocktime_slack_request_duration_seconds",
    "Seconds from a Slack request to its answer (the ack), by kind of input.",
    ["kind"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)


def request_kind(body: dict[str, Any]) -> str:
    """The kind of Slack input ``body`` is, as Bolt's listener matchers tell them apart: command,
    event, action, options, shortcut, view_submission, view_closed; url_verification and ssl_check
    (Slack checking the endpoint); other."""
    if body.get("type") == "url_verification":
        return "url_verification"
    if body.get("ssl_check") == "1":
        return "ssl_check"
    for kind, matches in _KINDS:
        if matches(body):
            return kind
    return "other"


_KINDS = (
    ("command", is_slash_command),
    ("event", is_event),
    ("action", is_action),
    ("options", is_options),
    ("shortcut", is_shortcut),
    ("view_submission", is_view_submission),
    ("view_closed", is_view_closed),
)


def observe(kind: str, seconds: float) -> None:
    """One Slack request of ``kind`` answered in ``seconds``."""
    SLACK_REQUESTS.labels(kind).inc()
    SLACK_LATENCY.labels(kind).observe(seconds)


class DatabaseFigures:
    """A prometheus_client collector that reads ``storage.monitoring``'s figures at each scrape, at the
    context's clock. When the database does not answer, ``blocktime_database_up`` is 0 and the other
    families are left out (a gap, not a false zero)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def describe(self) -> Iterable[Metric]:
        return []  # nothing to check at registration; reading the database then would be a scrape

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("blocktime_database_up", "1 when the database answered this scrape, else 0.")
        now = self.ctx.now()
        try:
            with self.ctx.db.unit_of_work(read_only=True) as uow:
                figures = monitoring.read_figures(uow.session)
        except Exception as error:
            log.warning("metrics: the database did not answer (%s)", type(error).__name__, exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield CounterMetricFamily(
            "blocktime_entries_logged",
            "Time entries written to the ledger (an edit writes a new one; a void keeps its entry).",
            value=figures.entries_logged,
        )
        yield from _outbox_families(figures.outbox, now)
        success = GaugeMetricFamily(
            "blocktime_job_last_success_timestamp_seconds",
            "When each scheduled job last finished a run (unix time).",
            labels=["job"],
        )
        for job, finished in figures.job_last_success.items():
            success.add_metric([job], finished.timestamp())
        yield success
        yield CounterMetricFamily(
            "blocktime_page_views",
            "Views of clients' private pages (share links).",
            value=figures.page_views,
        )


def _outbox_families(outbox: Mapping[str, monitoring.OutboxState], now: datetime) -> Iterator[Metric]:
    waiting = GaugeMetricFamily(
        "blocktime_outbox_waiting", "Outbox rows waiting to be delivered, by destination.", labels=["destination"]
    )
    age = GaugeMetricFamily(
        "blocktime_outbox_oldest_waiting_age_seconds",
        "Seconds the oldest waiting outbox row has waited, by destination (0 when none waits).",
        labels=["destination"],
    )
    failed = GaugeMetricFamily(
        "blocktime_outbox_failed",
        "Outbox rows failed for good (the destination refused them; not queued again), by destination.",
        labels=["destination"],
    )
    empty = monitoring.OutboxState(0, None, 0)
    for destination in sorted(set(DESTINATIONS) | outbox.keys()):
        state = outbox.get(destination, empty)
        since = state.oldest_waiting_since
        waiting.add_metric([destination], state.waiting)
        age.add_metric([destination], max(0.0, (now - since).total_seconds()) if since is not None else 0.0)
        failed.add_metric([destination], state.failed)
    yield from (waiting, age, failed)


def registry_for(ctx: Context) -> CollectorRegistry:
    """What one ``/metrics`` shows: the Slack counters (this process's, or in multiprocess mode every
    process's) and the database figures."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_DIR):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(SLACK_REQUESTS)
        registry.register(SLACK_LATENCY)
    registry.register(DatabaseFigures(ctx))
    return registry


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


NOT_FOUND = Answer(404, [("Content-Type", "text/plain; charset=utf-8")], b"not found")


class MetricsEndpoint:
    """``GET /metrics`` apart from any web framework: ``answer`` takes the request's Authorization
    header and says what to send back."""

    def __init__(self, ctx: Context) -> None:
        self.token = ctx.settings.metrics_token
        self.registry = registry_for(ctx) if self.token else None

    @property
    def enabled(self) -> bool:
        return self.registry is not None

    def answer(self, authorization: str | None) -> Answer:
        if self.registry is None or self.token is None:
            return NOT_FOUND
        if not bearer_matches(authorization, self.token):
            return Answer(
                401,
                [("Content-Type", "text/plain; charset=utf-8"), ("WWW-Authenticate", 'Bearer realm="metrics"')],
                b"a bearer token is required",
            )
        body = generate_latest(self.registry)
        return Answer(200, [("Content-Type", CONTENT_TYPE_LATEST), ("Cache-Control", "no-store")], body)


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether the header is ``Bearer <token>`` (the scheme in any case), compared in constant time."""
    scheme, _, given = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())
