"""One client's ledger inside one write transaction: the only code that moves minutes.

Every change follows the same steps:
1. the caller locks the client's row (``lock_client``) so concurrent writers queue;
2. blocks past their expiry are forfeited first, each by its own ledger line;
3. the change moves minutes between blocks, draws, overage and the client's running figures;
4. one ledger line records the change with the balance after it.
Because all of it is one transaction, the running figures can never disagree with the rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.allocation import BlockState, allocate
from bot.services import alerts
from bot.services.context import Actor, Context
from storage.models import Block, Client, Draw, Entry, LedgerLine


class ClientBook:
    def __init__(self, session: Session, ctx: Context, client: Client, actor: Actor) -> None:
        self.session = session
        self.ctx = ctx
        self.client = client
        self.actor = actor
        self.now: datetime = ctx.now()
        self.today: date = ctx.today(client.timezone)
        self._blocks: dict[int, Block] | None = None
        # Thresholds in percent are of the blocks current before the change (one that the change
        # used up still counts).
        self.block_minutes_before = current_block_minutes(self.open_blocks(), self.today)

    # -- reading ---------------------------------------------------------------------------------
    def open_blocks(self) -> list[Block]:
        """Blocks with minutes left (few per client, whatever the history's length). Read once per
        transaction (the client's row lock keeps them ours), then tracked as they change."""
        if self._blocks is None:
            rows = self.session.scalars(
                select(Block).where(
                    Block.client_id == self.client.id, Block.voided_at.is_(None), Block.remaining_minutes > 0
                )
            )
            self._blocks = {b.id: b for b in rows}
        return [b for b in self._blocks.values() if b.voided_at is None and b.remaining_minutes > 0]

    def track(self, block: Block) -> None:
        """A block that has (again) minutes left: a new top-up, or one a void gave minutes back to."""
        self.open_blocks()
        assert self._blocks is not None
        self._blocks[block.id] = block

    def balance(self) -> int:
        return current_balance(self.open_blocks(), self.client.open_overage_minutes, self.today)

    # -- steps -------------------------------------------------------------------------------------
    def expire_due(self) -> int:
        """Forfeit the unused minutes of every block past its expiry date; returns minutes forfeited."""
        total = 0
        for block in self.open_blocks():
            if block.expires_on is not None and self.today > block.expires_on:
                total += self._forfeit(block, block.remaining_minutes, "expired")
        return total

    def _forfeit(self, block: Block, minutes: int, why: str) -> int:
        block.remaining_minutes -= minutes
        block.forfeited_minutes += minutes
        self.client.forfeited_minutes += minutes
        # Reads already count an expired block's minutes as gone, so the balance does not move here;
        # the line still records the minutes lost, for statements and the burn-down chart.
        line = self.line(
            "forfeit", None, block_id=block.id, note=f"{minutes} min of block {block.id} {why}", minutes=-minutes
        )
        self.session.flush()
        facts = {
            "client": self.client.handle,
            "display_name": self.client.display_name,
            "account_manager": self.client.account_manager,
            "block_id": block.id,
            "block_minutes": block.minutes,
            "forfeited_minutes": minutes,
            "expires_on": str(block.expires_on),
            "reason": why,
            "remaining_minutes": line.balance_after,
            "reference": block.reference,
        }
        alerts.enqueue(self.session, self.ctx, "expiry", self.client, facts, f"forfeit:{block.id}:{line.id}")
        return minutes

    def draw(self, entry: Entry, minutes: int) -> int:
        """Take ``minutes`` for ``entry`` from the usable blocks, FIFO; returns the uncovered overage."""
        blocks = {b.id: b for b in self.open_blocks()}
        states = [BlockState(b.id, b.remaining_minutes, b.start_on, b.expires_on) for b in blocks.values()]
        allocation = allocate(minutes, states, self.today)
        for part in allocation.draws:
            blocks[part.block_id].remaining_minutes -= part.minutes
            self.session.add(Draw(entry_id=entry.id, block_id=part.block_id, minutes=part.minutes, created_at=self.now))
        return allocation.overage

    def reverse_draws(self, draws: Iterable[Draw]) -> int:
        """Give drawn minutes back to their blocks; minutes returned to an expired block are forfeited
        at once (never silently kept). Returns the minutes given back."""
        returned = 0
        for draw in draws:
            if draw.reversed_at is not None:
                continue
            draw.reversed_at = self.now
            block = self.session.get(Block, draw.block_id)
            assert block is not None
            block.remaining_minutes += draw.minutes
            self.track(block)
            returned += draw.minutes
            self.session.flush()
            if block.expires_on is not None and self.today > block.expires_on:
                self._forfeit(block, draw.minutes, "returned by a void after expiry")
        return returned

    def settle_overage(self) -> tuple[int, int]:
        """After hours were added back: under ``carry`` the blocks pay off open overage (oldest entry
        first); under ``bill`` open overage becomes its own billable line. Returns (carried, billed)."""
        if self.client.open_overage_minutes <= 0:
            return 0, 0
        entries = self.session.scalars(
            select(Entry)
            .where(Entry.client_id == self.client.id, Entry.overage_minutes > 0, Entry.voided_at.is_(None))
            .order_by(Entry.id)
        )
        carried = billed = 0
        for entry in entries:
            if self.client.overage_policy == "bill":
                entry.billed_overage_minutes += entry.overage_minutes
                billed += entry.overage_minutes
                entry.overage_minutes = 0
                continue
            still_open = self.draw(entry, entry.overage_minutes)
            carried += entry.overage_minutes - still_open
            entry.overage_minutes = still_open
            if still_open:
                break
        self.client.open_overage_minutes -= carried + billed
        self.client.billed_overage_minutes += billed
        return carried, billed

    def line(
        self,
        kind: str,
        before: int | None,
        block_id: int | None = None,
        entry_id: int | None = None,
        note: str = "",
        minutes: int | None = None,
    ) -> LedgerLine:
        """Record a change; its minutes are the balance's move since ``before`` unless given."""
        self.session.flush()
        after = self.balance()
        line = LedgerLine(
            client_id=self.client.id,
            at=self.now,
            kind=kind,
            minutes=minutes if minutes is not None else after - (before or 0),
            balance_after=after,
            block_id=block_id,
            entry_id=entry_id,
            actor=self.actor.user_id,
            note=note,
        )
        self.session.add(line)
        if before is not None:
            self.session.flush()
            alerts.on_balance_change(self, before, after, line.id)
        return line


class BlockFigures(Protocol):
    """What the balance needs of a block: an ORM ``Block``, or a row the Core fast path read."""

    @property
    def minutes(self) -> int: ...

    @property
    def remaining_minutes(self) -> int: ...

    @property
    def expires_on(self) -> date | None: ...

    @property
    def voided_at(self) -> datetime | None: ...


def current_block_minutes(open_blocks: Iterable[BlockFigures], today: date) -> int:
    """Hours in the client's current blocks: open (minutes left), not voided, not expired."""
    return sum(
        b.minutes
        for b in open_blocks
        if b.voided_at is None and b.remaining_minutes > 0 and (b.expires_on is None or today <= b.expires_on)
    )


def current_balance(open_blocks: Iterable[BlockFigures], open_overage_minutes: int, today: date) -> int:
    """Minutes left in usable-or-future blocks minus the client's open overage (may be negative)."""
    left = sum(
        b.remaining_minutes
        for b in open_blocks
        if b.voided_at is None and (b.expires_on is None or today <= b.expires_on)
    )
    return left - open_overage_minutes
