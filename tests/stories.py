"""Random ledger stories for property tests: hypothesis strategies of operations (top-ups, entries,
voids, edits, days passing, policy changes) and ``apply``, which carries one out through the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from bot.clock import FixedClock
from bot.domain.errors import DomainError
from bot.services import Actor, Context
from bot.services.hours import expire_blocks
from tests.helpers import do

topups = st.tuples(st.just("topup"), st.integers(1, 8), st.none() | st.integers(0, 40))
logs = st.tuples(st.just("log"), st.integers(1, 300), st.booleans(), st.integers(0, 30))
voids = st.tuples(st.just("void"), st.integers(0, 30))
void_topups = st.tuples(st.just("void_topup"), st.integers(0, 10))
edits = st.tuples(st.just("edit"), st.integers(0, 30), st.integers(1, 200))
days = st.tuples(st.just("days"), st.integers(1, 25))
policy = st.tuples(st.just("policy"), st.sampled_from(["carry", "bill"]), st.sampled_from(["none", "2h", "unlimited"]))
operations = st.lists(st.one_of(topups, logs, logs, voids, void_topups, edits, days, policy), max_size=25)


def apply(ctx: Context, clock: FixedClock, admin: Actor, op: tuple, entries: list[int], blocks: list[int]) -> Any:  # type: ignore[type-arg]
    """Carry out one step of a story; returns what the service answered (or the refusal's text)."""
    kind = op[0]
    try:
        if kind == "topup":
            expiry = "" if op[2] is None else f" expires {(clock.now() + timedelta(days=op[2])).date()}"
            result = do(ctx, admin, f"topup acme {op[1]}{expiry}")
            blocks.append(result.block_id)
            return result
        if kind == "log":
            work_date = (clock.now() - timedelta(days=op[3])).date()
            result = do(ctx, admin, f"logtime acme {op[1]}m {work_date} {'--nb' if op[2] else ''} work")
            entries.append(result.entry_id)
            return result
        if kind == "void" and entries:
            return do(ctx, admin, f"void {entries[op[1] % len(entries)]}")
        if kind == "void_topup" and blocks:
            return do(ctx, admin, f"void topup {blocks[op[1] % len(blocks)]}")
        if kind == "edit" and entries:
            result = do(ctx, admin, f"edit {entries[op[1] % len(entries)]} {op[2]}m")
            entries.append(result.entry_id)
            return result
        if kind == "days":
            clock.advance(days=op[1])
            return expire_blocks(ctx, admin)
        if kind == "policy":
            return do(ctx, admin, f"client set acme overage {op[1]} overdraft {op[2]}")
    except DomainError as refused:
        return str(refused)  # refused requests are part of the story: they must leave the invariants intact
    return None
