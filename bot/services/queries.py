"""Read-side use cases: balance (one client or all), blocks, entries. Each reads the client's running
figures and its few open blocks, plus indexed slices of entries, so the cost does not grow with the
length of the history."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.allocation import BlockState, closing_day, in_grace
from bot.domain.charges import current_block_minutes, is_waiting, usable_balance, waiting
from bot.domain.commands import Balance, Blocks, Entries
from bot.domain.dates import Period, add_months, month_start
from bot.domain.durations import elapsed_minutes, format_duration
from bot.domain.errors import PermissionDenied, Refused
from bot.domain.forecast import burn_forecast, likely_forfeits
from bot.domain.holds import client_approval_offer
from bot.domain.notices import UnpaidBlock
from bot.domain.payments import drawable, unpaid
from bot.domain.roles import Role, check_void_entry
from bot.domain.worktypes import plain
from bot.services.book import forfeit_due, hold_of
from bot.services.context import Actor, Context, client_named, grace_days_of, used_up_since
from bot.services.overage import approval_value, client_approved
from bot.services.payments import unpaid_blocks
from bot.services.psa_blocks import failed_block_reasons
from bot.services.psa_blocks import with_psa as with_block_psa
from bot.services.psa_sync import with_sync
from bot.services.results import BalanceView, BlockView, CardEntry, ClientCard, EntryView
from storage.db import UnitOfWork
from storage.repos import Block, Client, Entry

LAST_ENTRIES = 5


def block_view(block: Block, today: date, grace_days: int) -> BlockView:
    """A block as the ledger holds it. A forfeit is shown once it is recorded: the reads record what
    is due first (``bot.services.book.forfeit_due``)."""
    grace = block.voided_at is None and block.remaining_minutes > 0 and in_grace(block.expires_on, today, grace_days)
    return BlockView(
        id=block.id,
        minutes=block.minutes,
        remaining_minutes=block.remaining_minutes,
        forfeited_minutes=block.forfeited_minutes,
        drawn_minutes=block.drawn_minutes,
        start_on=block.start_on,
        expires_on=block.expires_on,
        price=block.price,
        currency=block.currency,
        reference=block.reference,
        renew_months=block.renew_months,
        voided=block.voided_at is not None,
        expired=block.expires_on is not None and today > block.expires_on,
        closing_on=closing_day(block.expires_on, grace_days) if grace and block.expires_on else None,
        renewal_of_id=block.renewal_of_id,
        number=block.number,
        waiting=block.voided_at is None and is_waiting(block, today),
        paid=block.paid,
        paid_at=block.paid_at or (block.created_at if block.paid else None),  # sold paid: paid when sold
        source=block.source,
        period_start=block.period_start,
        rolled_in_minutes=block.rolled_in_minutes,
        rolled_out_minutes=block.rolled_out_minutes,
    )


def entry_view(entry: Entry, handle: str) -> EntryView:
    return EntryView(
        id=entry.id,
        client=handle,
        user_id=entry.user_id,
        user_name=entry.user_name,
        minutes=entry.minutes,
        typed=entry.typed,
        billable_minutes=entry.billable_minutes,
        overage_minutes=entry.overage_minutes + entry.billed_overage_minutes,
        non_billable=entry.non_billable,
        work_date=entry.work_date,
        note=entry.note,
        ticket=entry.ticket,
        source=entry.source,
        created_at=entry.created_at,
        voided=entry.voided_at is not None,
        work_type=entry.work_type,
        multiplier=plain(entry.multiplier),
        started_at=entry.started_at,
        replaces_id=entry.replaces_id,
    )


def movement_view(entry: Entry, handle: str, kind: str, recorded_on: date, overage: int) -> EntryView:
    """An entry as a statement line: logged (``entry``) or taken back (``void``, figures negated),
    with the day it was recorded (work dated before it is late) and the figures it had at the
    period's end, so a statement never changes: a later void is a movement of its own, not a flag on
    this one. ``overage`` is what of it was still open or billed on its own at the period's end."""
    sign = -1 if kind == "void" else 1
    return replace(
        entry_view(entry, handle),
        minutes=sign * entry.minutes,
        billable_minutes=sign * entry.billable_minutes,
        overage_minutes=overage,
        voided=False,
        movement=kind,
        recorded_on=recorded_on,
    )


