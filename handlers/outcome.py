"""Turning a service call into what the Slack user sees: a result, a friendly refusal, or, when the
database is down, a clear "Not recorded" (never a false success and never a stack trace). The words
are ``bot.failures``'s, shared with the CLI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.domain.errors import DomainError
from bot.domain.roles import Role
from bot.failures import Kind, failure_of
from bot.services import Actor, Context, require_role

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    result: T | None = None
    error: str | None = None
    unavailable: bool = False
    problem: DomainError | None = None  # the refusal itself, for callers that map it (modal fields)


def attempt(call: Callable[[], T], what: str, writing: bool = True) -> Outcome[T]:
    """``call``'s result, or what the user is told instead (``bot.failures``, with Slack's markup)."""
    try:
        return Outcome(result=call())
    except Exception as error:
        failure = failure_of(error, what, writing)
        if failure.kind is Kind.REFUSED:
            return Outcome(error=failure.message, problem=failure.problem)
        return Outcome(error=f":warning: {failure.message}", unavailable=failure.kind is Kind.UNAVAILABLE)


def role_refusal(ctx: Context, actor: Actor, needed: Role, what: str) -> str | None:
    """Why ``actor`` may not ``what`` (the role it takes), or None when they may: asked before a form
    opens; the service checks again when it is submitted."""
    return attempt(lambda: require_role(ctx, actor, needed, what), what).error
