"""What every listener needs: the service context, user names, and a place to run work after the
ack (App Home refreshes) without holding up Slack's 3-second window."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services import Context
from handlers.people import People

log = logging.getLogger("blocktime.handlers")
# What a payload that is not shaped as Slack sends raises in our listeners (the sender's error, 400).
MALFORMED = (KeyError, TypeError, ValueError, AttributeError, IndexError)


@dataclass
class Deps:
    ctx: Context
    client: WebClient
    people: People
    background: ThreadPoolExecutor
    home_refresher: Any = field(default=None, init=False)

    def home_changed(self, user_id: str) -> None:
        """The user changed something: refresh their Home tab (coalesced by the refresher the app
        factory gives, ``handlers.home.HomeRefresher``)."""
        if self.home_refresher is not None:
            self.home_refresher.changed(user_id)

    def permalink(self, channel: str, ts: str) -> str | None:
        """The message's permalink (a thread's or a message's ticket), or None when Slack can't say."""
        try:
            return str(self.client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
        except SlackApiError as error:
            log.warning("chat.getPermalink failed: %s", error.response.get("error"))
            return None

    def later(self, what: str, work: Callable[[], object], request: bool = False) -> None:
        """Run ``work`` after the current request, logging (not raising) its failure. ``request``: the
        work reads the Slack payload just acknowledged, so a payload not shaped as Slack sends it is
        the sender's error (a warning, as the app's error handler treats it before the ack)."""

        def guarded() -> None:
            try:
                work()
            except SlackApiError as error:  # Slack failed (an outage, a 429 storm): theirs, not a bug of ours
                log.warning("Slack Web API failed during %s: %s", what, error.response.get("error"))
            except Exception as error:
                if request and isinstance(error, MALFORMED):
                    log.warning("malformed Slack request during %s (%s: %s)", what, type(error).__name__, error)
                else:
                    log.exception("background work failed: %s", what)

        try:
            self.background.submit(guarded)
        except RuntimeError:  # shutting down: nothing more is started
            log.info("not started, shutting down: %s", what)
