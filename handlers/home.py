"""App Home: the dashboard is published when a user opens the Home tab and after their changes."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.services.queries import dashboard
from handlers.context import Deps
from handlers.views.home import home_view


def publish_home(deps: Deps, user_id: str) -> None:
    deps.client.views_publish(user_id=user_id, view=home_view(dashboard(deps.ctx)))


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            publish_home(deps, event["user"])
