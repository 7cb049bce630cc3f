"""Low-balance alerts and notices, written to the outbox inside the transaction of the change that
caused them: an alert exists if and only if its change committed.

Each alert becomes one outbox row per destination (Slack channel, e-mail, webhook), so one
destination being down never holds up the others. Rows carry facts (JSON); the dispatcher's transports
render them for their medium."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from bot.config import Settings
from bot.domain.forecast import burn_forecast
from bot.domain.notices import BY_KIND, Notice
from bot.domain.roles import Role, require
from bot.domain.thresholds import Threshold, parse_thresholds, percent_left
from bot.services.context import Actor, Context, client_named, record_audit
from bot.services.people import channel_shared
from bot.services.results import Message
from storage.db import UnitOfWork
from storage.outbox import new_row
from storage.repos import Client

SNOOZE_DAYS = 7


def thresholds_of(configured: str | None, settings: Settings) -> tuple[Threshold, ...]:
    """A client's thresholds (its own, else the configured default), always with "0 left" among them."""
    return _thresholds(configured or settings.thresholds)


@lru_cache(maxsize=256)
def _thresholds(text: str) -> tuple[Threshold, ...]:
    """Parsed once per distinct text: every entry asks (it was 5% of a /logtime's CPU, py-spy)."""
    found = parse_thresholds(text)
    return found if any(t.percent is None and t.minutes == 0 for t in found) else (*found, Threshold(minutes=0))


def armed(uow: UnitOfWork, settings: Settings, client_id: int, label: str, level: int, now: datetime) -> bool:
    """A threshold alerts again only once new hours were bought since its last alert (a top-up that
    lifted the balance above it: a void or an edit does not re-arm it) and, even then, not within
    ``BLOCKTIME_ALERT_REARM_HOURS`` of it: corrections never spam the account manager."""
    recent = uow.outbox.threshold_alerts(client_id)
    last = next((row for row in recent if json.loads(row.payload).get("threshold") == label), None)
    if last is None:
        return True
    if now - last.created_at < timedelta(hours=settings.alert_rearm_hours):
        return False
    return uow.lines.bought_above_since(client_id, last.created_at, level)


def balance_facts(
    uow: UnitOfWork, client: Client, remaining: int, block_minutes: int, today: date, open_blocks: list[Any]
) -> dict[str, Any]:
    used_30 = uow.entries.billable_since(client.id, today - timedelta(days=30))
    used_90 = uow.entries.billable_since(client.id, today - timedelta(days=90))
    forecast = burn_forecast(remaining, used_30, used_90, today)
    expiries = [b.expires_on for b in open_blocks if b.expires_on is not None and b.expires_on >= today]
    return {
        "client": client.handle,
        "display_name": client.display_name,
        "account_manager": client.account_manager,
        "remaining_minutes": remaining,
        "overdraft_minutes": client.overdraft_minutes,
        "percent_left": percent_left(remaining, block_minutes),
        "block_minutes": block_minutes,
        "used_30d_minutes": used_30,
        "burn_per_day_minutes": str(forecast.per_day_30.quantize(Decimal("0.1"))),
        "run_out_on": forecast.run_out_on.isoformat() if forecast.run_out_on else None,
        "next_expiry": min(expiries).isoformat() if expiries else None,
    }


def destinations(uow: UnitOfWork, client: Client | None, settings: Settings) -> list[tuple[str, str]]:
    """``(destination, target)`` pairs for a client's alerts: its channel (else the default), and
    e-mail and webhook where configured for the client or globally. Alerts invite the team to sell
    hours, so a channel the client can read (shared with its organisation, or with guests) never gets
    them: they go to the default internal channel instead."""
    found: list[tuple[str, str]] = []
    channel = internal_channel(uow, client.alert_channel if client else None, settings)
    if channel:
        found.append(("slack", channel))
    email = (client.alert_email if client else None) or settings.alert_email_to
    if email and settings.smtp_url:
        found.append(("email", email))
    webhook = (client.alert_webhook if client else None) or settings.alert_webhook_url
    if webhook:
        found.append(("webhook", webhook))
    return found


def internal_channel(uow: UnitOfWork, wanted: str | None, settings: Settings) -> str | None:
    """``wanted`` unless it is shared with people outside the MSP; else ``BLOCKTIME_ALERT_CHANNEL``
    (unless that is shared too: then no channel at all)."""
    for channel in (wanted, settings.alert_channel):
        if channel and channel_shared(uow, channel) is None:
            return channel
    return None


def queue(
    uow: UnitOfWork,
    ctx: Context,
    notice: Notice,
    client: Client | None,
    key: str,
    only_slack: str | None = None,
) -> int:
    """Queue ``notice`` for every destination (or only the Slack channel ``only_slack``); returns rows added.
    The dedupe key makes a second queuing of the same notice a no-op (idempotent jobs)."""
    targets = [("slack", only_slack)] if only_slack else destinations(uow, client, ctx.settings)
    now = ctx.now()
    payload = json.dumps(notice.to_json(), default=str)
    added = 0
    for destination, target in targets:
        dedupe = f"{key}:{destination}"
        if uow.outbox.key_taken(dedupe):
            continue
        row = new_row(
            kind=notice.kind,
            destination=destination,
            now=now,
            payload=payload,
            dedupe_key=dedupe,
            client_id=client.id if client else None,
        )
        uow.outbox.add({**row, "target": target})
        added += 1
    if added:
        uow.after_commit(ctx.db.outbox_written)
    return added


def can_queue(uow: UnitOfWork) -> None:
    """Raise ``NotHere`` now if ``uow`` cannot queue a notice: a bare unit of work (``storage.bare``) has
    no outbox rows but a PSA chain's, and its repositories raise ``NotHere`` for any other name. A
    change asks before it writes, so a bare unit of work hands it over with nothing written (no id is
    spent on a row that is rolled back)."""
    _ = uow.outbox.key_taken, uow.outbox.threshold_alerts, uow.channels, uow.lines, uow.entries


def enqueue(
    uow: UnitOfWork,
    ctx: Context,
    kind: str,
    client: Client | None,
    facts: dict[str, Any],
    key: str,
    only_slack: str | None = None,
) -> int:
    """:func:`queue` for a caller that gathers a notice's facts as a dict (the ledger's forfeits and
    threshold crossings): read as the notice type of ``kind``, whose fields they must all be."""
    notice = BY_KIND[kind].from_json(facts)
    stray = set(facts) - set(notice.to_json())
    if stray:
        raise ValueError(f"{sorted(stray)} are not facts of {type(notice).__name__}")
    return queue(uow, ctx, notice, client, key, only_slack)


def snooze(ctx: Context, actor: Actor, handle: str, days: int = SNOOZE_DAYS) -> Message:
    with ctx.db.unit_of_work() as uow:
        require(ctx.role(uow, actor), Role.MANAGER, "snooze alerts")
        client = client_named(uow, handle, lock=True)
        before = client.alerts_snoozed_until
        client.alerts_snoozed_until = ctx.now() + timedelta(days=days)
        uow.clients.save(client)
        record_audit(
            uow,
            ctx,
            actor,
            "snooze",
            f"client:{client.id}",
            client.id,
            {"alerts_snoozed_until": before},
            {"alerts_snoozed_until": client.alerts_snoozed_until},
        )
        until: datetime = client.alerts_snoozed_until
        uow.commit()
        return Message(
            f"Low-balance alerts for {client.display_name} are snoozed until {until:%Y-%m-%d %H:%M} UTC.",
            {"client": client.handle, "until": until.isoformat()},
        )