def balance_view(
    ctx: Context,
    client: Client,
    open_blocks: list[Block],
    used_this_month: int,
    last_entries: list[Entry] | None = None,
) -> BalanceView:
    today = ctx.today(client.timezone)
    grace = grace_days_of(client, ctx.settings)
    views = [block_view(b, today, grace) for b in sorted(open_blocks, key=lambda b: b.id) if b.remaining_minutes > 0]
    later = waiting(open_blocks, today)
    usable = drawable(open_blocks, client.pay_first)
    unpaid_figures = unpaid(open_blocks, today, client.pay_first)
    return BalanceView(
        client=client.handle,
        display_name=client.display_name,
        remaining_minutes=usable_balance(usable, client.open_overage_minutes, today),
        purchased_minutes=client.purchased_minutes,
        used_minutes=client.used_minutes,
        forfeited_minutes=client.forfeited_minutes,
        overage_minutes=client.open_overage_minutes,
        billed_overage_minutes=client.billed_overage_minutes,
        current_block_minutes=current_block_minutes(usable, today),
        used_this_month_minutes=used_this_month,
        archived=client.archived,
        in_grace_minutes=sum(v.remaining_minutes for v in views if v.closing_on is not None),
        waiting_minutes=later.minutes,
        waiting_starts_on=later.starts_on,
        waiting=later.words(),
        blocks=views,
        last_entries=[entry_view(e, client.handle) for e in last_entries or []],
        unpaid_minutes=unpaid_figures.minutes,
        held_for_payment_minutes=unpaid_figures.held,
        pay_first=client.pay_first,
    )


def balance(ctx: Context, actor: Actor, command: Balance, client_id: int | None = None) -> list[BalanceView]:
    """One client's balance (by handle, or by id for a linked channel), or every active client's,
    lowest first."""
    forfeit_due(ctx)
    with ctx.db.unit_of_work(read_only=True) as uow:
        if command.client is not None:
            client: Client | None = client_named(uow, command.client)
        elif client_id is not None:
            client = uow.clients.by_id(client_id)
        else:
            return all_balances(uow, ctx)
        assert client is not None
        return [balance_of(uow, ctx, client)]


def balance_of(uow: UnitOfWork, ctx: Context, client: Client) -> BalanceView:
    """One client's balance in an open unit of work (``balance``, the client card, the client's page)."""
    today = ctx.today(client.timezone)
    start = month_start(today)
    used = uow.entries.used_between([client.id], start, add_months(start, 1)).get(client.id, 0)
    last = uow.entries.latest(client.id, LAST_ENTRIES)
    return balance_view(ctx, client, uow.blocks.open_of([client.id], used_up_since(ctx))[client.id], used, last)


def all_balances(
    uow: UnitOfWork, ctx: Context, include_archived: bool = False, with_last_entry: bool = False
) -> list[BalanceView]:
    """Every client's balance in a fixed number of queries whatever the number of clients, lowest
    first. ``with_last_entry`` adds each client's latest entry (the dashboard)."""
    clients = uow.clients.all(include_archived)
    ids = [c.id for c in clients]
    blocks = uow.blocks.open_of(ids, used_up_since(ctx))
    start = month_start(ctx.today())
    used = uow.entries.used_between(ids, start, add_months(start, 1))
    last: dict[int, Entry] = {}
    if with_last_entry:
        wanted = [c.last_entry_id for c in clients if c.last_entry_id is not None]
        last = {e.client_id: e for e in uow.entries.by_ids(wanted)}
    views = [
        balance_view(ctx, c, blocks[c.id], used.get(c.id, 0), [last[c.id]] if c.id in last else None) for c in clients
    ]
    return sorted(views, key=lambda v: (v.remaining_minutes, v.percent_left or 0, v.client))


@dataclass(frozen=True)
class Attention:
    client: str
    display_name: str
    reason: str


@dataclass(frozen=True)
class Dashboard:
    balances: list[BalanceView]
    attention: list[Attention]
    unpaid: list[UnpaidBlock] = field(default_factory=list)  # blocks waiting for payment (Mark paid)


ATTENTION_DAYS = 14


