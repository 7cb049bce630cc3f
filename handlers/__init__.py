"""The Slack edge: one module per kind of Slack input, each with ``register(app, deps)``."""

from __future__ import annotations

from slack_bolt import App

from handlers import actions, commands, home, message_events, modals, timecapture
from handlers.context import Deps


def register_all(app: App, deps: Deps) -> None:
    for module in (commands, message_events, home, actions, modals, timecapture):
        module.register(app, deps)
