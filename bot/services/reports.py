"""Statements: what a client bought, used (by technician and by ticket), forfeited and has left over a
period, computed from entries and ledger lines."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.dates import Period
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
