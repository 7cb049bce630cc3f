"""Statements: what a client bought, used (by technician and by ticket), forfeited and has left over a
period, computed from entries and ledger lines."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.allocation import BlockState, fifo_order
from bot.domain.dates import Period, add_months
from bot.domain.flatfee import FlatFee, suggest_flat_fee
from bot.domain.forecast import burn_forecast, likely_forfeits
from bot.domain.roles import Role, require
from bot.services.alerts import used_since
from bot.services.book import current_balance
from bot.services.context import Actor, Context, find_client
from bot.services.queries import entry_view
from bot.services.results import EntryView, Result
from storage.models import Block, Client, Entry, LedgerLine


def period_bounds(period: Period, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    start = datetime.combine(period.start, time.min, zone).astimezone(UTC)
    end = datetime.combine(period.end, time.min, zone).astimezone(UTC)
    return start, end


def balance_at(session: Session, client_id: int, moment: datetime) -> int:
    """The balance after the last ledger line before ``moment`` (0 before any)."""
    value = session.scalar(
        select(LedgerLine.balance_after)
        .where(LedgerLine.client_id == client_id, LedgerLine.at < moment)
        .order_by(LedgerLine.id.desc())
        .limit(1)
    )
    return int(value or 0)


def statement_facts(session: Session, client: Client, period: Period) -> dict[str, Any]:
    start, end = period_bounds(period, client.timezone)
    entries = list(
        session.scalars(
            select(Entry)
            .where(
                Entry.client_id == client.id,
                Entry.work_date >= period.start,
                Entry.work_date < period.end,
                Entry.voided_at.is_(None),
            )
            .order_by(Entry.work_date, Entry.id)
        )
    )
    by_tech: Counter[str] = Counter()
    by_ticket: Counter[str] = Counter()
    for e in entries:
        by_tech[e.user_name] += e.billable_minutes
        by_ticket[e.ticket or "(no ticket)"] += e.billable_minutes
    bought = session.scalar(
        select(func.coalesce(func.sum(Block.minutes), 0)).where(
            Block.client_id == client.id,
            Block.voided_at.is_(None),
            Block.start_on >= period.start,
            Block.start_on < period.end,
        )
    )
    forfeited = session.scalar(
        select(func.coalesce(func.sum(-LedgerLine.minutes), 0)).where(
            LedgerLine.client_id == client.id, LedgerLine.kind == "forfeit", LedgerLine.at >= start, LedgerLine.at < end
        )
    )
    return {
        "client": client.handle,
        "display_name": client.display_name,
        "account_manager": client.account_manager,
        "period": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "bought_minutes": int(bought or 0),
        "used_minutes": sum(e.billable_minutes for e in entries),
        "non_billable_minutes": sum(e.minutes for e in entries if e.non_billable),
        "forfeited_minutes": int(forfeited or 0),
        "overage_minutes": sum(e.overage_minutes + e.billed_overage_minutes for e in entries),
        "remaining_minutes": balance_at(session, client.id, end),
        "opening_minutes": balance_at(session, client.id, start),
        "by_technician": sorted(by_tech.items(), key=lambda kv: (-kv[1], kv[0])),
        "by_ticket": sorted(by_ticket.items(), key=lambda kv: (-kv[1], kv[0])),
        "entry_count": len(entries),
    }


def has_history_before(session: Session, client_id: int, moment: datetime) -> bool:
    """A client gets statements once its ledger has begun."""
    found = session.scalar(
        select(LedgerLine.id).where(LedgerLine.client_id == client_id, LedgerLine.at < moment).limit(1)
    )
    return found is not None


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
    with ctx.db.unit_of_work(read_only=True) as uow:
        session = uow.session
        require(ctx.role_of(session, actor), Role.MANAGER, "run reports")
        client = find_client(session, handle)
        facts = statement_facts(session, client, period)
        rows = _period_entries(session, [client.id], period)
        history = balance_history(session, client.id)
        forecast = forecast_facts(session, ctx, client)
        fee = flat_fee_of(session, ctx, client)
        currency = _currency(session, client.id, ctx.settings.currency)
        return ReportResult(
            client=client.handle,
            display_name=client.display_name,
            currency=currency,
            statement=facts,
            entries=[entry_view(e, client.handle) for e in rows],
            history=history,
            forecast=forecast,
            flat_fee=None if fee is None else _fee_facts(fee),
            flat_fee_text=None if fee is None else fee.explanation(currency),
        )


def all_entries(ctx: Context, actor: Actor, period: Period) -> AllEntriesResult:
    """Every client's entries in the period, for invoicing."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        session = uow.session
        require(ctx.role_of(session, actor), Role.MANAGER, "run reports")
        handles: dict[int, str] = dict(session.execute(select(Client.id, Client.handle)).all())
        rows = _period_entries(session, list(handles), period)
        return AllEntriesResult(period.label, [entry_view(e, handles[e.client_id]) for e in rows])


