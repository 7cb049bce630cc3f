"""The Bolt app factory and the two ways to run it.

- HTTP mode: ``create_wsgi_app`` serves ``POST /slack/events`` (Bolt checks every signature and
  timestamp) and ``GET /healthz``; ``serve`` runs it on waitress, a production WSGI server.
- Socket Mode (``SLACK_APP_TOKEN`` set): ``start_socket_mode`` opens the WebSocket; no public URL.

The Web API base URL is a setting (``SLACK_API_URL``: GovSlack, or the tests' fake), and the client
retries rate limits (honouring ``Retry-After``), server errors and dropped connections."""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy import text

from bot.config import Settings
from bot.services import Context

log = logging.getLogger("blocktime.app")
logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per dispatcher pass is noise
MAX_BODY_BYTES = 512 * 1024  # Slack's requests are a few KB; anything far larger is refused (413)
AFTER_ACK_THREADS = 16  # Web API calls after the answer (they wait on the network, not the CPU)
NAME_LOOKUP_TIMEOUT = 2  # seconds for users.info before an answer; on failure the Slack handle is used
DRAIN_SECONDS = 30  # graceful shutdown waits this long at most for work in flight


class WorkPool(ThreadPoolExecutor):
    """A thread pool that knows the work it has not finished, so a shutdown waits for that work, and
    for at most ``DRAIN_SECONDS``: one job stuck on a dead connection must not hang the shutdown
    (``ThreadPoolExecutor.shutdown(wait=True)`` would wait for it forever)."""

    def __init__(self, threads: int, name: str) -> None:
        super().__init__(max_workers=threads, thread_name_prefix=name)
        self._unfinished: set[Future[Any]] = set()
        self._unfinished_lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._unfinished_lock:  # with ``finish``: work is either counted or refused, never lost
            future = super().submit(fn, *args, **kwargs)
            self._unfinished.add(future)
        future.add_done_callback(self._finished)  # outside the lock: it runs at once if already done
        return future

    def _finished(self, future: Future[Any]) -> None:
        with self._unfinished_lock:
            self._unfinished.discard(future)

    def idle(self, timeout: float = DRAIN_SECONDS) -> bool:
        """Wait until no work is left, work it starts included (at most ``timeout``); True when idle.
        Unlike ``finish`` the pool keeps taking work (tests wait for the work a request started)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._unfinished_lock:
                unfinished = list(self._unfinished)
            left = deadline - time.monotonic()
            if not unfinished or left <= 0:
                return not unfinished
            wait(unfinished, timeout=left)

    def finish(self, timeout: float = DRAIN_SECONDS) -> bool:
        """Take no more work, wait for the work taken (at most ``timeout``); True when all of it ended."""
        with self._unfinished_lock:
            self.shutdown(wait=False)
        deadline = time.monotonic() + timeout
        while True:
            with self._unfinished_lock:
                unfinished = list(self._unfinished)
            left = deadline - time.monotonic()
            if not unfinished or left <= 0:
                return not unfinished
            wait(unfinished, timeout=left)


_AFTER_ACK: weakref.WeakKeyDictionary[App, WorkPool] = weakref.WeakKeyDictionary()


def make_web_client(
    settings: Settings, token: str | None = None, in_process_retries: bool = True, timeout: int = 10
) -> WebClient:
    """A Web API client on ``SLACK_API_URL``. Interactive paths retry 429/5xx in process; the outbox
    dispatcher (``in_process_retries=False``) reschedules instead of sleeping."""
    client = WebClient(token=token or settings.slack_bot_token, base_url=settings.slack_api_url, timeout=timeout)
    handlers: list[RetryHandler] = [ConnectionErrorRetryHandler(max_retry_count=2)]
    if in_process_retries:
        handlers += [RateLimitErrorRetryHandler(max_retry_count=3), ServerErrorRetryHandler(max_retry_count=2)]
    client.retry_handlers = handlers
    return client


class _OurClientOnPurpose(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment and warns that it goes unused when a client is
    given too: we give our own client on purpose (SLACK_API_URL, retry handlers), so that warning says
    nothing on a normal start. Every other warning passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def create_app(ctx: Context, client: WebClient | None = None, socket_mode: bool = False) -> App:
    """The Bolt app with every listener registered."""
    from handlers import register_all
    from handlers.context import MALFORMED, Deps
    from handlers.people import People

    settings = ctx.settings
    web = client or make_web_client(settings)
    # Two pools. Listeners (the work before each answer: parse, the ledger transaction, the reply)
    # run on a few threads: Python runs one thread at a time, and with 32 threads taking turns each
    # /logtime cost ~50 context switches and ~30% more CPU than with 4 (bench/RESULTS.md). Web API
    # calls after the answer (replies, reactions, modals, App Home) wait on the network, so they get
    # a larger pool of their own, where a slow or rate-limited Slack cannot hold up the next answer.
    listeners = WorkPool(settings.listener_threads, "blocktime-listener")
    after_ack = WorkPool(AFTER_ACK_THREADS, "blocktime-after-ack")
    bolt_log = logging.getLogger("blocktime.bolt")
    if not any(isinstance(f, _OurClientOnPurpose) for f in bolt_log.filters):
        bolt_log.addFilter(_OurClientOnPurpose())
    app = App(
        client=web,
        signing_secret=settings.slack_signing_secret,
        request_verification_enabled=not socket_mode,
        process_before_response=True,
        listener_executor=listeners,
        logger=bolt_log,
    )
    # users.info on the way to an answer: a short timeout and no waiting out 429s or 5xx (a name is
    # nice to have, the answer is not; People falls back to the Slack handle)
    names = client or make_web_client(settings, in_process_retries=False, timeout=NAME_LOOKUP_TIMEOUT)
    # Listeners answer from the request's own thread (no hand-off, no ack poll), but at most
    # ``listener_threads`` at once: the rest wait without taking turns on the GIL (bench/RESULTS.md).
    turns = threading.BoundedSemaphore(settings.listener_threads)

    @app.middleware
    def one_of_a_few(next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002 - Bolt's name
        with turns:
            return next()

    register_all(app, Deps(ctx, web, People(names, ctx), after_ack))
    _AFTER_ACK[app] = after_ack

    @app.error
    def malformed(error: Exception, request: BoltRequest) -> BoltResponse | None:
        """A signed request whose payload is not shaped as Slack sends it is the sender's error (400),
        never a crash of ours (500); it is logged with its kind, never with its body or tokens."""
        if isinstance(error, MALFORMED):
            log.warning("malformed Slack request (%s: %s)", type(error).__name__, error)
            return BoltResponse(status=400, body="malformed request")
        if isinstance(error, SlackApiError):  # after the ack, Slack itself failed (an outage, a 429 storm)
            log.warning("Slack Web API failed while handling a request: %s", error.response.get("error"))
            return None
        log.error("unexpected error handling a Slack request", exc_info=error)
        return None

    return app


def drain(app: App) -> None:
    """Wait for listeners, then the work they started after the ack (graceful shutdown, tests)."""
    pools = [app.listener_runner.listener_executor, _AFTER_ACK.get(app)]
    for pool in pools:
        if isinstance(pool, WorkPool) and not pool.finish():
            log.warning("shutting down with work still running after %d s", DRAIN_SECONDS)


def settle(app: App, timeout: float = DRAIN_SECONDS) -> bool:
    """Wait until the work the app's requests started after their answers has ended (tests: "nothing
    happened" is then a fact, not a guess that the work was merely late)."""
    pool = _AFTER_ACK.get(app)
    return pool.idle(timeout) if pool is not None else True


