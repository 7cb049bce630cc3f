"""One client's ledger as an aggregate: the only code that changes a figure of minutes.

``ClientLedger`` holds what the rules need of a client (its terms, running totals, open blocks) and
carries out every change of hours: log an entry, take one back (void, the first half of an edit), add
a block (top-up, renewal), void a block, forfeit what closed, settle open overage. Each change is
decided by the rules in ``bot.domain.charges`` and ``bot.domain.allocation`` and recorded, not stored:
the aggregate's ``posting`` collects the rows to add, the figures that change, the ledger lines and the
events (a threshold crossed, a block forfeited, an entry's chain to sync with the PSA). One writer
(``storage.postings``) stores a posting in the caller's transaction; nothing else assigns a
``*_minutes`` figure (``tests/unit/test_layout.py`` keeps it so).

Every change follows the same steps:
1. the caller holds the client's row lock, so concurrent writers queue;
2. a recurring allotment's due periods are granted, and a closed period's unused minutes roll into the
   next period's block up to the cap (``renew_allotments``); then blocks past their closing day (expiry +
   grace period) are forfeited (``catch_up``), each by its own ledger line dated the closing day; under
   ``carry``, open overage left while the next block was still waiting to start is paid off by it once it
   has started;
3. the change itself, as the rules decide it;
4. one ledger line records the change: its minutes are the move of the account balance and
   ``balance_after`` the account balance after it, so the lines of any period add up (statements); a
   fall of the usable balance through a threshold is an event.

Rows the posting adds get provisional ids, above any id a database gives, so the FIFO rules order
them after every stored row and other rows can refer to them; the writer swaps them for real ids."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.allocation import Allocation, allocate, closed_on, closing_day
from bot.domain.allocation import Draw as DrawPart
from bot.domain.allotments import SOURCE as RECURRING
from bot.domain.allotments import Allotment, due_starts, period_end, period_words, rollover_split
from bot.domain.charges import (
    EntryPlan,
    Policy,
    account_balance,
    current_block_minutes,
    is_current,
    plan_entry,
    states,
    usable_balance,
)
from bot.domain.dates import month_start, recorded_day
from bot.domain.holds import HoldLimit
from bot.domain.payments import Payment, Unpaid, drawable, unpaid, waiting_block
from bot.domain.refills import RefillDecision, RefillPolicy, decide, refill_level
from bot.domain.thresholds import Crossing, Threshold, alert_crossing

PROVISIONAL = 1 << 60  # ids of rows a posting adds, until the writer stores them


def is_provisional(row_id: int | None) -> bool:
    return row_id is not None and row_id >= PROVISIONAL


@dataclass
class LedgerBlock:
    """A live block as the ledger holds it (``bot.domain.charges.HeldBlock``)."""

    id: int
    number: int | None
    minutes: int
    remaining_minutes: int
    forfeited_minutes: int
    start_on: date
    expires_on: date | None
    reference: str | None = None
    paid: bool = True  # an unpaid block draws only when the client is not pay-first (bot.domain.payments)
    source: str = "topup"
    psa_id: str | None = None
    period_start: date | None = None
    rolled_in_minutes: int = 0
    rolled_out_minutes: int = 0


@dataclass
class Totals:
    """The client's running figures (the statements' sums, kept on the client's row)."""

    purchased_minutes: int
    used_minutes: int
    forfeited_minutes: int
    open_overage_minutes: int
    billed_overage_minutes: int
    last_entry_id: int | None


@dataclass(frozen=True)
class Terms:
    """What the ledger's rules read of the client, besides its figures."""

    client_id: int
    timezone: str
    records_from: date | None
    policy: Policy
    overage_policy: str  # "carry" (the next block pays it off) or "bill" (billed on its own)
    thresholds: Sequence[Threshold] = ()
    overdraft_alert_step: int = 0
    alerts_snoozed_until: datetime | None = None
    pay_first: bool = False  # work draws only from paid blocks (bot.domain.payments)
    recurring: Allotment | None = None
    refill: RefillPolicy | None = None
    hold_limit: HoldLimit | None = None  # the overage hold (part 6): past it new time is refused


@dataclass(frozen=True)
class LiveDraw:
    id: int
    block_id: int
    minutes: int


@dataclass
class LedgerEntry:
    """An entry the ledger changes: taken back, or its overage settled."""

    id: int
    work_date: date
    billable_minutes: int
    overage_minutes: int
    billed_overage_minutes: int
    draws: Sequence[LiveDraw] = ()


