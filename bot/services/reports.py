"""Statements: what a client bought, used (by technician and by ticket), forfeited and has left over a
period, computed from entries and ledger lines."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.allocation import BlockState, fifo_order
from bot.domain.charges import usable_balance
from bot.domain.dates import Period, add_months
from bot.domain.flatfee import FlatFee, suggest_flat_fee
from bot.domain.forecast import burn_forecast, likely_forfeits
from bot.domain.payments import drawable, unpaid
from bot.domain.roles import Role, require
from bot.services.book import forfeit_due
from bot.services.context import Actor, Context, client_named, grace_days_of
from bot.services.psa_sync import with_sync
from bot.services.queries import block_view, movement_view
from bot.services.results import EntryView, Result
from storage.db import UnitOfWork
from storage.repos import Client, Entry

BOUGHT = ("topup", "renewal", "void_topup")
USED = ("entry", "void")


def statement_facts(uow: UnitOfWork, client: Client, period: Period, ctx: Context | None = None) -> dict[str, Any]:
    """An account statement: the ledger lines recorded in the period, added up by kind.

    Movements count by the day they were recorded (the client's calendar when they were written, kept
    on each line), so late work shows in the statement of the period it was logged in, listed with
    its own work date, and a statement of a month that is over never changes, even when the client's
    time zone does. Opening is the sum of every line before the period, so each
    period opens where the last one closed, and
    opening + bought - used - forfeited + overage billed = closing, by construction. With ``ctx``,
    the hours of the closing balance that are in an expired block's grace period today (``in_grace``)."""
    end = period_end(period, client.timezone)
    figures = statement_totals(uow, client.id, period)
    movements = entry_movements(uow, [client.id], period, {client.id: client.handle})
    by_tech: Counter[str] = Counter()
    by_ticket: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    for m in movements:
        by_tech[m.user_name] += m.billable_minutes
        by_ticket[m.ticket or "(no ticket)"] += m.billable_minutes
        by_type[m.work_type] += m.billable_minutes
    return {
        "client": client.handle,
        "display_name": client.display_name,
        "account_manager": client.account_manager,
        "period": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        **figures,
        "remaining_minutes": figures["closing_minutes"],  # the closing balance (its first name, for scripts)
        "non_billable_minutes": sum(m.minutes for m in movements if m.non_billable),
        # of the period's entries, overage still open or billed on its own at the period's end: what
        # a block paid off, or a void took back, by then is not overage
        "overage_minutes": sum(m.overage_minutes for m in movements),
        "late_minutes": sum(m.billable_minutes for m in movements if m.late),
        "by_technician": sorted(((n, v) for n, v in by_tech.items() if v), key=lambda kv: (-kv[1], kv[0])),
        "by_ticket": sorted(((t, v) for t, v in by_ticket.items() if v), key=lambda kv: (-kv[1], kv[0])),
        "by_work_type": sorted(((t, v) for t, v in by_type.items() if v), key=lambda kv: (-kv[1], kv[0])),
        "entry_count": sum(1 for m in movements if m.movement == "entry"),
        "correction_count": sum(1 for m in movements if m.movement == "void"),
        "late": late_facts(uow, movements, end),
        "in_grace": [] if ctx is None else in_grace_facts(uow, ctx, client, period),
        **({} if ctx is None else unpaid_facts(uow, ctx, client)),
        # hours a recurring allotment carried from one period into the next (no balance moves)
        "rolled_over_minutes": uow.lines.rolled_over(client.id, period.start, period.end),
    }


def statement_totals(uow: UnitOfWork, client_id: int, period: Period) -> dict[str, int]:
    """A statement's figures, from two sums over the ledger lines: the opening (every line before the
    period) and the period's lines by kind; opening + bought - used - forfeited + overage billed =
    closing. The statement (``statement_facts``) and the client's page share them."""
    totals = uow.lines.totals_by_kind(client_id, period.start, period.end)
    opening = uow.lines.balance_before(client_id, period.start)
    bought = sum(int(totals.get(k) or 0) for k in BOUGHT)
    used = -sum(int(totals.get(k) or 0) for k in USED)
    forfeited = -int(totals.get("forfeit") or 0)
    billed = int(totals.get("overage_billed") or 0)
    return {
        "opening_minutes": opening,
        "bought_minutes": bought,
        "used_minutes": used,
        "forfeited_minutes": forfeited,
        "overage_billed_minutes": billed,
        "closing_minutes": opening + bought - used - forfeited + billed,
    }


