"""Ledger invariants under random sequences of top-ups, entries, voids, edits and expiries:
- each block's drawn + forfeited + remaining equals its size;
- every billable minute is drawn from a block or counted as overage exactly once;
- the client's running figures equal the sums of the rows;
- under ``carry`` the balance equals purchased - used - forfeited."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.services import Actor, Context
from storage.db import Database
from storage.models import Block, Client, Draw, Entry
from tests.conftest import NOW, FreshDatabases
from tests.helpers import balance_of, do
from tests.stories import apply, operations


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
