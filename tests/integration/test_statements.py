"""Issue 24's statement, report and label findings, through the services on SQLite and PostgreSQL:
blocks named by the client's own number, overage counted only while it is open or billed, late
corrections said as such, one rounding of hours per client in every CSV, and figures that say which
date they go by."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.clock import FixedClock
from bot.render import topup_line, void_line
from bot.services import Actor, Context
from tests.helpers import do


def at(clock: FixedClock, day: str, hour: int = 12) -> None:
    clock.at = datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def two_clients(ctx: Context, admin: Actor) -> None:
    """Acme holds the global blocks 1 to 3, so Initech's first block has the global id 4."""
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "client add initech Initech")
    for _ in range(3):
        do(ctx, admin, "topup acme 1")


# -- 1. a block is named by the client's own number ---------------------------------------------------------


def test_a_top_up_reply_names_the_block_by_the_clients_own_number(
    ctx: Context, admin: Actor, two_clients: None
) -> None:
    added = do(ctx, admin, "topup initech 5")
    assert (added.block_id, added.block_number) == (4, 1)
    assert topup_line(added).startswith("Added block 1: 5h for Initech")
    assert added.as_dict()["block_number"] == 1 and added.as_dict()["block_id"] == 4


def test_the_number_a_top_up_reply_gives_is_the_one_void_topup_takes(
    ctx: Context, admin: Actor, two_clients: None
) -> None:
    do(ctx, admin, "topup initech 5")
    second = do(ctx, admin, "topup initech 2")
    voided = do(ctx, admin, f"void topup initech {second.block_number} typo")
    assert (voided.id, voided.number, voided.minutes) == (second.block_id, 2, 120)
    assert void_line(voided) == "Block 2 voided (2h). Initech now has 5h left."
    from bot.domain.errors import Refused

    with pytest.raises(Refused, match="Block 2 of Initech is already voided"):
        do(ctx, admin, f"void topup {second.block_id}")
