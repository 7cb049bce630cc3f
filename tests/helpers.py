"""Small helpers for tests: run command lines through the real grammar and services."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.domain.grammar import parse_command
from bot.services import Actor, Context, run
from bot.services.results import BalanceView, Result
from storage.models import Entry


def do(ctx: Context, actor: Actor, line: str, **kwargs: Any) -> Any:
    """Parse ``line`` as of the context's today and run it."""
    return run(ctx, actor, parse_command(line, ctx.today(), ctx.settings.max_entry_minutes), **kwargs)


def balance_of(ctx: Context, handle: str) -> BalanceView:
    result: Result = do(ctx, Actor.local_admin(), f"balance {handle}")
    return result.balances[0]  # type: ignore[attr-defined,no-any-return]


def entry_count(ctx: Context) -> int:
    with ctx.db.unit_of_work(read_only=True) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(Entry)) or 0)
