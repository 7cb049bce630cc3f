"""One client's ledger inside one write transaction: the only code that moves minutes.

Every change follows the same steps:
1. the caller locks the client's row (``lock_client``) so concurrent writers queue;
2. blocks past their closing day (expiry + grace period) are forfeited first, each by its own ledger
   line dated the closing day; under ``carry``, open overage left while the next block was still
   waiting to start is paid off by it once it has started (``catch_up``);
3. the change stores what the domain's rules decided (``bot.domain.ledger.plan_entry`` for an entry):
   draws, overage and the client's running figures;
4. one ledger line records the change: its minutes are the move of the account balance and
   ``balance_after`` the account balance after it, so the lines of any period add up (statements);
   a fall of the usable balance through a threshold queues an alert.
Because all of it is one transaction, the running figures can never disagree with the rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.domain.allocation import Allocation, allocate, closed_on, closing_day
from bot.domain.allocation import Draw as DrawPart
from bot.domain.commands import Command, LogTime, fingerprint
from bot.domain.dates import month_start, recorded_day
from bot.domain.ledger import (
    EntryPlan,
    Policy,
    account_balance,
    current_block_minutes,
    is_current,
    plan_entry,
    states,
    usable_balance,
)
from bot.domain.thresholds import alert_crossing
from bot.domain.worktypes import STANDARD
from bot.services import alerts
from bot.services.context import Actor, Context, lock_client, policy_of
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


SYSTEM = Actor("blocktime", "scheduler")  # who forfeits what time closed (the expiry job, a read)


def forfeit_due(ctx: Context, actor: Actor = SYSTEM) -> list[tuple[str, int]]:
    """Forfeit every block past its closing day that still holds minutes, each client in a transaction
    of its own; returns ``(client handle, minutes)``. The expiry job runs it, and so does every read
    of balances before it reads: a forfeit a balance shows is always one the ledger records.
    1. one query finds the clients with an expired block holding minutes (a client's day may be up to
       two days ahead of the workspace's);
    2. only those whose block is past its closing day, by their own grace period and calendar, are
       locked and forfeited (most expired blocks are in their grace period: nothing to write)."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        session = uow.session
        candidates = repositories.clients_with_blocks_expiring_by(session, ctx.today() + timedelta(days=2))
        blocks = repositories.open_blocks(session, candidates)
        clients = repositories.clients_by_id(session, candidates)
        due = []
        for client_id in candidates:
            client = clients[client_id]
            today, grace = ctx.today(client.timezone), policy_of(client, ctx.settings).grace_days
            if any(closed_on(b.expires_on, today, grace) for b in blocks[client_id]):
                due.append(client_id)
    forfeited: list[tuple[str, int]] = []
    for client_id in due:
        with ctx.db.unit_of_work() as uow:
            client = lock_client(uow.session, client_id)
            minutes = ClientBook(uow.session, ctx, client, actor).expire_due()
            uow.commit()
            if minutes:
                forfeited.append((client.handle, minutes))
    return forfeited


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

    def plan(
        self,
        minutes: int,
        non_billable: bool,
        work_date: date,
        multiplier: Decimal = Decimal(1),
        correction: bool = False,
    ) -> EntryPlan:
        """``correction``: the entry replaces one just taken back, and keeps what that one drew from
        blocks closed since (``kept_draws``) before anything else."""
        return plan_entry(
            minutes,
            non_billable,
            work_date,
            self.today,
            self.policy,
            self.open_blocks(),
            self.client.open_overage_minutes,
            multiplier,
            self.kept_draws() if correction else (),
        )

    def kept_draws(self) -> list[DrawPart]:
        """What the entry just taken back had drawn from blocks past their closing day, block by block
        in the order it drew them: a correction keeps these first, so it never costs the client more
        than the entry it corrects."""
        kept: dict[int, int] = {}
        for block, minutes in self._returned_to_closed:
            kept[block.id] = kept.get(block.id, 0) + minutes
        return [DrawPart(block_id, minutes) for block_id, minutes in kept.items()]

    # -- steps -------------------------------------------------------------------------------------
    def expire_due(self, cause: str | None = None) -> int:
        """Forfeit the unused minutes of every block past its closing day; returns minutes forfeited.
        Each line is dated its block's closing day (``closing_moment``), or now when a setting change
        (``cause``, in words) is what closed the block."""
        grace = self.policy.grace_days
        total = 0
        for block in self.open_blocks():
            if closed_on(block.expires_on, self.today, grace):
                total += self._forfeit(block, block.remaining_minutes, cause or "expired")
        return total

    def catch_up(self) -> None:
        """Step 2 of every change: what is due before it, as of today."""
        self.expire_due()
        self.carry_to_started()

    def carry_to_started(self) -> int:
        """Under ``carry`` the next block pays off open overage as it is added; a block bought to start
        later cannot (it is not usable yet), so it does at the first change once it has started, before
        it can expire with the overage still open. Returns the minutes carried."""
        if self.client.overage_policy != "carry" or self.client.open_overage_minutes <= 0:
            return 0
        if not any(is_current(b, self.today) for b in self.open_blocks()):
            return 0
        carried, _ = self.settle_overage()
        return carried

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
        """Forfeit what a void gave back to blocks past their closing day and a correction did not
        draw again (one line per block). Those blocks had nothing left before the change (``expire_due``
        runs first), so what they hold now is exactly that."""
        returned: dict[Block, int] = {}
        for block, minutes in self._returned_to_closed:
            returned[block] = returned.get(block, 0) + minutes
        self._returned_to_closed.clear()
        for block, minutes in returned.items():
            left = min(minutes, block.remaining_minutes)
            if left > 0:
                self._forfeit(block, left, "returned by a void after its closing day")

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
        moment = at or self.now
        line = LedgerLine(
            client_id=self.client.id,
            at=moment,
            # the statement that shows the line, fixed now: a later time zone never moves it
            recorded_on=recorded_day(moment, self.client.timezone, self.client.records_from),
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
