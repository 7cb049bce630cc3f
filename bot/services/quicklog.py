"""The everyday ``/logtime``, decided here and written by ``storage.quick`` on a bare connection.

Most entries are plain: the client exists under its handle, no block is past its expiry, the blocks
cover the minutes, and no alert threshold is crossed. ``quick_log`` reads the client's row (taking its
lock) and open blocks, decides with the same domain functions the ``ClientBook`` path uses
(``billable_minutes``, ``within_overdraft``, ``allocate``, ``crossing``), and writes the entry, its
draws, the blocks' and client's running figures and the ledger line in one transaction of its own.
Anything else (an alias, an archived client, a block to forfeit, a refusal, overage, an alert, a
repeated idempotency key, a database error before the commit) returns ``None`` with nothing written,
and the caller runs the ``ClientBook`` path, which handles and reports every such case.

Why: py-spy and cProfile showed the ORM's flushes, then the session and Core's statement bookkeeping,
costing most of a /logtime's CPU (figures in ``storage.quick`` and ``bench/RESULTS.md``).
``tests/integration/test_quicklog.py`` checks that random stories leave the same stored rows with and
without this path, on both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.domain.allocation import BlockState, allocate, within_overdraft
from bot.domain.commands import LogTime
from bot.domain.durations import billable_minutes
from bot.domain.thresholds import crossing, percent_left
from bot.services.alerts import thresholds_of
from bot.services.book import current_balance, current_block_minutes
from bot.services.context import Actor, Context
from bot.services.results import LogResult
from storage.quick import ClientRow, DrawRow, OpenBlock, QuickFailed


def quick_log(
    ctx: Context,
    actor: Actor,
    command: LogTime,
    *,
    source: str,
    key: str | None,
    client_id: int | None,
    ticket: str | None,
    source_ref: str | None,
) -> LogResult | None:
    """Record a plain entry and return its result, or ``None`` (nothing written) for any other case."""
    try:
        with ctx.db.quick.transaction() as transaction:
            handle = command.client.lower().lstrip("@") if command.client is not None else None
            client, blocks = transaction.read(handle, client_id)
            if client is None or client.archived:
                return None
            result = _plain_entry(ctx, actor, command, client, blocks, source, key, ticket, source_ref)
            if result is None:
                return None
            entry, draws, line, answer = result
            entry_id = transaction.write_and_commit(entry, draws, line)
            return replace(answer, entry_id=entry_id)
    except QuickFailed:
        return None


def _plain_entry(
    ctx: Context,
    actor: Actor,
    command: LogTime,
    client: ClientRow,
    blocks: list[OpenBlock],
    source: str,
    key: str | None,
    ticket: str | None,
    source_ref: str | None,
) -> tuple[dict[str, Any], list[DrawRow], dict[str, Any], LogResult] | None:
    """The rows of a plain entry and its answer, or ``None`` when ClientBook must decide."""
    now = ctx.now()
    today = ctx.today(client.timezone)
    if any(b.expires_on is not None and today > b.expires_on for b in blocks):
        return None  # a block to forfeit first: ClientBook.expire_due
    billable = billable_minutes(command.minutes, client.rounding_minutes, client.minimum_minutes, command.non_billable)
    before = current_balance(blocks, client.open_overage_minutes, today)
    after = before - billable
    if not within_overdraft(after, client.overdraft_minutes):
        return None  # refused, with the full message from the ClientBook path
    states = [BlockState(b.id, b.remaining_minutes, b.start_on, b.expires_on) for b in blocks]
    allocation = allocate(billable, states, today)
    if allocation.overage:
        return None
    block_minutes_before = current_block_minutes(blocks, today)
    if _alerts(client, now) and crossing(
        before,
        after,
        thresholds_of(client.thresholds, ctx.settings),
        block_minutes_before,
        ctx.settings.overdraft_alert_step_minutes,
    ):
        return None  # the alert goes into the outbox with its facts: ClientBook.line
    entry = {
        "client_id": client.id,
        "user_id": actor.user_id,
        "user_name": actor.label,
        "typed": command.typed,
        "minutes": command.minutes,
        "billable_minutes": billable,
        "overage_minutes": 0,
        "billed_overage_minutes": 0,
        "non_billable": command.non_billable,
        "note": command.note,
        "work_date": command.work_date(today),
        "ticket": ticket or command.ticket,
        "source": source,
        "source_ref": source_ref,
        "idempotency_key": key,
        "replaces_id": None,
        "created_at": now,
    }
    line = {
        "client_id": client.id,
        "at": now,
        "kind": "entry",
        "minutes": after - before,
        "balance_after": after,
        "block_id": None,
        "actor": actor.user_id,
        "note": command.note[:200],
    }
    taken = {d.block_id: d.minutes for d in allocation.draws}
    left = [replace(b, remaining_minutes=b.remaining_minutes - taken.get(b.id, 0)) for b in blocks]
    answer = LogResult(
        entry_id=0,  # known once written
        client=client.handle,
        display_name=client.display_name,
        minutes=command.minutes,
        typed=command.typed,
        billable_minutes=billable,
        non_billable=command.non_billable,
        overage_minutes=0,
        work_date=command.work_date(today),
        note=command.note,
        ticket=ticket or command.ticket,
        remaining_minutes=after,
        percent_left=percent_left(after, current_block_minutes(left, today)),
    )
    return entry, [DrawRow(d.block_id, d.minutes) for d in allocation.draws], line, answer


def _alerts(client: ClientRow, now: datetime) -> bool:
    return client.alerts_snoozed_until is None or now >= client.alerts_snoozed_until