def dashboard(ctx: Context) -> Dashboard:
    """The App Home: every active client, lowest first, each with its latest entry; and the clients
    that need attention (overdrawn, running out within 14 days, hours about to be forfeited)."""
    forfeit_due(ctx)
    with ctx.db.unit_of_work(read_only=True) as uow:
        balances = all_balances(uow, ctx, with_last_entry=True)
        today = ctx.today()
        usage = uow.clients.usage_by_handle(today)
        not_in_psa = failed_block_reasons(uow, ctx)  # issue 26: blocks the PSA refused
        unpaid = unpaid_blocks(uow)
    attention: list[Attention] = []
    for view in balances:
        used_30, used_90 = usage.get(view.client, (0, 0))
        forecast = burn_forecast(view.remaining_minutes, used_30, used_90, today)
        if view.purchased_minutes == 0:  # no run-out date to speak of
            if view.remaining_minutes < 0:
                overdrawn = f"No hours bought: overdrawn by {format_duration(-view.remaining_minutes)}"
                attention.append(Attention(view.client, view.display_name, overdrawn))
        elif view.remaining_minutes < 0:
            attention.append(
                Attention(view.client, view.display_name, f"overdrawn by {format_duration(-view.remaining_minutes)}")
            )
        elif view.remaining_minutes == 0:  # already out: no run-out to forecast
            attention.append(Attention(view.client, view.display_name, "hours used up"))
        elif forecast.run_out_on is not None and forecast.run_out_on <= today + timedelta(days=ATTENTION_DAYS):
            attention.append(
                Attention(view.client, view.display_name, f"runs out around {forecast.run_out_on} at the current pace")
            )
        current = [
            BlockState(b.id, b.remaining_minutes, b.start_on, b.expires_on) for b in view.blocks if not b.expired
        ]
        forfeits = likely_forfeits(current, forecast.per_day_30 or forecast.per_day_90, today)
        for block in view.blocks:
            soon = block.expires_on is not None and block.expires_on <= today + timedelta(days=30)
            if block.id in forfeits and soon:
                attention.append(
                    Attention(
                        view.client,
                        view.display_name,
                        f"{format_duration(forfeits[block.id])} likely forfeited when block "
                        f"{block.number or block.id} expires on {block.expires_on}",
                    )
                )
    names = {view.client: view.display_name for view in balances}
    attention += [Attention(handle, names.get(handle, handle), reason) for handle, reason in not_in_psa]
    return Dashboard(balances, attention, unpaid)


def blocks(ctx: Context, actor: Actor, command: Blocks) -> tuple[BalanceView, list[BlockView]]:
    """All of a client's blocks, newest first, voided and used-up ones included."""
    forfeit_due(ctx)
    with ctx.db.unit_of_work(read_only=True) as uow:
        client = client_named(uow, command.client)
        today = ctx.today(client.timezone)
        rows = uow.blocks.of_client(client.id)
        grace = grace_days_of(client, ctx.settings)
        views = with_block_psa(uow, [block_view(b, today, grace) for b in rows], rows)
        return balance_of(uow, ctx, client), views


