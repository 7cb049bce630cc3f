"""One client's ledger inside one write transaction: ``ClientBook`` reads what the aggregate
(``bot.domain.client_ledger.ClientLedger``) needs, lets it decide every change of hours, has the one
writer (``storage.postings``) store its posting, and turns the posting's events into outbox rows
(alerts, the PSA's sync), all through the unit of work's repositories. The caller holds the client's
row lock (``locked_client``); because all of it is one transaction, the running figures can never
disagree with the rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol, cast

from bot.domain import notices
from bot.domain.allocation import closed_on
from bot.domain.allotments import Allotment
from bot.domain.charges import EntryPlan, Policy
from bot.domain.client_ledger import (
    BlockSyncDue,
    ClientLedger,
    Crossed,
    Forfeited,
    LedgerBlock,
    LedgerEntry,
    LiveDraw,
    Refilled,
    SyncDue,
    Terms,
    Totals,
)
from bot.domain.commands import Command, LogTime, fingerprint
from bot.domain.errors import NotFound
from bot.domain.holds import HoldLimit, hold_limit
from bot.domain.refills import month_began, refill_facts
from bot.domain.refills import policy_of as refill_policy_of
from bot.domain.thresholds import Crossing, Threshold
from bot.domain.worktypes import STANDARD
from bot.services import alerts
from bot.services.context import Actor, Context, policy_of
from bot.services.psa_blocks import queue_block
from bot.services.psa_followup import queue_followup
from bot.services.psa_sync import queue_chain_sync
from storage import postings
from storage.bare import BareUnitOfWork
from storage.db import UnitOfWork
from storage.postings import Ids
from storage.repos import Block, Client

__all__ = [
    "SYSTEM",
    "ClientBook",
    "forfeit_due",
    "ledger_block",
    "ledger_entry",
    "locked_client",
    "new_entry_values",
]


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
    """The columns of a new entry but its figures of minutes, which the ledger sets
    (``ClientLedger.log``). ``author`` is (user id, name). ``request`` is what the
    keyed request asked for, when that is not ``command`` itself (an edit). ``chain`` is an edit's
    (first entry of its chain, the PSA record's id)."""
    return {
        "client_id": client_id,
        "user_id": author[0],
        "user_name": author[1],
        "typed": command.typed,
        "minutes": command.minutes,
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


def locked_client(uow: UnitOfWork, client_id: int) -> Client:
    """The client's row, locked for this transaction: writers of one client queue here (``SELECT ... FOR
    UPDATE`` on PostgreSQL; SQLite holds the database's write lock already). Re-read, so running
    figures are current."""
    client = uow.clients.locked(client_id)
    if client is None:  # pragma: no cover - ids come from a lookup in the same transaction
        raise NotFound(f"Client {client_id} no longer exists.")
    return client


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
        candidates = uow.blocks.clients_expiring_by(ctx.today() + timedelta(days=2))
        blocks = uow.blocks.open_of(candidates)
        clients = uow.clients.by_ids(candidates)
        due = []
        for client_id in candidates:
            client = clients[client_id]
            today, grace = ctx.today(client.timezone), policy_of(client, ctx.settings).grace_days
            if any(closed_on(b.expires_on, today, grace) for b in blocks[client_id]):
                due.append(client_id)
    forfeited: list[tuple[str, int]] = []
    for client_id in due:
        with ctx.db.unit_of_work() as uow:
            client = locked_client(uow, client_id)
            minutes = ClientBook(uow, ctx, client, actor).expire_due()
            uow.commit()
            if minutes:
                forfeited.append((client.handle, minutes))
    return forfeited


def allotment_of(client: Client) -> Allotment | None:
    """The client's recurring allotment, as the ledger reads it (None: none)."""
    if not client.recurring_period or not client.recurring_minutes:
        return None
    return Allotment(
        client.recurring_period, client.recurring_minutes, client.rollover_minutes or 0, client.recurring_last_start
    )


def ledger_block(row: postings.BlockRow | Block) -> LedgerBlock:
    """A block as the ledger holds it, from a row the ledger read or a block's stored row."""
    return LedgerBlock(
        row.id,
        row.number,
        row.minutes,
        row.remaining_minutes,
        row.forfeited_minutes,
        row.start_on,
        row.expires_on,
        row.reference,
        paid=row.paid,
        source=row.source,
        psa_id=row.psa_id,
        period_start=row.period_start,
        rolled_in_minutes=row.rolled_in_minutes,
        rolled_out_minutes=row.rolled_out_minutes,
    )


def hold_of(uow: UnitOfWork, client: Client) -> HoldLimit | None:
    """The client's overage hold (``bot.domain.holds``). A percentage is of the client's last block
    (the newest not voided): only then are its blocks read."""
    last = 0
    if client.hold_at_minutes is None and client.hold_at_percent is not None:
        last = next((b.minutes for b in uow.blocks.of_client(client.id) if b.voided_at is None), 0)
    return hold_limit(client.hold_at_minutes, client.hold_at_percent, client.hold_approved_minutes or 0, last)


class EntryFigures(Protocol):
    """An entry's figures as the ledger reads them (a stored row, or an ORM entry)."""

    @property
    def id(self) -> int: ...
    @property
    def work_date(self) -> date: ...
    @property
    def billable_minutes(self) -> int: ...
    @property
    def overage_minutes(self) -> int: ...
    @property
    def billed_overage_minutes(self) -> int: ...


def ledger_entry(row: EntryFigures, draws: Sequence[postings.DrawRow] = ()) -> LedgerEntry:
    return LedgerEntry(
        row.id,
        row.work_date,
        row.billable_minutes,
        row.overage_minutes,
        row.billed_overage_minutes,
        tuple(LiveDraw(d.id, d.block_id, d.minutes) for d in draws),
    )


class ClientBook:
    """The client's ledger (``ClientLedger``) in ``uow``'s transaction. Changes are recorded in the
    ledger's posting; ``save`` stores it and queues what its events call for."""

    def __init__(self, uow: UnitOfWork | BareUnitOfWork, ctx: Context, client: Client, actor: Actor) -> None:
        # a bare unit of work stands in for a full one: what it lacks raises NotHere (storage.bare)
        self.uow = cast(UnitOfWork, uow)
        self.ctx = ctx
        self.client = client
        self.actor = actor
        self.now: datetime = ctx.now()
        self.today: date = ctx.today(client.timezone)
        settings = ctx.settings
        terms = Terms(
            client.id,
            client.timezone,
            client.records_from,
            policy_of(client, settings),
            client.overage_policy,
            alerts.thresholds_of(client.thresholds, settings),
            settings.overdraft_alert_step_minutes,
            client.alerts_snoozed_until,
            pay_first=client.pay_first,
            recurring=allotment_of(client),
            refill=refill_policy_of(
                client.refill_mode, client.refill_minutes, client.refill_paid, client.refill_cap, client.refill_armed
            ),
            hold_limit=hold_of(self.uow, client),
        )
        totals = Totals(
            client.purchased_minutes,
            client.used_minutes,
            client.forfeited_minutes,
            client.open_overage_minutes,
            client.billed_overage_minutes,
            client.last_entry_id,
        )
        ledger = self.uow.ledger
        self.ledger = ClientLedger(
            terms,
            totals,
            (ledger_block(r) for r in ledger.blocks(client.id, self.today)),
            today=self.today,
            now=self.now,
            actor=actor.user_id,
            load_blocks=lambda ids: (ledger_block(r) for r in ledger.blocks_by_id(ids)),
            overage_entries=lambda: (ledger_entry(r) for r in ledger.overage_entries(client.id)),
            last_block_number=lambda: self.uow.blocks.last_number(client.id),
            # read only when an entry calls for a refill: a bare unit of work hands such a change over
            refills_this_month=lambda: self.uow.blocks.refills_since(client.id, month_began(self.now, client.timezone)),
        )
        # what the stored postings refilled (a block added, with its stored id, or a draft offered): the
        # entry's reply says so from the event itself, never by working it out again
        self.refills: list[Refilled] = []

    # -- reading (the ledger's figures) -------------------------------------------------------------
    @property
    def policy(self) -> Policy:
        return self.ledger.policy

    def open_blocks(self) -> list[LedgerBlock]:
        return self.ledger.open_blocks()

    def block_minutes(self) -> int:
        return self.ledger.block_minutes()

    def balance(self) -> int:
        return self.ledger.balance()

    # -- changes ------------------------------------------------------------------------------------
    def catch_up(self) -> None:
        self.ledger.catch_up()

    def catch_up_stored(self) -> None:
        """Catch up and store it at once, for a change that reads rows the catch-up may change: an
        entry to take back whose open overage a block (an allotment granted, a block that started) just
        paid off by a carry reads its new draws and figures from storage."""
        self.ledger.catch_up()
        if self.ledger.posting:
            self.save()

    def expire_due(self, cause: str | None = None) -> int:
        """Forfeit what closed (``ClientLedger.expire_due``) and store it; a recurring allotment's due
        periods are granted and rolled over first, so a closed period's hours roll over before any
        forfeit (``ClientLedger.renew_allotments``)."""
        self.ledger.renew_allotments()
        minutes = self.ledger.expire_due(cause)
        self.save()
        return minutes

    def settle_overage(self) -> tuple[int, int]:
        return self.ledger.settle_overage()

    def forfeit_returned(self) -> None:
        self.ledger.forfeit_returned()

    def save(self) -> Ids:
        """Store the ledger's posting (``storage.postings``) and queue what its events call for: an
        armed threshold's alert, a forfeit's notice, the PSA's sync of a changed entry."""
        posting = self.ledger.posting
        if any(isinstance(event, Crossed | Forfeited | Refilled) for event in posting.events):
            alerts.can_queue(self.uow)  # else NotHere, before anything is written
        ids = self.uow.ledger.save(posting)
        self.ledger.stored(ids)
        refills = {event.line_id: event for event in posting.events if isinstance(event, Refilled)}
        self.refills.extend(replace(event, block_id=ids(event.block_id)) for event in refills.values())
        for event in posting.events:
            if isinstance(event, Crossed):
                self._alert(event, ids(event.line_id) or 0, refills.pop(event.line_id, None))
            elif isinstance(event, Forfeited):
                self._forfeit_notice(event, ids(event.block.id) or 0, ids(event.line_id) or 0)
            elif isinstance(event, SyncDue):
                queue_chain_sync(self.uow, self.ctx, self.client.id, ids(event.chain_root) or 0)
            elif isinstance(event, BlockSyncDue):
                queue_block(self.uow, self.ctx, self.client, ids(event.block_id) or 0, again=event.marked)
        for refill in refills.values():  # no crossing alert (snoozed): a refill is said all the same
            level = Threshold(minutes=refill.level)
            crossing = Crossing(level, refill.level, refill.before, refill.after)
            crossed = Crossed(crossing, refill.before, refill.after, refill.block_minutes, refill.line_id)
            self._alert(crossed, ids(refill.line_id) or 0, refill)
        return ids

    def _forfeit_notice(self, event: Forfeited, block_id: int, line_id: int) -> None:
        block, client = event.block, self.client
        notice = notices.BlockForfeited(
            client=client.handle,
            display_name=client.display_name,
            account_manager=client.account_manager,
            block_id=block_id,
            block_number=block.number,
            block_minutes=block.minutes,
            forfeited_minutes=event.minutes,
            expires_on=str(block.expires_on),
            reason=event.reason,
            remaining_minutes=event.usable_after,
            reference=block.reference,
            rolled_over_minutes=block.rolled_out_minutes,
            rolled_into_block=event.rolled_into,
        )
        alerts.queue(self.uow, self.ctx, notice, client, f"forfeit:{block_id}:{line_id}")

    def _alert(self, event: Crossed, line_id: int, refill: Refilled | None = None) -> None:
        """A fall through a threshold: the alert, when the threshold is armed (``alerts.armed``), or
        whenever it carries a refill (a block added, or a draft to confirm: a capped auto refill is
        never swallowed)."""
        client, ctx, found = self.client, self.ctx, event.crossing
        if refill is None and not alerts.armed(
            self.uow, ctx.settings, client.id, found.threshold.label, found.level, self.now
        ):
            return
        facts = alerts.balance_facts(self.uow, client, event.after, event.block_minutes, self.today, self.open_blocks())
        crossing = {"threshold": found.threshold.label, "at": self.now.isoformat()}
        extra = refill_facts(refill.decision, refill.block_number, line_id) if refill is not None else {}
        notice = notices.ThresholdCrossed.from_json(
            {**facts, **crossing, "level_minutes": found.level, "before_minutes": event.before, **extra}
        )
        key = f"threshold:{client.id}:{line_id}"
        alerts.queue(self.uow, ctx, notice, client, key)
        # the PSA's follow-up of the same crossing: a block a refill added is said instead of asking for a sale
        added = None
        if refill is not None and refill.added:
            added = {"minutes": refill.decision.minutes, "paid": refill.decision.paid, "rule": refill.decision.rule}
        queue_followup(self.uow, ctx, client, notice.to_json(), key, refill=added)