def dispatch_safely(app: App, request: BoltRequest) -> BoltResponse:
    """Bolt's dispatch, except that a payload malformed enough to break Bolt's own matchers (even its
    error handler) is answered 400 instead of escaping as a 500."""
    try:
        return app.dispatch(request)
    except Exception as error:
        log.warning("malformed Slack request (%s: %s)", type(error).__name__, error)
        return BoltResponse(status=400, body="malformed request")


def create_wsgi_app(app: App, ctx: Context) -> Callable[..., Iterable[bytes]]:
    """``POST /slack/events`` for Slack, ``GET /healthz`` for the load balancer."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest

    class Handler(SlackRequestHandler):
        def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
            return dispatch_safely(
                self.app,
                BoltRequest(body=request.get_body(), query=request.query_string, headers=request.get_headers()),
            )

    slack = Handler(app, path="/slack/events")

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            healthy = database_ok(ctx)
            body = json.dumps({"ok": healthy, "database": "ok" if healthy else "unavailable"}).encode()
            start_response(
                "200 OK" if healthy else "503 Service Unavailable",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:
            body = b"request too large"
            start_response(
                "413 Payload Too Large", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return slack(environ, start_response)

    return wsgi


def database_ok(ctx: Context) -> bool:
    try:
        with ctx.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        log.warning("health check: database unavailable", exc_info=True)
        return False


def start_scheduler(ctx: Context) -> Any:
    """The outbox dispatcher and the scheduled jobs, in this process (each job still runs once
    across processes)."""
    from bot.jobs.dispatcher import Dispatcher, transports_for
    from bot.jobs.scheduler import Scheduler

    web = make_web_client(ctx.settings, in_process_retries=False)
    scheduler = Scheduler(ctx, Dispatcher(ctx, transports_for(ctx, web)))
    scheduler.start()
    return scheduler


def serve(ctx: Context, port: int, threads: int = 16, host: str = "0.0.0.0", workers: int = 1) -> int:  # noqa: S104
    """HTTP mode on waitress until interrupted; with ``workers`` > 1 (PostgreSQL), that many processes
    share the port (``bot.workers``). Returns the exit code."""
    if workers <= 1:
        _serve_one(ctx, threads, host=host, port=port)
        return 0
    from bot.workers import listen, supervise

    listener = listen(host, port)
    ctx.db.engine.dispose()  # the parent serves nothing: its connections (from migrating) are closed
    log.info("blocktime listening on http://%s:%s/slack/events with %d workers", host, port, workers)
    return supervise(
        workers,
        lambda: _serve_one(ctx, threads, sockets=[listener]),
        after_fork=lambda: ctx.db.engine.dispose(close=False),  # never share the parent's connections
    )


def _serve_one(ctx: Context, threads: int, **where: Any) -> None:
    """One server process: the app, its scheduler, and waitress on ``host``/``port`` or ``sockets``."""
    from waitress import serve as waitress_serve

    # Under a burst waitress warns "Task queue depth is N" for every queued request: creating those
    # records cost ~8% of the CPU exactly when there is none to spare (py-spy), and saturation shows
    # in latency anyway. Errors still come through.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    app = create_app(ctx)
    scheduler = start_scheduler(ctx) if ctx.settings.scheduler else None
    if "port" in where:
        log.info("blocktime listening on http://%s:%s/slack/events", where["host"], where["port"])
    try:
        waitress_serve(
            create_wsgi_app(app, ctx),
            **where,
            threads=threads,
            max_request_body_size=MAX_BODY_BYTES,
            ident="blocktime",
        )
    finally:
        if scheduler is not None:
            scheduler.stop()


def socket_mode_handler(ctx: Context) -> Any:
    """Socket Mode handler on the same app; its own client talks to ``SLACK_API_URL`` with the app token."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app = create_app(ctx, socket_mode=True)
    return SocketModeHandler(
        app,
        app_token=ctx.settings.slack_app_token,
        web_client=make_web_client(ctx.settings, ctx.settings.slack_app_token),
    )


def start_socket_mode(ctx: Context) -> None:
    handler = socket_mode_handler(ctx)
    scheduler = start_scheduler(ctx) if ctx.settings.scheduler else None
    try:
        handler.start()
    finally:
        if scheduler is not None:
            scheduler.stop()
