"""Many technicians logging for one client at the same instant: no lost update, and the last
minutes of a block are never drawn twice."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from bot.domain.errors import Refused
from bot.services import Actor, Context
from storage.models import Block, Draw, Entry
from tests.helpers import balance_of, do

WRITERS = 16
EACH = 10


def hammer(ctx: Context, minutes: int) -> tuple[int, int]:
    """All writers start together; returns (recorded, refused)."""
    start = threading.Barrier(WRITERS)

    def writer(n: int) -> tuple[int, int]:
        start.wait()
        ok = refused = 0
        for i in range(EACH):
            try:
                do(ctx, Actor(f"UTECH{n}", f"Tech {n}"), f"logtime acme {minutes}m job {n}-{i}")
                ok += 1
            except Refused:
                refused += 1
        return ok, refused

    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(writer, range(WRITERS)))
    return sum(r[0] for r in results), sum(r[1] for r in results)


def test_parallel_writers_lose_no_update(ctx: Context, admin: Actor) -> None:
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "topup acme 100")
    recorded, refused = hammer(ctx, 7)
    assert (recorded, refused) == (WRITERS * EACH, 0)
    view = balance_of(ctx, "acme")
    assert view.used_minutes == WRITERS * EACH * 7
    assert view.remaining_minutes == 6000 - WRITERS * EACH * 7


def test_parallel_writers_never_draw_the_same_last_minutes(ctx: Context, admin: Actor) -> None:
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "topup acme 10")  # 600 minutes, no overdraft: room for 85 entries of 7 minutes
    recorded, refused = hammer(ctx, 7)
    assert (recorded, refused) == (600 // 7, WRITERS * EACH - 600 // 7)
    with ctx.db.unit_of_work(read_only=True) as uow:
        s = uow.session
        assert s.scalar(select(func.count()).select_from(Entry)) == 85
        assert s.scalar(select(func.sum(Draw.minutes))) == 595
        block = s.scalar(select(Block))
        assert block is not None and block.remaining_minutes == 5
    assert balance_of(ctx, "acme").remaining_minutes == 5