def unpaid_facts(uow: UnitOfWork, ctx: Context, client: Client) -> dict[str, Any]:
    """Unpaid hours of the closing balance, as of today (like ``in_grace``): the minutes left in
    current unpaid blocks, and the part pay-first holds for payment."""
    figures = unpaid(uow.blocks.open_of([client.id])[client.id], ctx.today(client.timezone), client.pay_first)
    return {"unpaid_minutes": figures.minutes, "held_for_payment_minutes": figures.held}


def in_grace_facts(uow: UnitOfWork, ctx: Context, client: Client, period: Period) -> list[dict[str, Any]]:
    """Blocks expired by the period's end whose hours are, today, still in their grace period: late
    work dated inside the block may draw from them until the closing day, then they are forfeited."""
    today = ctx.today(client.timezone)
    grace = grace_days_of(client, ctx.settings)
    views = [block_view(b, today, grace) for b in uow.blocks.open_of([client.id])[client.id]]
    return [
        {
            "as_of": today.isoformat(),
            "block_id": v.id,
            "block_number": v.number,
            "minutes": v.remaining_minutes,
            "expires_on": v.expires_on.isoformat(),
            "closing_on": v.closing_on.isoformat(),
        }
        for v in sorted(views, key=lambda v: v.id)
        if v.closing_on is not None and v.expires_on is not None and v.expires_on < period.end
    ]


def late_facts(uow: UnitOfWork, movements: list[EntryView], end: datetime) -> list[dict[str, Any]]:
    """Late entries of the period, each with what became of it by the period's end, so an entry an
    edit replaced (or a void took back) in the period is never read as late work that still counts:
    ``replaced_by`` (the correcting entry), ``voided``, ``replaces`` (it is itself a correction).
    A correction made after the period is a movement of its own period, and says so there."""
    late = [m for m in movements if m.late and m.movement == "entry"]
    fates = uow.lines.corrections_of([m.id for m in late], end)
    found = []
    for m in late:
        voided, replaced_by = fates.get(m.id, (False, None))
        found.append(
            {
                "entry_id": m.id,
                "work_date": m.work_date.isoformat(),
                "recorded_on": str(m.recorded_on),
                "minutes": m.billable_minutes,
                "voided": voided,
                "replaced_by": replaced_by,
                "replaces": m.replaces_id,
            }
        )
    return found


def entry_movements(uow: UnitOfWork, client_ids: list[int], period: Period, handles: dict[int, str]) -> list[EntryView]:
    """The entries and voids recorded in the period (by their ledger lines), oldest first: an entry with
    its figures, a void (an edit's too) with them negated, so that the rows add up to the statement."""
    if not client_ids:
        return []
    found: list[EntryView] = []
    zones = uow.lines.timezones(client_ids)
    for client_id in client_ids:
        rows = uow.lines.entry_lines(client_id, USED, period.start, period.end)
        end = period_end(period, zones[client_id])
        covered = uow.lines.covered_at([entry.id for kind, _, entry in rows if kind == "entry"], end)
        for kind, recorded_on, entry in rows:
            overage = overage_at(entry, covered.get(entry.id, 0), end) if kind == "entry" else 0
            found.append(movement_view(entry, handles[client_id], kind, recorded_on, overage))
    return found


def period_end(period: Period, timezone: str) -> datetime:
    """The moment the period ended on the client's clock: a correction or a carry made before it is the
    period's (what became of an entry, what of it was still overage); one made later is its own period's."""
    return datetime.combine(period.end, time.min, ZoneInfo(timezone)).astimezone(UTC)


def overage_at(entry: Entry, covered: int, moment: datetime) -> int:
    """What of ``entry`` was overage at ``moment`` (a period's end): still open, or billed on its own.
    Overage a block paid off before then (a carry draws from it), or that a void took back, is not."""
    if entry.voided_at is not None and entry.voided_at < moment:
        return 0
    return entry.billable_minutes - covered


