"""The scheduled jobs by name: each is a use case of ``bot.services`` (``scheduled``, ``nudges``) that
takes the day it is due for and returns a one-line summary."""

from __future__ import annotations

from bot.services.nudges import nudge
from bot.services.scheduled import SCHEDULER, digest, expiry, renewal, statement

__all__ = ["JOBS", "SCHEDULER", "digest", "expiry", "renewal", "statement"]

JOBS = {"expiry": expiry, "renewal": renewal, "digest": digest, "statement": statement, "nudge": nudge}