def entries(ctx: Context, actor: Actor, command: Entries) -> tuple[str, str, Period, list[EntryView]]:
    """A client's entries with a work date in the period, oldest first, voided ones flagged."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        client = client_named(uow, command.client)
        rows = uow.entries.in_period(client.id, command.period.start, command.period.end)
        views = with_sync(uow, ctx, [entry_view(e, client.handle) for e in rows], rows)
        return client.handle, client.display_name, command.period, views


CARD_ENTRIES = 5


def client_card(ctx: Context, actor: Actor, command: Balance, link_client_id: int | None, role: Role) -> ClientCard:
    """The client-safe card. Staff post it with ``/balance public`` in the client's linked channel; a
    client contact sees it with ``/balance`` there when the client allows it (``client-view on``).
    Anywhere else, it is refused: a channel linked to one client never shows another."""
    forfeit_due(ctx)
    with ctx.db.unit_of_work(read_only=True) as uow:
        client = uow.clients.by_id(link_client_id) if link_client_id is not None else None
        if role is Role.CLIENT and (client is None or not client.client_view):
            raise PermissionDenied("For your hours, ask your account manager.")
        if client is None:
            raise Refused(
                "The client card is posted in a channel linked to the client: run `/balance public` there "
                "(an admin links it with `/blocktime link acme`)."
            )
        if command.client is not None and client_named(uow, command.client).id != client.id:
            if role is Role.CLIENT:
                raise PermissionDenied("For your hours, ask your account manager.")
            raise Refused(f"This channel is linked to {client.display_name}: its card is the only one posted here.")
        view = balance_of(uow, ctx, client)
        today = ctx.today(client.timezone)
        expiring = [
            {"minutes": b.remaining_minutes, "expires_on": b.expires_on}
            for b in sorted(view.blocks, key=lambda b: (b.expires_on or date.max, b.id))
            if b.expires_on is not None and b.remaining_minutes > 0 and b.expires_on >= today
        ]
        last = [
            CardEntry(
                work_date=e.work_date,
                minutes=e.billable_minutes,
                ticket=e.ticket,
                first_name=(e.user_name.split() or ["—"])[0],
                note=e.note if client.client_notes else None,
            )
            for e in view.last_entries[:CARD_ENTRIES]
        ]
        approve = _client_approval(uow, client, view.remaining_minutes, view.held_for_payment_minutes)
        return ClientCard(
            client=client.handle,
            display_name=client.display_name,
            remaining_minutes=view.remaining_minutes,
            percent_left=view.percent_left,
            expiring=expiring,
            used_this_month_minutes=view.used_this_month_minutes,
            last_entries=last,
            approve_minutes=approve[0] if approve else None,
            approve_value=approve[1] if approve else None,
        )


def _client_approval(uow: UnitOfWork, client: Client, usable: int, held_for_payment: int) -> tuple[int, str] | None:
    """What the card offers the client to approve (``bot.domain.holds.client_approval_offer``: the
    hold's own size, once, when no usable hours are left and none are held for payment; the client's
    own approvals at most one hold-size a run into overage)."""
    hold = hold_of(uow, client) if client.client_approves else None
    by_client = client_approved(uow, client.id, hold.approved_minutes) if hold is not None else 0
    minutes = client_approval_offer(hold, client.client_approves, usable, held_for_payment, by_client)
    if hold is None or minutes is None:
        return None
    return minutes, approval_value(client.id, minutes, hold.approved_minutes, client.open_overage_minutes or 0)


@dataclass(frozen=True)
class RunningTimer:
    client: str
    display_name: str
    note: str
    started_at: datetime
    since: str  # the start on the client's clock, "09:12"
    minutes: int


@dataclass(frozen=True)
class MyDay:
    """One person's part of the Home tab: their running timer, their entries logged today (workspace
    calendar), and the clients they logged time for lately (first in the Log time form)."""

    timer: RunningTimer | None
    entries_today: list[EntryView]
    recent_clients: list[str]
    count_today: int = 0  # every entry logged today: the list shows the newest TODAY_SHOWN
    minutes_today: int = 0  # billable minutes of all of them


RECENT_CLIENTS = 5
TODAY_SHOWN = 10


def my_day(ctx: Context, user_id: str) -> MyDay:
    zone = ZoneInfo(ctx.settings.timezone)
    start = datetime.combine(ctx.today(), datetime.min.time(), zone)
    with ctx.db.unit_of_work(read_only=True) as uow:
        running = uow.timers.with_client(user_id)
        timer = None
        if running is not None:
            row, client = running
            timer = RunningTimer(
                client.handle,
                client.display_name,
                row.note,
                row.started_at,
                f"{row.started_at.astimezone(ZoneInfo(client.timezone)):%H:%M}",
                elapsed_minutes(row.started_at, ctx.now()),
            )
        today = uow.entries.logged_since(user_id, start, TODAY_SHOWN)
        recent = uow.entries.recent_client_handles(user_id, RECENT_CLIENTS)
        count, minutes = uow.entries.logged_since_totals(user_id, start)
        views = with_sync(uow, ctx, [entry_view(e, h) for e, h in today], [e for e, _ in today])
        return MyDay(timer, views, recent, count, minutes)


def recent_clients(ctx: Context, user_id: str) -> list[str]:
    """The active clients ``user_id`` logged time for lately, most recent first (first in the forms)."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        return uow.entries.recent_client_handles(user_id, RECENT_CLIENTS)


def entry_of(ctx: Context, actor: Actor, entry_id: int) -> EntryView:
    """One live entry, to edit: whoever may edit it (``check_void_entry``, as ``hours.edit_entry``)."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        entry = uow.entries.get(entry_id)
        if entry is None or entry.voided_at is not None:
            raise Refused(f"Entry #{entry_id} is gone (voided or replaced); there is nothing to edit.")
        # the same rule as the edit itself, so the form opens only for an edit that will be allowed
        check_void_entry(ctx.role(uow, actor), actor.user_id, entry.user_id, entry.created_at, ctx.now(), "edit")
        client = uow.clients.by_id(entry.client_id)
        assert client is not None
        return entry_view(entry, client.handle)
