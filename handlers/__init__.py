"""The Slack edge: one module per kind of Slack input. Every listener is a named, top-level function
taking Bolt's injected arguments, the app's dependencies among them (``deps``, which one middleware
puts into each request's context: ``handlers.deps``); each module ends with ``register(app)``,
its table of what Slack sends to which listener."""

from __future__ import annotations

from slack_bolt import App

from handlers import actions, home, message_events, modals, payments, slash_commands, timecapture


def register_all(app: App) -> None:
    for module in (slash_commands, message_events, home, actions, modals, timecapture, payments):
        module.register(app)
