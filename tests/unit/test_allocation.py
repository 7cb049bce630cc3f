"""FIFO allocation: earliest expiry first, never-expiring last, then the oldest."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.allocation import BlockState, Draw, allocate, within_overdraft

TODAY = date(2026, 11, 25)


def block(id_: int, remaining: int, expires: date | None = None, start: date = date(2026, 1, 1)) -> BlockState:
    return BlockState(id_, remaining, start, expires)


def test_the_block_expiring_first_is_drawn_first() -> None:
    blocks = [block(1, 60), block(2, 60, date(2027, 1, 1)), block(3, 60, date(2026, 12, 1))]
    assert allocate(30, blocks, TODAY).draws == (Draw(3, 30),)


def test_among_equal_expiry_the_oldest_goes_first() -> None:
    blocks = [
        block(2, 60, start=date(2026, 2, 1)),
        block(1, 60, start=date(2026, 2, 1)),
        block(3, 60, start=date(2025, 1, 1)),
    ]
    assert allocate(30, blocks, TODAY).draws == (Draw(3, 30),)


def test_one_entry_may_span_several_blocks_then_become_overage() -> None:
    result = allocate(150, [block(1, 60, date(2026, 12, 1)), block(2, 45)], TODAY)
    assert result.draws == (Draw(1, 60), Draw(2, 45)) and result.overage == 45


def test_expired_and_future_blocks_are_not_drawn() -> None:
    blocks = [block(1, 60, date(2026, 11, 24)), block(2, 60, start=date(2026, 12, 1)), block(3, 60, date(2026, 11, 25))]
    assert allocate(90, blocks, TODAY).draws == (Draw(3, 60),)


def test_overdraft_limits() -> None:
    assert within_overdraft(-60, 60) and not within_overdraft(-61, 60)
    assert not within_overdraft(-1, 0) and within_overdraft(0, 0)
    assert within_overdraft(-10_000, None)


@given(
    st.integers(0, 2000),
    st.lists(st.tuples(st.integers(0, 600), st.none() | st.dates(date(2026, 11, 1), date(2027, 12, 31))), max_size=6),
)
def test_allocation_accounts_for_every_minute_and_overdraws_no_block(
    minutes: int, specs: list[tuple[int, date | None]]
) -> None:
    blocks = [block(i + 1, rem, exp) for i, (rem, exp) in enumerate(specs)]
    result = allocate(minutes, blocks, TODAY)
    assert result.drawn + result.overage == minutes
    by_id = {b.id: b for b in blocks}
    for draw in result.draws:
        assert 0 < draw.minutes <= by_id[draw.block_id].remaining and by_id[draw.block_id].usable_on(TODAY)
    usable = sum(b.remaining for b in blocks if b.usable_on(TODAY))
    assert result.overage == max(0, minutes - usable)


def test_a_correction_keeps_what_the_corrected_entry_drew_from_closed_blocks_first() -> None:
    today_block = block(2, 120)
    down = allocate(90, [today_block], TODAY, kept=(Draw(1, 120),))
    assert (down.draws, down.overage, down.from_later_blocks) == ((Draw(1, 90),), 0, 0)
    up = allocate(150, [today_block], TODAY, kept=(Draw(1, 120),))
    assert (up.draws, up.overage) == ((Draw(1, 120), Draw(2, 30)), 0)
