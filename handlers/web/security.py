"""The headers every web response carries: no referrer (the page's address is its key), a strict
Content-Security-Policy (no script at all, styles only from our own static file, forms only to us and
the origins added to ``FORM_ACTIONS``), no MIME sniffing, no framing, and no caching anywhere but the
reader's own browser session."""

from __future__ import annotations

from flask import Flask, Response

FORM_ACTIONS = "BLOCKTIME_FORM_ACTIONS"  # app.config key: the origins a form may post to ('self' first)


def content_security_policy(form_actions: list[str]) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"form-action {' '.join(form_actions)}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


def install(app: Flask) -> None:
    """``'self'`` may take forms; a blueprint that sends a form elsewhere (Stripe Checkout's origin)
    appends that origin to ``app.config[FORM_ACTIONS]`` when it is registered."""
    app.config.setdefault(FORM_ACTIONS, ["'self'"])

    @app.after_request
    def secure(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = content_security_policy(app.config[FORM_ACTIONS])
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "private, no-store"
        return response
