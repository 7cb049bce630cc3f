"""One client's ledger inside one write transaction: the only code that moves minutes.

Every change follows the same steps:
1. the caller locks the client's row (``lock_client``) so concurrent writers queue;
2. blocks past their closing day (expiry + grace period) are forfeited first, each by its own ledger
   line dated the closing day;
3. the change stores what the domain's rules decided (``bot.domain.ledger.plan_entry`` for an entry):
   draws, overage and the client's running figures;
4. one ledger line records the change: its minutes are the move of the account balance and
   ``balance_after`` the account balance after it, so the lines of any period add up (statements);
   a fall of the usable balance through a threshold queues an alert.
Because all of it is one transaction, the running figures can never disagree with the rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.domain.allocation import Allocation, allocate, closed_on, closing_day
from bot.domain.commands import Command, LogTime, fingerprint
from bot.domain.dates import month_start
from bot.domain.ledger import (
    EntryPlan,
    Policy,
    account_balance,
    current_block_minutes,
    plan_entry,
    states,
    usable_balance,
)
from bot.domain.thresholds import alert_crossing
from bot.domain.worktypes import STANDARD
from bot.services import alerts
from bot.services.context import Actor, Context, policy_of
from storage import repositories
from storage.models import Block, Client, Draw, Entry, LedgerLine


def new_entry_values(
    command: LogTime,
    plan: EntryPlan,
    *,
    client_id: int,
    author: tuple[str, str],
    work_date: date,
    ticket: str | None,
    source: str,
    source_ref: str | None,
    key: str | None,
    replaces_id: int | None,
    now: datetime,
    request: Command | None = None,
    multiplier: Decimal = Decimal(1),
    thread_ref: str | None = None,
    chain: tuple[int | None, str | None] = (None, None),
) -> dict[str, Any]:
    """The columns of a new entry, for both writers (the ORM here, ``storage.quick`` for plain ones).
    ``author`` is (user id, name); overage is known once the draws are stored. ``request`` is what the
    keyed request asked for, when that is not ``command`` itself (an edit). ``chain`` is an edit's
    (first entry of its chain, the PSA record's id)."""
    return {
        "client_id": client_id,
        "user_id": author[0],
        "user_name": author[1],
        "typed": command.typed,
        "minutes": command.minutes,
        "billable_minutes": plan.billable,
        "overage_minutes": 0,
        "billed_overage_minutes": 0,
        "non_billable": command.non_billable,
        "work_type": command.work_type or STANDARD,
        "multiplier": multiplier,
        "note": command.note,
        "work_date": work_date,
        "started_at": command.started_at,
        "ticket": ticket or command.ticket,
        "source": source,
        "source_ref": source_ref,
        "thread_ref": thread_ref,
        "idempotency_key": key,
        "request_fingerprint": fingerprint(request or command) if key else None,
        "replaces_id": replaces_id,
        "root_id": chain[0],
        "psa_id": chain[1],
        "created_at": now,
    }


@dataclass(frozen=True)
class Figures:
    """The two balances at one moment (see ``bot.domain.ledger``)."""

    usable: int
    account: int


class ClientBook:
    def __init__(self, session: Session, ctx: Context, client: Client, actor: Actor) -> None:
        self.session = session
        self.ctx = ctx
        self.client = client
        self.actor = actor
        self.now: datetime = ctx.now()
        self.today: date = ctx.today(client.timezone)
        self._blocks: dict[int, Block] | None = None
        self._returned_to_closed: list[tuple[Block, int]] = []
        # Thresholds in percent are of the blocks current before the change.
        self.block_minutes_before = self.block_minutes()

    # -- reading ---------------------------------------------------------------------------------
    def open_blocks(self) -> list[Block]:
        """Blocks with minutes left (few per client, whatever the history's length). Read once per
        transaction (the client's row lock keeps them ours), then tracked as they change."""
        if self._blocks is None:
            rows = repositories.open_blocks(self.session, [self.client.id], used_up_since=self.today)[self.client.id]
            self._blocks = {b.id: b for b in rows}
        return [b for b in self._blocks.values() if b.voided_at is None and b.remaining_minutes > 0]

    def block_minutes(self) -> int:
        """The size of the current blocks, used-up ones included: what "% left" is a share of."""
        self.open_blocks()
        assert self._blocks is not None
        return current_block_minutes([b for b in self._blocks.values() if b.voided_at is None], self.today)

    def track(self, block: Block) -> None:
        """A block that has (again) minutes left: a new top-up, or one a void gave minutes back to."""
        self.open_blocks()
        assert self._blocks is not None
        self._blocks[block.id] = block

    def balance(self) -> int:
        """The usable balance: what new work can draw today (thresholds, overdraft, "hours left")."""
        return usable_balance(self.open_blocks(), self.client.open_overage_minutes, self.today)

    def figures(self) -> Figures:
        blocks = self.open_blocks()
        overage = self.client.open_overage_minutes
        return Figures(usable_balance(blocks, overage, self.today), account_balance(blocks, overage))

    @property
    def policy(self) -> Policy:
        return policy_of(self.client, self.ctx.settings)

    def plan(self, minutes: int, non_billable: bool, work_date: date, multiplier: Decimal = Decimal(1)) -> EntryPlan:
        return plan_entry(
            minutes,
            non_billable,
            work_date,
            self.today,
            self.policy,
            self.open_blocks(),
            self.client.open_overage_minutes,
            multiplier,
        )

    # -- steps -------------------------------------------------------------------------------------
    def expire_due(self) -> int:
        """Forfeit the unused minutes of every block past its closing day; returns minutes forfeited."""
        grace = self.policy.grace_days
        total = 0
        for block in self.open_blocks():
            if closed_on(block.expires_on, self.today, grace):
                total += self._forfeit(block, block.remaining_minutes, "expired")
        return total

    def closing_moment(self, block: Block) -> datetime:
        """When a forfeit of ``block`` is dated: the end of its closing day in the client's time zone,
        but never before the current month began, so a statement of a month already over (and
        perhaps sent) never changes."""
        assert block.expires_on is not None
        zone = ZoneInfo(self.client.timezone)
        closing_end = datetime.combine(closing_day(block.expires_on, self.policy.grace_days), time.max, zone)
        month_began = datetime.combine(month_start(self.today), time.min, zone)
        return min(self.now, max(closing_end, month_began)).astimezone(UTC)

    def _forfeit(self, block: Block, minutes: int, why: str) -> int:
        before = self.figures()
        block.remaining_minutes -= minutes
        block.forfeited_minutes += minutes
        self.client.forfeited_minutes += minutes
        at = self.closing_moment(block) if why == "expired" else self.now
        line = self.line(
            "forfeit",
            before,
            block_id=block.id,
            note=f"{minutes} min of block {block.number or block.id} {why}",
            at=at,
            alert=False,
        )
        facts = {
            "client": self.client.handle,
            "display_name": self.client.display_name,
            "account_manager": self.client.account_manager,
            "block_id": block.id,
            "block_number": block.number,
            "block_minutes": block.minutes,
            "forfeited_minutes": minutes,
            "expires_on": str(block.expires_on),
            "reason": why,
            "remaining_minutes": self.balance(),
            "reference": block.reference,
        }
        alerts.enqueue(self.session, self.ctx, "expiry", self.client, facts, f"forfeit:{block.id}:{line.id}")
        return minutes

    def store_draws(self, entry: Entry, allocation: Allocation) -> int:
        """Store the draws the rules decided for ``entry``; returns the overage they left."""
        blocks = {b.id: b for b in self.open_blocks()}
        for part in allocation.draws:
            blocks[part.block_id].remaining_minutes -= part.minutes
            self.session.add(Draw(entry_id=entry.id, block_id=part.block_id, minutes=part.minutes, created_at=self.now))
        return allocation.overage

    def draw(self, entry: Entry, minutes: int) -> int:
        """Take ``minutes`` for ``entry`` by the same rule as a new entry (blocks valid on its work date
        first, then today's); returns the uncovered overage."""
        usable = states(self.open_blocks(), self.today, self.policy.grace_days)
        return self.store_draws(entry, allocate(minutes, usable, self.today, entry.work_date))

    def reverse_draws(self, draws: Iterable[Draw]) -> int:
        """Give drawn minutes back to their blocks. Minutes given back to a block past its closing day
        are never silently kept: ``forfeit_returned`` forfeits them, once the caller has recorded the
        give-back itself. Returns the minutes given back."""
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
            if closed_on(block.expires_on, self.today, self.policy.grace_days):
                self._returned_to_closed.append((block, draw.minutes))
        self.session.flush()
        return returned

    def forfeit_returned(self) -> None:
        """Forfeit what a void gave back to blocks past their closing day (each by its own line)."""
        while self._returned_to_closed:
            block, minutes = self._returned_to_closed.pop(0)
            self._forfeit(block, minutes, "returned by a void after its closing day")

    def settle_overage(self) -> tuple[int, int]:
        """After hours were added back: under ``carry`` the blocks pay off open overage (oldest entry
        first); under ``bill`` open overage becomes its own billable ledger line ("overage_billed").
        Returns (carried, billed)."""
        if self.client.open_overage_minutes <= 0:
            return 0, 0
        entries = repositories.open_overage_entries(self.session, self.client.id)
        before = self.figures()
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
        if billed:
            self.line("overage_billed", before, note=f"{billed} min of overage billed on its own", alert=False)
        return carried, billed

    def line(
        self,
        kind: str,
        before: Figures,
        block_id: int | None = None,
        entry_id: int | None = None,
        note: str = "",
        at: datetime | None = None,
        alert: bool = True,
        minutes: int | None = None,
    ) -> LedgerLine:
        """Record a change: its minutes are the account balance's move since ``before``, unless the
        change is split over several lines (``minutes`` = this line's part of the move)."""
        self.session.flush()
        after = self.figures()
        moved = after.account - before.account if minutes is None else minutes
        line = LedgerLine(
            client_id=self.client.id,
            at=at or self.now,
            kind=kind,
            minutes=moved,
            balance_after=before.account + moved,
            block_id=block_id,
            entry_id=entry_id,
            actor=self.actor.user_id,
            note=note,
        )
        self.session.add(line)
        self.session.flush()
        if alert:
            self._alert_if_crossed(before.usable, after.usable, line.id)
        return line

    def _alert_if_crossed(self, before: int, after: int, line_id: int) -> None:
        """Step 3 of every change: if the balance fell through a threshold, queue the alert."""
        client, ctx = self.client, self.ctx
        found = alert_crossing(
            before,
            after,
            alerts.thresholds_of(client.thresholds, ctx.settings),
            self.block_minutes_before,
            ctx.settings.overdraft_alert_step_minutes,
            client.alerts_snoozed_until,
            self.now,
        )
        if found is None or not alerts.armed(
            self.session, ctx.settings, client.id, found.threshold.label, found.level, self.now
        ):
            return
        facts = alerts.balance_facts(
            self.session, client, after, self.block_minutes_before, self.today, self.open_blocks()
        )
        facts.update(
            threshold=found.threshold.label, level_minutes=found.level, before_minutes=before, at=self.now.isoformat()
        )
        alerts.enqueue(self.session, ctx, "threshold", client, facts, f"threshold:{client.id}:{line_id}")
