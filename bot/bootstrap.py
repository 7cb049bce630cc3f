"""The one place that wires settings, database and clock into a service context."""

from __future__ import annotations

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.services.context import Context
from storage.db import Database


def build_context(settings: Settings, clock: Clock | None = None, migrate: bool = True) -> Context:
    """A context on ``settings.database_url``; migrations are applied first unless told not to."""
    db = Database(settings.database_url)
    if migrate:
        db.migrate()
    return Context(db, settings, clock or SystemClock())
