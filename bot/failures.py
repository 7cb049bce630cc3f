"""What a user is told when a request fails, for every interface (Slack, the CLI and the console):
a refusal in its own words, the database out of reach (worded for a read or a write), or a bug of
ours (never a stack trace). Slack adds its markup, the CLI its exit code."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from bot.domain.errors import DomainError
from bot.psa import PsaAccessRefused, PsaError
from storage.db import DatabaseUnavailable, unavailable

log = logging.getLogger("blocktime")


class Kind(enum.Enum):
    REFUSED = "refused"  # the request is wrong or not allowed: the message says why and how
    UNAVAILABLE = "unavailable"  # the database (or the PSA) is out of reach: nothing was written
    PSA_REFUSED = "psa_refused"  # the PSA refused our credentials: its settings must change, not the request
    BUG = "bug"  # ours: logged with its trace, the user gets an apology


@dataclass(frozen=True)
class Failure:
    kind: Kind
    message: str
    problem: DomainError | None = None  # the refusal itself, for callers that place it (form fields)


NOT_RECORDED = (
    "Not recorded. The blocktime database is unavailable right now, so nothing was saved. Please try again in a minute."
)
NOT_SHOWN = "The blocktime database is unavailable right now, so this can't be shown. Please try again in a minute."
BUG = "Sorry, something went wrong on our side and nothing was recorded. The team has the details in the logs."


def failure_of(error: BaseException, what: str, writing: bool = True) -> Failure:
    """The failure ``error`` is to the user; ``writing``: the request meant to change something (a
    ``DatabaseUnavailable`` raised by ``bot.services.run`` knows it better)."""
    if isinstance(error, DomainError):
        return Failure(Kind.REFUSED, str(error), error)
    if isinstance(error, PsaAccessRefused):
        return Failure(Kind.PSA_REFUSED, str(error))
    if isinstance(error, PsaError):  # the PSA's own words: refused as asked, or out of reach for now
        return Failure(Kind.REFUSED if error.permanent else Kind.UNAVAILABLE, str(error))
    if unavailable(error):
        writing = error.writing if isinstance(error, DatabaseUnavailable) else writing
        log.error("database unavailable during %s: %s", what, str(error).splitlines()[0][:200] if str(error) else "")
        return Failure(Kind.UNAVAILABLE, NOT_RECORDED if writing else NOT_SHOWN)
    log.error("unexpected error during %s", what, exc_info=error)
    return Failure(Kind.BUG, BUG)
