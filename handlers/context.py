"""What every listener needs: the service context, user names, and a place to run work after the
ack (App Home refreshes) without holding up Slack's 3-second window."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from slack_sdk import WebClient

from bot.services import Context
from handlers.people import People

log = logging.getLogger("blocktime.handlers")


@dataclass
class Deps:
    ctx: Context
    client: WebClient
    people: People
    background: ThreadPoolExecutor

    def later(self, what: str, work: Callable[[], object]) -> None:
        """Run ``work`` after the current request, logging (not raising) its failure."""

        def guarded() -> None:
            try:
                work()
            except Exception:
                log.exception("background work failed: %s", what)

        self.background.submit(guarded)
