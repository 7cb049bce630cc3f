"""Share links out of the logs: a private page link (``/c/<token>``, ``bot.services.shares``) is shown
once, to the manager who made it, and never written to a log. Bolt logs each answer's body at DEBUG
("Responding with status: 200 body: ..."), and Socket Mode each envelope it sends, so the loggers that
carry answers replace a token with ``<redacted>`` before any handler sees it. Stripe's library logs each
request's form at DEBUG, the page's address in it URL-encoded (``%2Fc%2F<token>``): that form is
redacted too, on the ``stripe`` logger (``bot.checkout``)."""

from __future__ import annotations

import logging
import re

SHARE_TOKEN = re.compile(r"(?:/|%2F)c(?:/|%2F)[A-Za-z0-9_-]{16,}", re.IGNORECASE)
REDACTED = "/c/<redacted>"

# the loggers that carry answers to Slack: Bolt's (named in bot.bootstrap) and Socket Mode's client
ANSWER_LOGGERS = (
    "blocktime.bolt",
    "slack_bolt",
    "slack_sdk.socket_mode.builtin.client",
    "slack_sdk.socket_mode.builtin.connection",
    "slack_sdk.web.base_client",
)


class RedactShareLinks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if SHARE_TOKEN.search(message):
            record.msg, record.args = SHARE_TOKEN.sub(REDACTED, message), None
        if record.exc_info and not record.exc_text:  # a traceback may quote a path too
            record.exc_text = SHARE_TOKEN.sub(REDACTED, logging.Formatter().formatException(record.exc_info))
        return True


def redact(text: str) -> str:
    return SHARE_TOKEN.sub(REDACTED, text)


def install() -> None:
    """Put the filter on every answer logger, once."""
    for name in ANSWER_LOGGERS:
        install_on(name)


def install_on(name: str) -> None:
    """Put the filter on one logger (the web surface's, waitress'), once."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactShareLinks) for f in logger.filters):
        logger.addFilter(RedactShareLinks())
