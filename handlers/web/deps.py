"""What a web route is given: the service context, and the client a share link opens (rate-limited
per link, ``None`` turned into the same plain 404 as an unknown path)."""

from __future__ import annotations

from flask import abort, current_app
from werkzeug.exceptions import TooManyRequests

from bot.services import Context
from bot.services.shares import SharedClient, resolve_share, token_hash
from handlers.web.limits import RateLimiter

CONTEXT = "blocktime.context"
LIMITER = "blocktime.limiter"


def context() -> Context:
    ctx: Context = current_app.extensions[CONTEXT]
    return ctx


def limiter() -> RateLimiter:
    limits: RateLimiter = current_app.extensions[LIMITER]
    return limits


def shared_client(token: str) -> SharedClient:
    """The client ``token`` opens, the view recorded in the audit log; 429 past the link's rate, 404
    for a wrong, revoked, expired or overlong token (the limiter counts wrong tokens too, by hash)."""
    key = token_hash(token)
    limits = limiter()
    if not limits.allow(key):
        raise TooManyRequests(retry_after=limits.retry_after(key))
    ctx = context()
    shared = resolve_share(ctx, token, ctx.now())
    if shared is None:
        abort(404)
    return shared