def _period_entries(session: Session, client_ids: list[int], period: Period) -> list[Entry]:
    return list(
        session.scalars(
            select(Entry)
            .where(
                Entry.client_id.in_(client_ids),
                Entry.work_date >= period.start,
                Entry.work_date < period.end,
                Entry.voided_at.is_(None),
            )
            .order_by(Entry.client_id, Entry.work_date, Entry.id)
        )
    )


def balance_history(session: Session, client_id: int, limit: int = 5000) -> list[BalancePoint]:
    """The balance after each ledger line (the latest ``limit`` lines), oldest first."""
    lines = session.scalars(
        select(LedgerLine).where(LedgerLine.client_id == client_id).order_by(LedgerLine.id.desc()).limit(limit)
    )
    return [BalancePoint(x.at, x.balance_after, x.kind, x.minutes) for x in reversed(list(lines))]


def forecast_facts(session: Session, ctx: Context, client: Client) -> dict[str, Any]:
    today = ctx.today(client.timezone)
    blocks = list(
        session.scalars(
            select(Block).where(Block.client_id == client.id, Block.voided_at.is_(None), Block.remaining_minutes > 0)
        )
    )
    remaining = current_balance(blocks, client.open_overage_minutes, today)
    used_30 = used_since(session, client.id, today - timedelta(days=30))
    used_90 = used_since(session, client.id, today - timedelta(days=90))
    forecast = burn_forecast(remaining, used_30, used_90, today)
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
            {"block_id": b.id, "expires_on": b.expires_on.isoformat(), "minutes": forfeits[b.id]}
            for b in usable
            if b.id in forfeits and b.expires_on is not None
        ],
    }


def monthly_usage(session: Session, client: Client, today: date, months: int = 12) -> list[int]:
    """Billable minutes of each complete month since the client was added (at most ``months``), oldest
    first; the month it was added in and the current month are not complete and are left out."""
    this_month = today.replace(day=1)
    begin = add_months(client.created_at.astimezone(ZoneInfo(client.timezone)).date().replace(day=1), 1)
    begin = max(begin, add_months(this_month, -months))
    if begin >= this_month:
        return []
    totals: dict[date, int] = {}
    rows = session.execute(
        select(Entry.work_date, Entry.billable_minutes).where(
            Entry.client_id == client.id,
            Entry.work_date >= begin,
            Entry.work_date < this_month,
            Entry.voided_at.is_(None),
        )
    )
    for work_date, minutes in rows:
        key = work_date.replace(day=1)
        totals[key] = totals.get(key, 0) + minutes
    found, month = [], begin
    while month < this_month:
        found.append(totals.get(month, 0))
        month = add_months(month, 1)
    return found


def flat_fee_of(session: Session, ctx: Context, client: Client) -> FlatFee | None:
    today = ctx.today(client.timezone)
    usage = monthly_usage(session, client, today)
    if not usage:
        return None
    since = add_months(today.replace(day=1), -len(usage))
    paid = session.scalar(
        select(func.coalesce(func.sum(Block.price), 0)).where(
            Block.client_id == client.id, Block.voided_at.is_(None), Block.start_on >= since
        )
    )
    return suggest_flat_fee(usage, Decimal(paid or 0), ctx.settings.hourly_rate, ctx.settings.flat_fee_margin)


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


def _currency(session: Session, client_id: int, default: str) -> str:
    found = session.scalar(
        select(Block.currency)
        .where(Block.client_id == client_id, Block.currency.is_not(None))
        .order_by(Block.id.desc())
        .limit(1)
    )
    return found or default


def insights(ctx: Context, actor: Actor, limit: int = 10) -> InsightsResult:
    """Clients for whom a flat-fee offer makes most sense: steady, substantial usage first."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        session = uow.session
        require(ctx.role_of(session, actor), Role.MANAGER, "see insights")
        found: list[tuple[FlatFee, Client]] = []
        for client in session.scalars(select(Client).where(Client.archived.is_(False))):
            fee = flat_fee_of(session, ctx, client)
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
                    "explanation": f.explanation(_currency(session, c.id, ctx.settings.currency)),
                }
                for f, c in found[:limit]
            ],
        )
