"""Turning a service call into what the user sees: a result, a friendly refusal, or, when the database
is down, a clear "NOT recorded" (never a false success and never a stack trace)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.domain.errors import DomainError

log = logging.getLogger("blocktime.handlers")
T = TypeVar("T")

DB_DOWN = ":warning: *Not recorded.* The blocktime database is unavailable right now, so nothing was saved. Please try again in a minute."
BUG = (
    ":warning: Sorry, something went wrong on our side and nothing was recorded. The team has the details in the logs."
)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    result: T | None = None
    error: str | None = None
    unavailable: bool = False
    problem: DomainError | None = None  # the refusal itself, for callers that map it (modal fields)


def attempt(call: Callable[[], T], what: str) -> Outcome[T]:
    try:
        return Outcome(result=call())
    except DomainError as error:
        return Outcome(error=str(error), problem=error)
    except (OperationalError, PoolTimeout, DBAPIError) as error:
        log.error("database unavailable during %s: %s", what, str(error).splitlines()[0][:200])
        return Outcome(error=DB_DOWN, unavailable=True)
    except Exception:
        log.exception("unexpected error during %s", what)
        return Outcome(error=BUG)