def has_history_before(uow: UnitOfWork, client_id: int, day: date) -> bool:
    """A client gets statements once its ledger has begun."""
    return uow.lines.any_before(client_id, day)


def client_safe_statement(facts: dict[str, Any]) -> dict[str, Any]:
    """A statement the client may read: its figures, late work and tickets; technicians by first name;
    no account manager."""
    safe = {k: v for k, v in facts.items() if k != "account_manager"}
    first_names: dict[str, int] = {}
    for name, minutes in facts["by_technician"]:
        first = (str(name).split() or ["—"])[0]
        first_names[first] = first_names.get(first, 0) + minutes
    safe["by_technician"] = sorted(first_names.items(), key=lambda kv: (-kv[1], kv[0]))
    return safe


# -- the report: statement, entries, balance history, forecast, flat-fee case -------------------------


@dataclass(frozen=True)
class BalancePoint:
    at: datetime
    balance_minutes: int
    kind: str  # entry, void, topup, renewal, forfeit, void_topup...
    minutes: int


@dataclass(frozen=True)
class ReportResult(Result):
    client: str
    display_name: str
    currency: str
    statement: dict[str, Any]
    entries: list[EntryView]
    history: list[BalancePoint]
    forecast: dict[str, Any]
    flat_fee: dict[str, Any] | None
    flat_fee_text: str | None


@dataclass(frozen=True)
class AllEntriesResult(Result):
    period: str
    entries: list[EntryView]


@dataclass(frozen=True)
class InsightsResult(Result):
    currency: str
    clients: list[dict[str, Any]]


def report(ctx: Context, actor: Actor, handle: str, period: Period) -> ReportResult:
    forfeit_due(ctx)  # the statement and the balance agree on what is forfeited
    with ctx.db.unit_of_work(read_only=True) as uow:
        require(ctx.role(uow, actor), Role.MANAGER, "run reports")
        client = client_named(uow, handle)
        facts = statement_facts(uow, client, period, ctx)
        rows = entry_movements(uow, [client.id], period, {client.id: client.handle})
        history = balance_history(uow, client.id)
        forecast = forecast_facts(uow, ctx, client)
        fee = flat_fee_of(uow, ctx, client)
        currency = ctx.settings.currency
        return ReportResult(
            client=client.handle,
            display_name=client.display_name,
            currency=currency,
            statement=facts,
            entries=with_sync(uow, ctx, rows),
            history=history,
            forecast=forecast,
            flat_fee=None if fee is None else _fee_facts(fee),
            flat_fee_text=None if fee is None else fee.explanation(currency),
        )