@dataclass(frozen=True)
class Figures:
    """The two balances at one moment (see ``bot.domain.charges``)."""

    usable: int
    account: int


# -- events: what the change means beyond its rows ------------------------------------------------


@dataclass(frozen=True)
class Crossed:
    crossing: Crossing
    before: int  # usable balance before the change
    after: int
    block_minutes: int  # the current blocks' size before the change ("% left")
    line_id: int


@dataclass(frozen=True)
class Forfeited:
    block: LedgerBlock  # as it was when forfeited (a copy)
    minutes: int
    reason: str
    usable_after: int
    line_id: int
    rolled_into: int | None = None  # the number of the next period's block its hours rolled into, if any


@dataclass(frozen=True)
class SyncDue:
    """An entry's chain changed: the PSA's record of it is to be written again."""

    chain_root: int


@dataclass(frozen=True)
class BlockSyncDue:
    """A block was added, voided or marked paid or unpaid: the PSA's record of it is to be written
    (``bot.services.psa_blocks``). A mark (``marked``) writes again only a block written (or queued)
    before: one sold before the client's link stays out of the PSA."""

    block_id: int
    marked: bool = False


@dataclass(frozen=True)
class Refilled:
    """An entry took the usable balance through the refill level (``bot.domain.refills``): a block was
    added (``decision.action`` "added", ``block_id`` its id) or is offered for a manager's click
    ("draft", no block). ``line_id`` is the entry's line, the one its crossing alert names."""

    decision: RefillDecision
    line_id: int
    before: int
    after: int  # the usable balance after the entry, before the refill
    block_minutes: int
    level: int  # the refill level the entry went through
    block_id: int | None = None
    block_number: int | None = None

    @property
    def added(self) -> bool:
        return self.decision.action == "added"


Event = Crossed | Forfeited | SyncDue | BlockSyncDue | Refilled


@dataclass
class Posting:
    """What one change of hours writes, in order: new blocks, new entries, then everything that
    refers to them. Figures are absolute (the writer holds the client's row lock)."""

    client_id: int
    new_blocks: list[dict[str, Any]] = field(default_factory=list)
    new_entries: list[dict[str, Any]] = field(default_factory=list)
    new_draws: list[dict[str, Any]] = field(default_factory=list)
    reversed_draws: list[int] = field(default_factory=list)
    reversed_at: datetime | None = None
    blocks: dict[int, dict[str, Any]] = field(default_factory=dict)  # block id -> changed columns
    entries: dict[int, dict[str, Any]] = field(default_factory=dict)  # entry id -> changed columns
    totals: dict[str, Any] = field(default_factory=dict)  # the client's changed columns
    lines: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.new_blocks or self.new_entries or self.blocks or self.entries or self.totals or self.lines)


