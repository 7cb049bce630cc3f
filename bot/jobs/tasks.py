"""The scheduled jobs by name: each is a use case of ``bot.services`` (``scheduled``, ``nudges``) that
takes the day it is due for and returns a one-line summary."""

from __future__ import annotations

from bot.services.allotments import allotments
from bot.services.nudges import nudge
from bot.services.scheduled import SCHEDULER, digest, expiry, renewal, statement

__all__ = ["HOURLY", "JOBS", "REPEATABLE", "SCHEDULER", "allotments", "digest", "expiry", "renewal", "statement"]

JOBS = {
    "expiry": expiry,
    "renewal": renewal,
    "digest": digest,
    "statement": statement,
    "nudge": nudge,
    "allotments": allotments,
}
# Jobs that act on the ledger's state alone (expiry forfeits what is due, each client under its lock),
# so a person may run them again the same day: after a setting changed, the answer says what it did.
REPEATABLE = frozenset({"expiry", "allotments"})
# Jobs due every hour (a client's period begins at its own midnight, its statements go at its own 08:00
# on the 1st): one run per hour across processes.
HOURLY = frozenset({"allotments", "statement"})
