"""Ledger invariants under random sequences of top-ups, entries, voids, edits and expiries:
- each block's drawn + forfeited + remaining equals its size;
- every billable minute is drawn from a block or counted as overage exactly once;
- the client's running figures equal the sums of the rows;
- under ``carry`` the balance equals purchased - used - forfeited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.errors import DomainError
from bot.services import Actor, Context
from bot.services.ledger import expire_blocks
from storage.db import Database
from storage.models import Block, Client, Draw, Entry
from tests.conftest import NOW, FreshDatabases
from tests.helpers import balance_of, do

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


def check_invariants(ctx: Context, carry_only: bool) -> None:
    with ctx.db.unit_of_work(read_only=True) as uow:
        s = uow.session
        client = s.scalar(select(Client))
        assert client is not None
        all_blocks = list(s.scalars(select(Block)))
        all_entries = list(s.scalars(select(Entry)))
        active = [d for d in s.scalars(select(Draw)) if d.reversed_at is None]
        drawn_by_block: dict[int, int] = {}
        drawn_by_entry: dict[int, int] = {}
        for d in active:
            drawn_by_block[d.block_id] = drawn_by_block.get(d.block_id, 0) + d.minutes
            drawn_by_entry[d.entry_id] = drawn_by_entry.get(d.entry_id, 0) + d.minutes
        for b in all_blocks:
            if b.voided_at is None:
                assert drawn_by_block.get(b.id, 0) + b.forfeited_minutes + b.remaining_minutes == b.minutes
                assert b.remaining_minutes >= 0
            else:
                assert drawn_by_block.get(b.id, 0) == 0
        live = [e for e in all_entries if e.voided_at is None]
        for e in all_entries:
            covered = drawn_by_entry.get(e.id, 0) + e.overage_minutes + e.billed_overage_minutes
            assert covered == (e.billable_minutes if e.voided_at is None else 0)
        live_blocks = [b for b in all_blocks if b.voided_at is None]
        assert client.purchased_minutes == sum(b.minutes for b in live_blocks)
        assert client.forfeited_minutes == sum(b.forfeited_minutes for b in live_blocks)
        assert client.used_minutes == sum(e.billable_minutes for e in live)
        assert client.open_overage_minutes == sum(e.overage_minutes for e in live)
        assert client.billed_overage_minutes == sum(e.billed_overage_minutes for e in live)
    view = balance_of(ctx, "acme")
    # the balance adds up as printed, under either overage policy
    assert view.remaining_minutes == (
        view.purchased_minutes
        - view.used_minutes
        - view.forfeited_minutes
        - view.in_grace_minutes
        + view.billed_overage_minutes
    )
    if carry_only:
        assert view.billed_overage_minutes == 0


def run_story(db: Database, story: list[tuple]) -> None:  # type: ignore[type-arg]
    clock = FixedClock(NOW)
    ctx = Context(db, Settings(), clock)
    admin = Actor.local_admin()
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "client set acme overdraft 2h rounding 15m")
    entries: list[int] = []
    blocks: list[int] = []
    carry_only = True
    for op in story:
        if op[0] == "policy" and op[1] == "bill":
            carry_only = False
        apply(ctx, clock, admin, op, entries, blocks)
        check_invariants(ctx, carry_only)


def test_ledger_invariants_hold_for_every_random_story(fresh_databases: FreshDatabases) -> None:
    @settings(
        max_examples=60 if fresh_databases.backend == "sqlite" else 30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(operations)
    def story_holds(story: list[tuple]) -> None:  # type: ignore[type-arg]
        with fresh_databases.open() as db:
            run_story(db, story)

    story_holds()