def all_entries(ctx: Context, actor: Actor, period: Period) -> AllEntriesResult:
    """Every client's entries in the period, for invoicing."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        require(ctx.role(uow, actor), Role.MANAGER, "run reports")
        handles = uow.lines.handles()
        rows = entry_movements(uow, list(handles), period, handles)
        return AllEntriesResult(period.label, with_sync(uow, ctx, rows))


def balance_history(uow: UnitOfWork, client_id: int, limit: int = 5000) -> list[BalancePoint]:
    """The balance after each ledger line (the latest ``limit`` lines), oldest first."""
    lines = uow.lines.latest(client_id, limit)
    return [BalancePoint(x.at, x.balance_after, x.kind, x.minutes) for x in lines]


def forecast_facts(uow: UnitOfWork, ctx: Context, client: Client) -> dict[str, Any]:
    today = ctx.today(client.timezone)
    blocks = uow.blocks.open_of([client.id])[client.id]
    remaining = usable_balance(drawable(blocks, client.pay_first), client.open_overage_minutes, today)
    used_30 = uow.entries.billable_since(client.id, today - timedelta(days=30))
    used_90 = uow.entries.billable_since(client.id, today - timedelta(days=90))
    forecast = burn_forecast(remaining, used_30, used_90, today)
    numbers = {b.id: b.number for b in blocks}
    usable = fifo_order(BlockState(b.id, b.remaining_minutes, b.start_on, b.expires_on) for b in blocks)
    forfeits = likely_forfeits(usable, forecast.per_day_30 or forecast.per_day_90, today)
    return {
        "today": today.isoformat(),
        "remaining_minutes": remaining,
        "used_30d_minutes": used_30,
        "used_90d_minutes": used_90,
        "burn_per_day_30": str(forecast.per_day_30.quantize(Decimal("0.1"))),
        "burn_per_day_90": str(forecast.per_day_90.quantize(Decimal("0.1"))),
        "run_out_on": forecast.run_out_on.isoformat() if forecast.run_out_on else None,
        "likely_forfeit": [
            {
                "block_id": b.id,
                "block_number": numbers[b.id],
                "expires_on": b.expires_on.isoformat(),
                "minutes": forfeits[b.id],
            }
            for b in usable
            if b.id in forfeits and b.expires_on is not None
        ],
    }


def monthly_usage(uow: UnitOfWork, client: Client, today: date, months: int = 12) -> list[int]:
    """Billable minutes of each complete month since the client was added (at most ``months``), oldest
    first; the month it was added in and the current month are not complete and are left out."""
    this_month = today.replace(day=1)
    begin = add_months(client.created_at.astimezone(ZoneInfo(client.timezone)).date().replace(day=1), 1)
    begin = max(begin, add_months(this_month, -months))
    if begin >= this_month:
        return []
    totals: dict[date, int] = {}
    for work_date, minutes in uow.lines.billable_by_work_date(client.id, begin, this_month):
        key = work_date.replace(day=1)
        totals[key] = totals.get(key, 0) + minutes
    found, month = [], begin
    while month < this_month:
        found.append(totals.get(month, 0))
        month = add_months(month, 1)
    return found


def flat_fee_of(uow: UnitOfWork, ctx: Context, client: Client) -> FlatFee | None:
    today = ctx.today(client.timezone)
    usage = monthly_usage(uow, client, today)
    if not usage:
        return None
    this_month = today.replace(day=1)
    since = add_months(this_month, -len(usage))
    return suggest_flat_fee(
        usage,
        cost_of_hours_used(uow, client.id, since, this_month),
        ctx.settings.hourly_rate,
        ctx.settings.flat_fee_margin,
    )


def cost_of_hours_used(uow: UnitOfWork, client_id: int, start: date, end: date) -> Decimal:
    """What the hours used on work dated in ``[start, end)`` cost at the prices of the blocks they were
    drawn from (a block bought before the window still paid for work inside it)."""
    total = Decimal(0)
    for drawn, price, size in uow.lines.priced_draws(client_id, start, end):
        if size:
            total += Decimal(drawn) * price / size
    return total.quantize(Decimal("0.01"))


def _fee_facts(fee: FlatFee) -> dict[str, Any]:
    return {
        "months": fee.months,
        "average_hours": str(fee.average_hours),
        "peak_hours": str(fee.peak_hours),
        "paid_for_blocks": str(fee.paid_for_blocks),
        "paid_per_month": str(fee.paid_per_month),
        "hourly_rate": str(fee.hourly_rate),
        "margin": str(fee.margin),
        "monthly_fee": str(fee.monthly_fee),
        "steadiness": str(fee.steadiness),
        "score": str(fee.score),
    }


def insights(ctx: Context, actor: Actor, limit: int = 10) -> InsightsResult:
    """Clients for whom a flat-fee offer makes most sense: steady, substantial usage first."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        require(ctx.role(uow, actor), Role.MANAGER, "see insights")
        found: list[tuple[FlatFee, Client]] = []
        for client in uow.clients.all():
            fee = flat_fee_of(uow, ctx, client)
            if fee is not None and fee.average_minutes > 0:
                found.append((fee, client))
        found.sort(key=lambda pair: (-pair[0].score, pair[1].handle))
        return InsightsResult(
            ctx.settings.currency,
            [
                {
                    "client": c.handle,
                    "display_name": c.display_name,
                    **_fee_facts(f),
                    "explanation": f.explanation(ctx.settings.currency),
                }
                for f, c in found[:limit]
            ],
        )
