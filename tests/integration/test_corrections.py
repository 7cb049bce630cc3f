"""A correction never costs the client more than the corrected entry (issue 24): an edit of late work
paid by a block that has closed since is settled against that block. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.domain.dates import parse_period
from bot.jobs.scheduler import run_job
from bot.services import Actor, Context
from bot.services.reports import statement_facts
from storage.models import Block, Client, Entry, LedgerLine
from tests.helpers import balance_of, do


def at(clock: FixedClock, day: str, hour: int = 12) -> None:
    clock.at = datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def statement(ctx: Context, period: str) -> dict:  # type: ignore[type-arg]
    with ctx.db.unit_of_work(read_only=True) as uow:
        client = uow.session.scalar(select(Client).where(Client.handle == "acme"))
        assert client is not None
        return statement_facts(uow, client, parse_period(period, ctx.today()))


def lines_since(ctx: Context, line_id: int) -> list[tuple[str, int]]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = uow.session.scalars(select(LedgerLine).where(LedgerLine.id > line_id).order_by(LedgerLine.id))
        return [(r.kind, r.minutes) for r in rows]


def last_line_id(ctx: Context) -> int:
    with ctx.db.unit_of_work(read_only=True) as uow:
        return max(uow.session.scalars(select(LedgerLine.id)))


def draws_of(ctx: Context, entry_id: int) -> list[tuple[int, int]]:
    """(block number, minutes) of the entry's live draws."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        entry = uow.session.get(Entry, entry_id)
        assert entry is not None
        numbers = {b.id: b.number for b in uow.session.scalars(select(Block))}
        return sorted((numbers[d.block_id], d.minutes) for d in entry.draws if d.reversed_at is None)


@pytest.fixture
def late_entry(ctx: Context, clock: FixedClock, admin: Actor) -> int:
    """Block 1 (5h, expired 29 Nov) paid 2h of late work logged on 30 Nov; block 2 (2h) is today's.
    On 7 Dec block 1 closed (grace 7 days) and its 3h left were forfeited; it is now 8 Dec."""
    do(ctx, admin, "client add acme Acme Corp")
    at(clock, "2026-11-01")
    do(ctx, admin, "topup acme 5 expires 2026-11-29")
    at(clock, "2026-11-30")
    do(ctx, admin, "topup acme 2")
    entry = do(ctx, admin, "logtime acme 2h 2026-11-28 server move")
    assert draws_of(ctx, entry.entry_id) == [(1, 120)]
    at(clock, "2026-12-08")
    view = balance_of(ctx, "acme")
    assert (view.remaining_minutes, view.forfeited_minutes) == (120, 180)
    return int(entry.entry_id)


def test_an_edit_down_keeps_the_closed_block_paying_and_forfeits_only_the_difference(
    ctx: Context, admin: Actor, late_entry: int
) -> None:
    run_job(ctx, "expiry", ctx.today())  # the forfeit of block 1's unused 3h is written
    mark = last_line_id(ctx)
    edited = do(ctx, admin, f"edit {late_entry} 1h30m")
    assert edited.remaining_minutes == 120  # block 2 untouched: it was 30m before the fix
    assert draws_of(ctx, edited.entry_id) == [(1, 90)]
    view = balance_of(ctx, "acme")
    assert (view.remaining_minutes, view.used_minutes, view.forfeited_minutes) == (120, 90, 210)
    # new lines, in December: the void gives 2h back, the corrected entry takes 1h30m, and the 30m
    # given back to the closed block are forfeited (the client had paid for them)
    assert lines_since(ctx, mark) == [("void", 120), ("entry", -90), ("forfeit", -30)]
    november, december = statement(ctx, "2026-11"), statement(ctx, "2026-12")
    assert december["opening_minutes"] == november["closing_minutes"] == 300
    assert (december["used_minutes"], december["forfeited_minutes"]) == (-30, 210)
    assert december["opening_minutes"] + december["bought_minutes"] - 30 * -1 - 210 == december["closing_minutes"]
    assert december["closing_minutes"] == 120 == view.remaining_minutes


def test_an_edit_up_keeps_the_original_draws_and_draws_the_extra_by_the_normal_rule(
    ctx: Context, admin: Actor, late_entry: int
) -> None:
    mark = last_line_id(ctx)
    edited = do(ctx, admin, f"edit {late_entry} 2h30m")
    assert draws_of(ctx, edited.entry_id) == [(1, 120), (2, 30)]
    assert edited.remaining_minutes == 90
    view = balance_of(ctx, "acme")
    assert (view.remaining_minutes, view.used_minutes, view.forfeited_minutes) == (90, 150, 180)
    # block 1's unused 3h were forfeited by a line when the balance showed them forfeited (the fixture's
    # read); the edit adds only its own lines
    assert lines_since(ctx, mark) == [("void", 120), ("entry", -150)]
    december = statement(ctx, "2026-12")
    assert (december["used_minutes"], december["forfeited_minutes"], december["closing_minutes"]) == (30, 180, 90)


def test_an_edit_of_the_note_only_leaves_every_figure_alone(ctx: Context, admin: Actor, late_entry: int) -> None:
    edited = do(ctx, admin, f"edit {late_entry} 2h server move and cabling")
    assert (edited.note, edited.work_date.isoformat()) == ("server move and cabling", "2026-11-28")
    assert draws_of(ctx, edited.entry_id) == [(1, 120)]
    view = balance_of(ctx, "acme")
    assert (view.remaining_minutes, view.used_minutes, view.forfeited_minutes) == (120, 120, 180)
    december = statement(ctx, "2026-12")
    assert (december["used_minutes"], december["forfeited_minutes"], december["closing_minutes"]) == (0, 180, 120)


def test_a_void_of_such_an_entry_forfeits_what_it_gives_back_to_the_closed_block(
    ctx: Context, admin: Actor, late_entry: int
) -> None:
    do(ctx, admin, f"void {late_entry} wrong client")
    view = balance_of(ctx, "acme")
    assert (view.remaining_minutes, view.used_minutes, view.forfeited_minutes) == (120, 0, 300)
    december = statement(ctx, "2026-12")
    assert (december["used_minutes"], december["forfeited_minutes"], december["closing_minutes"]) == (-120, 300, 120)


def test_a_month_already_over_never_changes(ctx: Context, clock: FixedClock, admin: Actor, late_entry: int) -> None:
    november = statement(ctx, "2026-11")
    do(ctx, admin, f"edit {late_entry} 1h")
    assert statement(ctx, "2026-11") == november
