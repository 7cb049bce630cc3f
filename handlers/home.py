"""App Home: the dashboard is published when a user opens the Home tab and after their changes."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.services.queries import dashboard
from handlers.context import Deps
from handlers.views.home import home_view

REFRESH_SECONDS = 5.0
log = logging.getLogger("blocktime.handlers")


def publish_home(deps: Deps, user_id: str) -> None:
    deps.client.views_publish(user_id=user_id, view=home_view(dashboard(deps.ctx)))


class HomeRefresher:
    """Refreshes Home tabs after changes, in rounds: the first change after a quiet spell starts a round
    at once; changes during the next ``REFRESH_SECONDS`` wait for one more round at its end. A round
    computes the dashboard once (it is the same for everyone) and publishes it to every user who
    changed something since the previous round, so a busy hour costs one dashboard per few seconds,
    not one per entry or per user. Changes are committed before ``changed`` is called, so the round
    that takes a user always shows that user's change."""

    def __init__(self, deps: Deps, seconds: float = REFRESH_SECONDS) -> None:
        self.deps = deps
        self.seconds = seconds
        self.pending: set[str] = set()
        self.scheduled = False
        self.last_round = -seconds
        self.lock = threading.Lock()

    def changed(self, user_id: str) -> None:
        with self.lock:
            self.pending.add(user_id)
            if self.scheduled:
                return
            self.scheduled = True
            wait = self.last_round + self.seconds - time.monotonic()
        if wait <= 0:
            self.deps.later("home refresh", self._round)
            return
        timer = threading.Timer(wait, self.deps.later, args=("home refresh", self._round))
        timer.daemon = True
        timer.start()

    def _round(self) -> None:
        with self.lock:
            users, self.pending = sorted(self.pending), set()
            self.scheduled = False
            self.last_round = time.monotonic()
        view = home_view(dashboard(self.deps.ctx))
        for user_id in users:
            try:
                self.deps.client.views_publish(user_id=user_id, view=view)
            except SlackApiError as error:  # one user's failure does not skip the others
                log.warning("views.publish failed for %s: %s", user_id, error.response.get("error"))


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            publish_home(deps, event["user"])
