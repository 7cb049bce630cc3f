"""Small helpers for tests: run command lines through the real grammar and services, and wait for
what another thread or process does (``eventually``, ``stays``) instead of sleeping and asserting."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import func, select

from bot.domain.grammar import parse_command
from bot.services import Actor, Context, run
from bot.services.results import BalanceView, Result
from storage.models import Entry

T = TypeVar("T")


def do(ctx: Context, actor: Actor, line: str, **kwargs: Any) -> Any:
    """Parse ``line`` as of the context's today and run it."""
    return run(ctx, actor, parse_command(line, ctx.today(), ctx.settings.max_entry_minutes), **kwargs)


def balance_of(ctx: Context, handle: str) -> BalanceView:
    result: Result = do(ctx, Actor.local_admin(), f"balance {handle}")
    return result.balances[0]  # type: ignore[attr-defined,no-any-return]


def entry_count(ctx: Context) -> int:
    with ctx.db.unit_of_work(read_only=True) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(Entry)) or 0)


def eventually(
    condition: Callable[[], T], timeout: float = 10.0, interval: float = 0.05, message: str = "condition not met"
) -> T:
    """Ask ``condition`` every ``interval`` seconds until it gives a truthy value, and return that value.
    After ``timeout`` seconds (and one last look) raise AssertionError with ``message`` and the last
    value it gave. The one poll loop of the suite: wait for a positive event, never sleep and assert."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{message} within {timeout}s; last value: {value!r}")
        time.sleep(min(interval, left))


def stays(
    condition: Callable[[], object], for_seconds: float, interval: float = 0.05, message: str = "condition changed"
) -> None:
    """Assert that ``condition`` holds at every look for ``for_seconds``: a bounded wait, explicit, for a
    negative that no later positive event can stand in for. Prefer ``eventually`` on such an event."""
    deadline = time.monotonic() + for_seconds
    while True:
        value = condition()
        if not value:
            raise AssertionError(f"{message}, {for_seconds - (deadline - time.monotonic()):.2f}s in: {value!r}")
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(interval, left))
