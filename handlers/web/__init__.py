"""The web surface (issue 27): a client's private page at ``/c/<token>``, served by Flask (Jinja2
templates, auto-escaped) beside the Slack endpoints (``blocktime serve``, mounted by
``bot.app.create_wsgi_app``) or alone (``blocktime web``, for Socket Mode deployments).

``create_web_app(ctx)`` is the one wiring place of the web edge, like ``handlers.register_all`` for
Slack. Every route lives in a blueprint registered in ``_register_blueprints`` below; that is the
registration point for the rest of the web surface:

- the buy route and Stripe's webhook (issue 27, part 3): a blueprint of their own (``handlers.web.buy``),
  registered there; the buy route finds its client with ``handlers.web.deps.shared_client(token)`` (the
  same rate limit and the same plain 404 as the page), and the blueprint appends Stripe Checkout's origin
  to ``app.config[handlers.web.security.FORM_ACTIONS]`` so the Content-Security-Policy lets the form go
  there. The page itself stays read-only: GET only.
- ``/metrics`` (issue 27, part 5): a blueprint (``handlers.web.metrics``) registered there too; it
  reads nothing itself (``bot.metrics`` holds the figures and the token check).

Blueprints reach the service context with ``handlers.web.deps.context()``; they render with the
templates in ``handlers/web/templates`` (``base.html`` is the layout) and never build HTML by hand.
Every response gets the security headers of ``handlers.web.security``; an error is a plain-text body
that names no token. Tokens never reach a log: the loggers that could carry a path (Flask's, waitress')
get ``bot.redaction``'s filter."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from bot import redaction
from bot.config import parse_rate
from bot.services import Context
from handlers.web import buy, deps, metrics, page, security
from handlers.web.limits import RateLimiter
from storage.db import DatabaseUnavailable

log = logging.getLogger("blocktime.web")
WEB_LOGGERS = ("handlers.web", "blocktime.web", "waitress", "werkzeug")  # each may name a request's path


def create_web_app(ctx: Context) -> Flask:
    """The Flask app of the web surface on ``ctx`` (its database, settings and clock)."""
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=512 * 1024, JSON_SORT_KEYS=False)
    limit, seconds = parse_rate(ctx.settings.page_rate)
    app.extensions[deps.CONTEXT] = ctx
    app.extensions[deps.LIMITER] = RateLimiter(limit, seconds)
    for name in WEB_LOGGERS:
        redaction.install_on(name)
    security.install(app)
    _register_errors(app)
    _register_blueprints(app)
    return app


def _register_blueprints(app: Flask) -> None:
    """The registration point: every route of the web surface is a blueprint registered here."""
    app.register_blueprint(page.blueprint)
    app.register_blueprint(buy.blueprint)  # issue 27, part 3: the buy route and Stripe's webhook
    app.register_blueprint(metrics.blueprint)  # GET /metrics (issue 27, part 5)


def _register_errors(app: Flask) -> None:
    """Errors are short plain text: the same ``Not found`` for an unknown path and for a wrong, expired,
    revoked or overlong token, so a response tells nothing about which it was."""

    @app.errorhandler(HTTPException)
    def plain(error: HTTPException) -> Response:
        return _plain(f"{error.name}\n", error.code or 500, getattr(error, "retry_after", None))

    @app.errorhandler(DatabaseUnavailable)
    def unavailable(error: DatabaseUnavailable) -> Response:
        log.warning("the page could not reach the database: %s", type(error).__name__)
        return _plain("Service Unavailable\n", 503, 30)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.error("unexpected error on the web surface (%s)", type(error).__name__, exc_info=error)
        return _plain("Internal Server Error\n", 500)


def _plain(body: str, status: int, retry_after: Any = None) -> Response:
    response = Response(body, status=status, mimetype="text/plain")
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response
