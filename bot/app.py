"""The two ways to run the Bolt app that ``bot.bootstrap`` builds.

- HTTP mode: ``create_wsgi_app`` serves ``POST /slack/events`` (Bolt checks every signature and
  timestamp), ``GET /healthz`` and, on every other path, the web surface (the client's page,
  ``handlers.web``); ``serve`` runs it on waitress, a production WSGI server.
- The web surface alone (``blocktime web``, beside Socket Mode): ``create_web_wsgi_app`` serves the
  page and ``GET /healthz``; ``serve_web`` runs it on waitress.
- Socket Mode (``SLACK_APP_TOKEN`` set): ``start_socket_mode`` opens the WebSocket; no public URL.

"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from bot import metrics
from bot.bootstrap import after_ack, create_app, create_web, make_web_client, start_scheduler
from bot.pools import DRAIN_SECONDS
from bot.services import Context

__all__ = [
    "create_app",
    "create_web_wsgi_app",
    "create_wsgi_app",
    "drain",
    "make_web_client",
    "serve",
    "serve_web",
    "settle",
    "start_socket_mode",
]
log = logging.getLogger("blocktime.app")
logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per dispatcher pass is noise
MAX_BODY_BYTES = 512 * 1024  # Slack's requests are a few KB; anything far larger is refused (413)


def drain(app: App) -> None:
    """Wait for the work the requests started after their answers (graceful shutdown, tests)."""
    later = after_ack(app)
    if later is not None and not later.finish():
        log.warning("shutting down with work still running after %d s", DRAIN_SECONDS)


def settle(app: App, timeout: float = DRAIN_SECONDS) -> bool:
    """Wait until the work the app's requests started after their answers has ended (tests: "nothing
    happened" is then a fact, not a guess that the work was merely late)."""
    later = after_ack(app)
    return later.idle(timeout) if later is not None else True


def dispatch_safely(app: App, request: BoltRequest) -> BoltResponse:
    """Bolt's dispatch, except that a payload malformed enough to break Bolt's own matchers (even its
    error handler) is answered 400 instead of escaping as a 500."""
    try:
        return app.dispatch(request)
    except Exception as error:
        log.warning("malformed Slack request (%s: %s)", type(error).__name__, error)
        return BoltResponse(status=400, body="malformed request")


WsgiApp = Callable[..., Iterable[bytes]]
SLACK_PATH = "/slack/events"


def create_wsgi_app(app: App, ctx: Context) -> WsgiApp:
    """``POST /slack/events`` for Slack (each request counted and timed by kind: ``bot.metrics``),
    ``GET /healthz`` for the load balancer, and the web surface (``/c/<token>``, ``/metrics``, its static
    files, the routes later parts add) on every other path."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest

    class Handler(SlackRequestHandler):
        def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
            started = time.perf_counter()
            try:  # Bolt parses the body here (``payload=`` JSON), before any listener or error handler
                parsed = BoltRequest(body=request.get_body(), query=request.query_string, headers=request.get_headers())
            except ValueError as error:
                log.warning("malformed Slack request (%s: %s)", type(error).__name__, error)
                metrics.observe("malformed", time.perf_counter() - started)
                return BoltResponse(status=400, body="malformed request")
            try:
                return dispatch_safely(self.app, parsed)
            finally:
                metrics.observe(metrics.request_kind(parsed.body), time.perf_counter() - started)

    slack = Handler(app, path=SLACK_PATH)
    web = create_web(ctx).wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != SLACK_PATH:
            return _healthz_or(web, ctx, environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:
            body = b"request too large"
            start_response(
                "413 Payload Too Large", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return slack(environ, start_response)

    return wsgi


def create_web_wsgi_app(ctx: Context) -> WsgiApp:
    """The web surface alone (``blocktime web``), with ``GET /healthz``."""
    web = create_web(ctx).wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return _healthz_or(web, ctx, environ, start_response)

    return wsgi


# the web surface's security headers (handlers.web.security) on /healthz too, which answers beside it
HEALTHZ_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Cache-Control", "private, no-store"),
)


def _healthz_or(
    web: WsgiApp, ctx: Context, environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
        healthy = database_ok(ctx)
        body = json.dumps({"ok": healthy, "database": "ok" if healthy else "unavailable"}).encode()
        start_response(
            "200 OK" if healthy else "503 Service Unavailable",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *HEALTHZ_HEADERS],
        )
        return [body]
    return web(environ, start_response)


def database_ok(ctx: Context) -> bool:
    return ctx.db.reachable()


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
        log.info(
            "blocktime listening on http://%s:%s/slack/events (and the client's page)", where["host"], where["port"]
        )
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


def serve_web(ctx: Context, port: int, host: str = "0.0.0.0", threads: int = 8) -> int:  # noqa: S104
    """``blocktime web``: the web surface alone on waitress until interrupted (no Slack, no scheduler:
    the Socket Mode process runs those). Returns the exit code."""
    from waitress import serve as waitress_serve

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    log.info("blocktime's client page listening on http://%s:%s/c/<token>", host, port)
    waitress_serve(
        create_web_wsgi_app(ctx),
        host=host,
        port=port,
        threads=threads,
        max_request_body_size=MAX_BODY_BYTES,
        ident="blocktime",
    )
    return 0


def socket_mode_handler(ctx: Context) -> Any:
    """Socket Mode handler on the same app; its own client talks to ``SLACK_API_URL`` with the app token."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    class Measured(SocketModeHandler):
        def handle(self, client: Any, req: Any) -> None:
            started = time.perf_counter()
            try:
                super().handle(client, req)
            finally:
                metrics.observe(metrics.request_kind(req.payload or {}), time.perf_counter() - started)

    app = create_app(ctx, socket_mode=True)
    return Measured(
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