class ClientLedger:
    """One client's ledger for one change (see the module's docstring). ``blocks`` are its live
    blocks with minutes left, and the used-up ones that may still be current today (the denominator
    of "% left"); ``load_blocks`` reads other blocks by id (one a void gives minutes back to);
    ``overage_entries`` reads the live entries with open overage, oldest first."""

    def __init__(
        self,
        terms: Terms,
        totals: Totals,
        blocks: Iterable[LedgerBlock],
        *,
        today: date,
        now: datetime,
        actor: str,
        load_blocks: Callable[[Sequence[int]], Iterable[LedgerBlock]] = lambda ids: (),
        overage_entries: Callable[[], Iterable[LedgerEntry]] = lambda: (),
        last_block_number: Callable[[], int | None] = lambda: None,
        refills_this_month: Callable[[], int] = lambda: 0,
    ) -> None:
        self.terms = terms
        self.totals = totals
        self.today = today
        self.now = now
        self.actor = actor
        self._blocks = {b.id: b for b in blocks}
        self._load_blocks = load_blocks
        self._overage_entries = overage_entries
        self._last_block_number = last_block_number
        self._last_start = terms.recurring.last_start if terms.recurring else None
        self._returned_to_closed: list[tuple[LedgerBlock, int]] = []
        self._returned: list[tuple[LedgerBlock, int]] = []  # every draw a take-back gave back (``kept_draws``)
        self._ids = itertools.count(PROVISIONAL)
        self.posting = Posting(terms.client_id)
        # Thresholds in percent are of the blocks current before the change.
        self.block_minutes_before = self.block_minutes()
        self._refills_this_month = refills_this_month
        self.refill_armed = terms.refill.armed if terms.refill is not None else True
        self._refilled = False  # one refill per posting, and its own lift does not arm the next

    # -- reading ---------------------------------------------------------------------------------
    @property
    def policy(self) -> Policy:
        return self.terms.policy

    def open_blocks(self) -> list[LedgerBlock]:
        """Blocks with minutes left."""
        return [b for b in self._blocks.values() if b.remaining_minutes > 0]

    def drawable_blocks(self) -> list[LedgerBlock]:
        """Blocks with minutes left that work may draw from: under pay-first, the paid ones only."""
        return drawable(self.open_blocks(), self.terms.pay_first)

    def block(self, block_id: int) -> LedgerBlock | None:
        return self._blocks.get(block_id)

    def block_minutes(self) -> int:
        """The size of the current blocks, used-up ones included: what "% left" is a share of."""
        return current_block_minutes(drawable(self._blocks.values(), self.terms.pay_first), self.today)

    def balance(self) -> int:
        """The usable balance: what new work can draw today (thresholds, overdraft, "hours left")."""
        return usable_balance(self.drawable_blocks(), self.totals.open_overage_minutes, self.today)

    def unpaid(self) -> Unpaid:
        """Unpaid hours of the current blocks, and what of them pay-first holds for payment."""
        return unpaid(self.open_blocks(), self.today, self.terms.pay_first)

    def figures(self) -> Figures:
        blocks, overage = self.open_blocks(), self.totals.open_overage_minutes
        usable = usable_balance(drawable(blocks, self.terms.pay_first), overage, self.today)
        return Figures(usable, account_balance(blocks, overage))

    def plan(
        self,
        minutes: int,
        non_billable: bool,
        work_date: date,
        multiplier: Decimal = Decimal(1),
        correction: bool = False,
    ) -> EntryPlan:
        """``correction``: the entry replaces one just taken back, and keeps what that one drew from
        blocks new work may no longer draw from (``kept_draws``) before anything else."""
        return plan_entry(
            minutes,
            non_billable,
            work_date,
            self.today,
            self.policy,
            self.drawable_blocks(),
            self.totals.open_overage_minutes,
            multiplier,
            self.kept_draws() if correction else (),
            hold=self.terms.hold_limit,
        )

    def kept_draws(self) -> list[DrawPart]:
        """What the entry just taken back had drawn from blocks new work may no longer draw from (past
        their closing day, or unpaid under pay-first, marked so since), block by block in the order it
        drew them: a correction keeps these first, so it never costs the client more than the entry it
        corrects. Draws from blocks still drawable are left to the normal rules (they are candidates
        there: keeping them too would count their minutes twice)."""
        drawable_ids = {b.id for b in self.drawable_blocks()}
        kept: dict[int, int] = {}
        for block, minutes in self._returned:
            closed = closed_on(block.expires_on, self.today, self.policy.grace_days)
            if closed or block.id not in drawable_ids:
                kept[block.id] = kept.get(block.id, 0) + minutes
        return [DrawPart(block_id, minutes) for block_id, minutes in kept.items()]

    def stored(self, ids: Callable[[int | None], int | None]) -> None:
        """The posting was stored: the rows it added have their ids now, and the next change starts
        a posting of its own."""
        for block in list(self._blocks.values()):
            if is_provisional(block.id):
                self._blocks.pop(block.id, None)
                block.id = ids(block.id) or block.id
                self._blocks[block.id] = block
        self.totals.last_entry_id = ids(self.totals.last_entry_id)
        self.posting = Posting(self.terms.client_id)

    # -- changes ----------------------------------------------------------------------------------
    def catch_up(self) -> None:
        """Step 2 of every change: what is due before it, as of today."""
        self.renew_allotments()
        self.expire_due()
        self.carry_to_started()

    def next_block_number(self) -> int:
        """The client's next block number (a client's second block is its block 2), counting the
        blocks this posting adds."""
        pending = [row.get("number") or 0 for row in self.posting.new_blocks]
        return max([self._last_block_number() or 0, *pending]) + 1

    def renew_allotments(self) -> list[LedgerBlock]:
        """The recurring allotment (``bot.domain.allotments``), before anything else of a change:
        1. each period due since the last granted one, oldest first, gets its block (source
           ``recurring``, valid from the period's first day to its last, a ``topup`` line dated now),
           and the client's ``recurring_last_start`` moves to it, so no writer grants a period twice;
        2. each period block past its closing day whose next period's block exists rolls its unused
           minutes into that block up to the cap (one ``rollover`` line: the account balance does not
           move), oldest period first, so a missed run rolls through every period in order; what is
           left is forfeited by ``expire_due`` right after, one line dated the period's closing day
           (never before the current month began: a month that is over never changes).
        Returns the blocks added."""
        added: list[LedgerBlock] = []
        allotment = self.terms.recurring
        if allotment is not None:
            current = Allotment(allotment.period, allotment.minutes, allotment.rollover_minutes, self._last_start)
            for start in due_starts(current, self.today):
                added.append(self._grant(allotment, start))
        self._roll_over_closed_periods()
        return added

    def _grant(self, allotment: Allotment, start: date) -> LedgerBlock:
        ends = period_end(start, allotment.period)
        values = {
            "client_id": self.terms.client_id,
            "number": self.next_block_number(),
            "start_on": start,
            "expires_on": ends,
            "note": f"{allotment.period} allotment, {period_words(start, allotment.period)}",
            "sold_by": self.actor,
            "created_at": self.now,
        }
        block = self.add_block(
            values,
            allotment.minutes,
            start,
            "topup",
            f"{allotment.period} allotment {period_words(start, allotment.period)}",
            source=RECURRING,
            period_start=start,
        )
        self._last_start = start
        self.posting.totals["recurring_last_start"] = start
        return block

    def _roll_over_closed_periods(self) -> None:
        allotment = self.terms.recurring
        cap = allotment.rollover_minutes if allotment is not None else 0
        if cap <= 0:
            return
        periods = {b.period_start: b for b in self._blocks.values() if b.source == RECURRING and b.period_start}
        grace = self.policy.grace_days
        for start in sorted(periods):
            block = periods[start]
            if block.remaining_minutes <= 0 or not closed_on(block.expires_on, self.today, grace):
                continue
            assert block.expires_on is not None
            following = periods.get(block.expires_on + timedelta(days=1))
            if following is None:
                continue
            rolled, _ = rollover_split(block.remaining_minutes, cap, following.rolled_in_minutes)
            if rolled:
                self._roll_over(block, following, rolled)

    def _next_period_block(self, block: LedgerBlock) -> LedgerBlock | None:
        """The block of the period after ``block``'s (a recurring allotment's), the one its hours roll into."""
        if block.source != RECURRING or block.expires_on is None:
            return None
        following = block.expires_on + timedelta(days=1)
        return next(
            (b for b in self._blocks.values() if b.source == RECURRING and b.period_start == following),
            None,
        )

    def _roll_over(self, block: LedgerBlock, following: LedgerBlock, minutes: int) -> None:
        before = self.figures()
        self._set_block(
            block,
            remaining_minutes=block.remaining_minutes - minutes,
            rolled_out_minutes=block.rolled_out_minutes + minutes,
        )
        self._set_block(
            following,
            remaining_minutes=following.remaining_minutes + minutes,
            rolled_in_minutes=following.rolled_in_minutes + minutes,
        )
        self._line(
            "rollover",
            before,
            block_id=following.id,
            note=f"{minutes} min rolled over from block {block.number or block.id} into block "
            f"{following.number or following.id}",
            alert=False,
        )

    def expire_due(self, cause: str | None = None) -> int:
        """Forfeit the unused minutes of every block past its closing day; returns minutes forfeited.
        Each line is dated its block's closing day (``closing_moment``), or now when a setting change
        (``cause``, in words) is what closed the block."""
        total = 0
        for block in self.open_blocks():
            if closed_on(block.expires_on, self.today, self.policy.grace_days):
                total += self._forfeit(block, block.remaining_minutes, cause or "expired")
        return total

    def carry_to_started(self) -> int:
        """Under ``carry`` the next block pays off open overage as it is added; a block bought to start
        later cannot (it is not usable yet), so it does at the first change once it has started, before
        it can expire with the overage still open. Returns the minutes carried."""
        if self.terms.overage_policy != "carry" or self.totals.open_overage_minutes <= 0:
            return 0
        if not any(is_current(b, self.today) for b in self.drawable_blocks()):
            return 0
        carried, _ = self.settle_overage()
        return carried

    def log(self, plan: EntryPlan, values: dict[str, Any], note: str) -> dict[str, Any]:
        """Record a new entry as ``plan`` decided it (the caller checked ``plan.allowed``). ``values``
        are its columns but the figures; returns the entry's row (its id provisional until stored)."""
        before = self.figures()
        entry = {
            **values,
            "id": next(self._ids),
            "billable_minutes": plan.billable,
            "overage_minutes": 0,
            "billed_overage_minutes": 0,
        }
        self.posting.new_entries.append(entry)
        entry["overage_minutes"] = self._draw(entry["id"], plan.allocation)
        self._set_totals(
            used_minutes=self.totals.used_minutes + plan.billable,
            open_overage_minutes=self.totals.open_overage_minutes + entry["overage_minutes"],
            last_entry_id=entry["id"],
        )
        self._line("entry", before, entry_id=entry["id"], note=note[:200])
        self.posting.events.append(SyncDue(entry.get("root_id") or entry["id"]))
        return entry

    def take_back(
        self,
        entry: LedgerEntry,
        *,
        reason: str,
        note: str,
        latest_live_entry: Callable[[], int | None],
        chain_root: int,
        correction: bool = False,
    ) -> None:
        """Void ``entry`` and record it: a "void" line giving back its billable minutes and, when part of
        it was overage already billed on its own, an "overage_billed" line taking that part back, so a
        statement's "used" and "overage billed" each show their own correction; then a "forfeit" line for
        minutes given back to a block whose closing day has passed. For a ``correction`` that forfeit
        waits for the corrected entry, which draws on those minutes first (``kept_draws``).
        ``latest_live_entry`` reads the client's latest entry that still counts but this one."""
        before = self.figures()
        billed, billable = entry.billed_overage_minutes, entry.billable_minutes
        if self.totals.last_entry_id == entry.id:  # dashboards show the latest entry that still counts
            self._set_totals(last_entry_id=latest_live_entry())
        self._reverse_draws(entry.draws)
        self._set_totals(
            open_overage_minutes=self.totals.open_overage_minutes - entry.overage_minutes,
            billed_overage_minutes=self.totals.billed_overage_minutes - billed,
            used_minutes=self.totals.used_minutes - billable,
        )
        entry.overage_minutes = entry.billed_overage_minutes = 0
        self._set_entry(
            entry.id,
            overage_minutes=0,
            billed_overage_minutes=0,
            voided_at=self.now,
            voided_by=self.actor,
            void_reason=reason,
        )
        self.posting.events.append(SyncDue(chain_root))
        if not billed:
            self._line("void", before, entry_id=entry.id, note=note)
        else:
            self._line("void", before, entry_id=entry.id, note=note, minutes=billable)
            after_void = Figures(before.usable, before.account + billable)
            self._line("overage_billed", after_void, entry_id=entry.id, note="billed overage taken back", alert=False)
        if not correction:
            self.forfeit_returned()

    def forfeit_returned(self) -> None:
        """Forfeit what a void gave back to blocks past their closing day and a correction did not
        draw again (one line per block). Those blocks had nothing left before the change (``expire_due``
        runs first), so what they hold now is exactly that."""
        returned: dict[int, tuple[LedgerBlock, int]] = {}
        for block, minutes in self._returned_to_closed:
            returned[block.id] = (block, returned.get(block.id, (block, 0))[1] + minutes)
        self._returned_to_closed.clear()
        for block, minutes in returned.values():
            left = min(minutes, block.remaining_minutes)
            if left > 0:
                self._forfeit(block, left, "returned by a void after its closing day")

    def add_block(
        self,
        values: dict[str, Any],
        minutes: int,
        start_on: date,
        line_kind: str,
        note: str,
        *,
        paid: bool = True,
        source: str = "topup",
        period_start: date | None = None,
    ) -> LedgerBlock:
        """Add a block of ``minutes`` (``values``: its other columns), ``paid`` or sold on an invoice
        still to be paid, and settle open overage by the client's policy. Returns the block (its id
        provisional until stored)."""
        before = self.figures()
        block = LedgerBlock(
            id=next(self._ids),
            number=values.get("number"),
            minutes=minutes,
            remaining_minutes=minutes,
            forfeited_minutes=0,
            start_on=start_on,
            expires_on=values.get("expires_on"),
            reference=values.get("reference"),
            paid=paid,
            source=source,
            period_start=period_start,
        )
        # only what differs from the columns' defaults (paid, source "topup", no period): a block sold
        # paid was paid when it was sold (``paid_at`` is set when a block is marked paid later)
        life = {**({} if paid else {"paid": False}), **({} if source == "topup" else {"source": source})}
        if period_start is not None:
            life["period_start"] = period_start
        self.posting.new_blocks.append(
            {
                **values,
                "id": block.id,
                "minutes": minutes,
                "remaining_minutes": minutes,
                "forfeited_minutes": 0,
                **life,
            }
        )
        self._blocks[block.id] = block
        self._set_totals(purchased_minutes=self.totals.purchased_minutes + minutes)
        self._line(line_kind, before, block_id=block.id, note=note)
        self.posting.events.append(BlockSyncDue(block.id))
        return block

    def mark_payment(self, block: LedgerBlock, payment: Payment) -> None:
        """Mark ``block`` paid or unpaid: a ledger line of kind ``paid``/``unpaid`` moving no minutes of
        the account (statements and the audit see it), dated now. Under pay-first this moves the
        usable balance: a block marked paid pays off open overage under ``carry`` (as a top-up would);
        one marked unpaid stops paying for new work (what it already paid for stays)."""
        before = self.figures()
        if payment.paid:
            self._set_block(block, paid=True, paid_at=self.now, paid_by=self.actor)
        else:
            self._set_block(block, paid=False, paid_at=None, paid_by=None)
        if block.id not in self._blocks and block.remaining_minutes > 0:
            self._blocks[block.id] = block
        self._line(payment.kind, before, block_id=block.id, note=payment.note(), minutes=0)
        self.posting.events.append(BlockSyncDue(block.id, marked=True))  # the PSA's paid flag, where it has one
        if payment.paid:
            self.carry_to_started()

    def void_block(self, block: LedgerBlock, live: Sequence[tuple[LiveDraw, LedgerEntry]], note: str) -> None:
        """Cancel a block entered by mistake. Minutes already drawn from it are drawn again from the
        client's other blocks, FIFO, and what no block covers becomes overage. The void takes back what
        was bought ("void_topup", the block's whole size) and, in a line of its own, what of it was
        forfeited (a "forfeit" line giving those minutes back), both dated now."""
        before = self.figures()
        forfeited = block.forfeited_minutes
        self._set_block(block, remaining_minutes=0, voided_at=self.now, voided_by=self.actor)
        self.posting.events.append(BlockSyncDue(block.id))
        self.posting.reversed_draws.extend(d.id for d, _ in live)
        self.posting.reversed_at = self.now
        self._set_totals(
            purchased_minutes=self.totals.purchased_minutes - block.minutes,
            forfeited_minutes=self.totals.forfeited_minutes - forfeited,
        )
        self._blocks.pop(block.id, None)
        for draw, entry in live:
            usable = states(self.drawable_blocks(), self.today, self.policy.grace_days)
            uncovered = self._draw(entry.id, allocate(draw.minutes, usable, self.today, entry.work_date))
            entry.overage_minutes += uncovered
            self._set_entry(entry.id, overage_minutes=entry.overage_minutes)
            self._set_totals(open_overage_minutes=self.totals.open_overage_minutes + uncovered)
        if not forfeited:
            self._line("void_topup", before, block_id=block.id, note=note)
            return
        self._line("void_topup", before, block_id=block.id, note=note, minutes=-block.minutes)
        taken_back = Figures(before.usable, before.account - block.minutes)
        self._line(
            "forfeit",
            taken_back,
            block_id=block.id,
            note=f"{forfeited} min forfeited of block {block.number or block.id} taken back by its void",
            alert=False,
        )

    def settle_overage(self, include_new: bool = False) -> tuple[int, int]:
        """After hours were added back: under ``carry`` the blocks pay off open overage (oldest entry
        first); under ``bill`` open overage becomes its own billable ledger line ("overage_billed").
        ``include_new``: entries this posting logs count too (a refill pays off the entry that called
        for it). Returns (carried, billed)."""
        if self.totals.open_overage_minutes <= 0:
            return 0, 0
        before = self.figures()
        carried = billed = 0
        for entry in self._open_overage(include_new):
            if self.terms.overage_policy == "bill":
                entry.billed_overage_minutes += entry.overage_minutes
                billed += entry.overage_minutes
                entry.overage_minutes = 0
                self._set_entry(entry.id, overage_minutes=0, billed_overage_minutes=entry.billed_overage_minutes)
                continue
            usable = states(self.drawable_blocks(), self.today, self.policy.grace_days)
            still_open = self._draw(entry.id, allocate(entry.overage_minutes, usable, self.today, entry.work_date))
            carried += entry.overage_minutes - still_open
            entry.overage_minutes = still_open
            self._set_entry(entry.id, overage_minutes=still_open)
            if still_open:
                break
        self._set_totals(
            open_overage_minutes=self.totals.open_overage_minutes - carried - billed,
            billed_overage_minutes=self.totals.billed_overage_minutes + billed,
        )
        if billed:
            self._line("overage_billed", before, note=f"{billed} min of overage billed on its own", alert=False)
        self._clear_approvals()
        return carried, billed

    def approve_overage(self, minutes: int) -> int:
        """Lift the client's overage hold by ``minutes`` (an account manager's ``approve``, or the
        client's own button); returns the approved minutes now. Nothing already logged changes."""
        hold = self.terms.hold_limit
        approved = (hold.approved_minutes if hold else 0) + minutes
        self._set_approved(approved)
        return approved

    def _clear_approvals(self) -> None:
        """Once the overage is paid off, approvals of it are spent: the next run into overage starts
        from the hold's own limit again."""
        hold = self.terms.hold_limit
        if hold is not None and hold.approved_minutes and self.totals.open_overage_minutes <= 0:
            self._set_approved(0)

    def _set_approved(self, approved: int) -> None:
        """Store the approved minutes, and hold the rest of this posting to them: an entry whose own
        write paid the overage off is not allowed the approvals that payment spent."""
        self.posting.totals["hold_approved_minutes"] = approved
        hold = self.terms.hold_limit
        if hold is not None:
            self.terms = replace(self.terms, hold_limit=replace(hold, approved_minutes=approved))

    # -- the steps' parts ------------------------------------------------------------------------------
    def _open_overage(self, include_new: bool = False) -> Iterable[LedgerEntry]:
        """The stored entries with open overage, oldest first, as this posting leaves them (one it
        voided or paid off is not among them); with ``include_new``, then the ones it logs."""
        stored = self._overage_entries()
        new = (
            LedgerEntry(r["id"], r["work_date"], r["billable_minutes"], r["overage_minutes"], 0)
            for r in self.posting.new_entries
            if include_new and r.get("voided_at") is None
        )
        for entry in itertools.chain(stored, new):
            changes = self.posting.entries.get(entry.id, {})
            if "voided_at" in changes:
                continue
            entry.overage_minutes = changes.get("overage_minutes", entry.overage_minutes)
            entry.billed_overage_minutes = changes.get("billed_overage_minutes", entry.billed_overage_minutes)
            if entry.overage_minutes > 0:
                yield entry

    def closing_moment(self, block: LedgerBlock) -> datetime:
        """When a forfeit of ``block`` is dated: the end of its closing day in the client's time zone,
        but never before the current month began, so a statement of a month already over (and
        perhaps sent) never changes."""
        assert block.expires_on is not None
        zone = ZoneInfo(self.terms.timezone)
        closing_end = datetime.combine(closing_day(block.expires_on, self.policy.grace_days), time.max, zone)
        month_began = datetime.combine(month_start(self.today), time.min, zone)
        return min(self.now, max(closing_end, month_began)).astimezone(UTC)

    def _forfeit(self, block: LedgerBlock, minutes: int, why: str) -> int:
        before = self.figures()
        self._set_block(
            block,
            remaining_minutes=block.remaining_minutes - minutes,
            forfeited_minutes=block.forfeited_minutes + minutes,
        )
        self._set_totals(forfeited_minutes=self.totals.forfeited_minutes + minutes)
        at = self.closing_moment(block) if why == "expired" else self.now
        line = self._line(
            "forfeit",
            before,
            block_id=block.id,
            note=f"{minutes} min of block {block.number or block.id} {why}",
            at=at,
            alert=False,
        )
        snapshot = LedgerBlock(**vars(block))
        into = self._next_period_block(block) if block.rolled_out_minutes else None
        rolled_into = (into.number or into.id) if into is not None else None
        self.posting.events.append(Forfeited(snapshot, minutes, why, self.balance(), line["id"], rolled_into))
        return minutes

    def _draw(self, entry_id: int, allocation: Allocation) -> int:
        """Store the draws ``allocation`` decided for the entry; returns the overage they left."""
        for part in allocation.draws:
            block = self._blocks[part.block_id]
            self._set_block(block, remaining_minutes=block.remaining_minutes - part.minutes)
            self.posting.new_draws.append(
                {"entry_id": entry_id, "block_id": part.block_id, "minutes": part.minutes, "created_at": self.now}
            )
        return allocation.overage

    def _reverse_draws(self, draws: Iterable[LiveDraw]) -> None:
        """Give drawn minutes back to their blocks. Minutes given back to a block past its closing day
        are never silently kept: ``forfeit_returned`` forfeits them, once the caller has recorded the
        give-back itself."""
        draws = list(draws)
        missing = [d.block_id for d in draws if d.block_id not in self._blocks]
        if missing:
            for block in self._load_blocks(missing):
                self._blocks[block.id] = block
        for draw in draws:
            self.posting.reversed_draws.append(draw.id)
            self.posting.reversed_at = self.now
            block = self._blocks[draw.block_id]
            self._set_block(block, remaining_minutes=block.remaining_minutes + draw.minutes)
            self._returned.append((block, draw.minutes))
            if closed_on(block.expires_on, self.today, self.policy.grace_days):
                self._returned_to_closed.append((block, draw.minutes))

    def _set_block(self, block: LedgerBlock, **changes: Any) -> None:
        for name, value in changes.items():
            if hasattr(block, name):
                setattr(block, name, value)
        if is_provisional(block.id):
            row = next(r for r in self.posting.new_blocks if r["id"] == block.id)
            row.update(changes)
        else:
            self.posting.blocks.setdefault(block.id, {}).update(changes)

    def _set_entry(self, entry_id: int, **changes: Any) -> None:
        if is_provisional(entry_id):
            row = next(r for r in self.posting.new_entries if r["id"] == entry_id)
            row.update(changes)
        else:
            self.posting.entries.setdefault(entry_id, {}).update(changes)

    def _set_totals(self, **changes: Any) -> None:
        for name, value in changes.items():
            setattr(self.totals, name, value)
        self.posting.totals.update(changes)

    def _line(
        self,
        kind: str,
        before: Figures,
        block_id: int | None = None,
        entry_id: int | None = None,
        note: str = "",
        at: datetime | None = None,
        alert: bool = True,
        minutes: int | None = None,
    ) -> dict[str, Any]:
        """Record a change: its minutes are the account balance's move since ``before``, unless the
        change is split over several lines (``minutes`` = this line's part of the move)."""
        after = self.figures()
        moved = after.account - before.account if minutes is None else minutes
        moment = at or self.now
        line: dict[str, Any] = {
            "id": next(self._ids),
            "client_id": self.terms.client_id,
            "at": moment,
            # the statement that shows the line, fixed now: a later time zone never moves it
            "recorded_on": recorded_day(moment, self.terms.timezone, self.terms.records_from),
            "kind": kind,
            "minutes": moved,
            "balance_after": before.account + moved,
            "block_id": block_id,
            "entry_id": entry_id,
            "actor": self.actor,
            "note": note,
        }
        self.posting.lines.append(line)
        if alert:
            self._crossed(before.usable, after.usable, line["id"])
            self._refill(kind, before.usable, after.usable, line["id"])
        return line

    def _refill(self, kind: str, before: int, after: int, line_id: int) -> None:
        """The client's refill policy after a change of the usable balance (``bot.domain.refills``):
        arm it again once the balance is above the refill level (but not by the refill's own posting),
        and on an entry's fall through that level, refill (auto) or offer a draft, once per run-down."""
        policy = self.terms.refill
        if policy is None or policy.mode == "notify" or self._refilled:
            return
        level = refill_level(self.terms.thresholds, self.block_minutes_before)
        if not self.refill_armed and before > level:  # lifted above it since the last refill
            self._arm(True)
        if kind != "entry" or not after <= level < before:
            if not self.refill_armed and after > level:
                self._arm(True)
            return
        this_month = self._refills_this_month() if policy.mode == "auto" and self.refill_armed else 0
        waiting = waiting_block(self.open_blocks(), self.today, self.terms.pay_first)
        decision = decide(replace(policy, armed=self.refill_armed), before, after, level, this_month, waiting)
        if decision is None:
            return
        if decision.action == "draft":
            self.posting.events.append(Refilled(decision, line_id, before, after, self.block_minutes_before, level))
            return
        self._refilled = True
        self._arm(False)
        number = self.next_block_number()
        values = {
            "client_id": self.terms.client_id,
            "number": number,
            "start_on": self.today,
            "expires_on": None,
            "note": decision.rule,
            "sold_by": self.actor,
            "created_at": self.now,
        }
        block = self.add_block(
            values, decision.minutes, self.today, "topup", f"{decision.rule}", paid=decision.paid, source="refill"
        )
        self.settle_overage(include_new=True)
        self.posting.events.append(
            Refilled(decision, line_id, before, after, self.block_minutes_before, level, block.id, number)
        )

    def _arm(self, armed: bool) -> None:
        self.refill_armed = armed
        self._set_totals(refill_armed=armed)

    def _crossed(self, before: int, after: int, line_id: int) -> None:
        """If the balance fell through a threshold: an event (the caller decides whether it is armed)."""
        terms = self.terms
        found = alert_crossing(
            before,
            after,
            tuple(terms.thresholds),
            self.block_minutes_before,
            terms.overdraft_alert_step,
            terms.alerts_snoozed_until,
            self.now,
        )
        if found is not None:
            self.posting.events.append(Crossed(found, before, after, self.block_minutes_before, line_id))
