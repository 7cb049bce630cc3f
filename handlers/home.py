"""App Home: the dashboard is published when a user opens the Home tab and after their changes."""

from __future__ import annotations

import threading
from typing import Any

from slack_bolt import App

from bot.services.queries import dashboard
from handlers.context import Deps
from handlers.views.home import home_view

REFRESH_SECONDS = 5.0


def publish_home(deps: Deps, user_id: str) -> None:
    deps.client.views_publish(user_id=user_id, view=home_view(dashboard(deps.ctx)))


class HomeRefresher:
    """Refreshes a user's Home tab after their changes: at once for the first change, then at most
    once per ``REFRESH_SECONDS`` (a burst of entries gives one more refresh at its end, not one each)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.cooling: set[str] = set()
        self.again: set[str] = set()
        self.lock = threading.Lock()

    def changed(self, user_id: str) -> None:
        with self.lock:
            if user_id in self.cooling:
                self.again.add(user_id)
                return
            self.cooling.add(user_id)
        self.deps.later("home refresh", lambda: publish_home(self.deps, user_id))
        timer = threading.Timer(REFRESH_SECONDS, self._cooled, args=(user_id,))
        timer.daemon = True
        timer.start()

    def _cooled(self, user_id: str) -> None:
        with self.lock:
            self.cooling.discard(user_id)
            again = user_id in self.again
            self.again.discard(user_id)
        if again:
            self.changed(user_id)


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            publish_home(deps, event["user"])
