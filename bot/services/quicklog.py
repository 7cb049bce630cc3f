"""The everyday ``/logtime``, decided here and written by ``storage.quick`` on a bare connection.

Most entries are plain: the client exists under its handle, no block is past its closing day, the
blocks cover the minutes, and no alert threshold is crossed. ``quick_log`` reads the client's row
(taking its lock) and open blocks, asks the same rules the ``ClientBook`` path asks
(``bot.domain.ledger.plan_entry``, ``alert_crossing``), builds the entry's columns with the same
``new_entry_values``, and writes the entry, its draws, the blocks' and client's running figures and the
ledger line in one transaction of its own. Anything else (an alias, an archived client, a block to
forfeit, open overage a block that has started since may pay off, a refusal, overage, late work paid
by today's blocks, work dated past the technicians' limit, an alert, a repeated idempotency key, a
database error before the commit) returns ``None`` with nothing written, and the caller runs the
``ClientBook`` path, which handles and reports every such case.

Why: py-spy and cProfile showed the ORM's flushes, then the session and Core's statement bookkeeping,
costing most of a /logtime's CPU (figures in ``storage.quick`` and ``bench/RESULTS.md``).
``tests/integration/test_quicklog.py`` checks that random stories get the same answers and leave the
same stored rows with and without this path, on both databases."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.domain.allocation import closed_on
from bot.domain.commands import LogTime
from bot.domain.dates import recorded_day
from bot.domain.durations import billable_causes
from bot.domain.ledger import account_balance, current_block_minutes, is_current, plan_entry, waiting
from bot.domain.roles import Standing
from bot.domain.thresholds import alert_crossing, percent_left
from bot.domain.worktypes import STANDARD
from bot.services.alerts import thresholds_of
from bot.services.book import new_entry_values
from bot.services.context import Actor, Context, policy_of, used_up_since
from bot.services.psa import queued_note, sync_row
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
    thread_ref: str | None = None,
) -> LogResult | None:
    """Record a plain entry and return its result, or ``None`` (nothing written) for any other case."""
    if not ctx.settings.fast_writer:
        return None  # BLOCKTIME_FAST_WRITER=off: every entry through ClientBook (diagnosis, the A/B bench)
    if actor.standing is not Standing.STAFF:
        return None  # a guest with a role, or someone who is not staff: ClientBook checks the role
    if command.work_type not in (None, STANDARD):
        return None  # its multiplier (the client's own rate, else the work type's): ClientBook looks it up
    if command.at is not None or (ctx.settings.after_hours_type and (command.moment or command.started_at)):
        return None  # a typed time (never still to come) or after-hours work: ClientBook decides
    try:
        with ctx.db.quick.transaction() as transaction:
            handle = command.client.lower().lstrip("@") if command.client is not None else None
            client, blocks = transaction.read(handle, client_id, used_up_since(ctx))
            if client is None or client.archived:
                return None
            result = _plain_entry(ctx, actor, command, client, blocks, source, key, ticket, source_ref, thread_ref)
            if result is None:
                return None
            entry, draws, line, answer = result
            sync = sync_row(ctx, client.id)  # a PSA connected: the entry is queued for it, in this transaction
            entry_id = transaction.write_and_commit(entry, draws, line, sync)
        if sync is not None:
            ctx.db.outbox_written()  # committed: the dispatcher delivers it now
        return replace(answer, entry_id=entry_id, psa=queued_note(ctx))
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
    thread_ref: str | None,
) -> tuple[dict[str, Any], list[DrawRow], dict[str, Any], LogResult] | None:
    """The rows of a plain entry and its answer, or ``None`` when ClientBook must decide."""
    now = ctx.now()
    today = ctx.today(client.timezone)
    settings = ctx.settings
    policy = policy_of(client, settings)
    if any(closed_on(b.expires_on, today, policy.grace_days) for b in blocks if b.remaining_minutes > 0):
        return None  # a block to forfeit first: ClientBook.expire_due
    if client.open_overage_minutes > 0 and any(is_current(b, today) for b in blocks if b.remaining_minutes > 0):
        return None  # a block started since overage was left: under carry it pays that off first (ClientBook)
    work_date = command.work_date(today)
    if (today - work_date).days > settings.backdate_days:
        return None  # only managers may date work this far back: ClientBook checks the role
    plan = plan_entry(
        command.minutes, command.non_billable, work_date, today, policy, blocks, client.open_overage_minutes
    )
    if not plan.allowed or plan.overage or plan.allocation.from_later_blocks:
        return None  # refused, overage or late work paid by today's blocks: ClientBook words the answer
    if alert_crossing(
        plan.before,
        plan.after,
        thresholds_of(client.thresholds, settings),
        plan.block_minutes_before,
        settings.overdraft_alert_step_minutes,
        client.alerts_snoozed_until,
        now,
    ):
        return None  # the alert goes into the outbox with its facts: ClientBook.line
    billable = plan.billable
    account_before = account_balance(blocks, client.open_overage_minutes)
    entry = new_entry_values(
        command,
        plan,
        client_id=client.id,
        author=(actor.user_id, actor.label),
        work_date=work_date,
        ticket=ticket,
        source=source,
        source_ref=source_ref,
        thread_ref=thread_ref,
        key=key,
        replaces_id=None,
        now=now,
    )
    logged_on = recorded_day(now, client.timezone, client.records_from)
    line = {
        "client_id": client.id,
        "at": now,
        "recorded_on": logged_on,
        "kind": "entry",
        "minutes": -billable,
        "balance_after": account_before - billable,
        "block_id": None,
        "actor": actor.user_id,
        "note": command.note[:200],
    }
    taken = {d.block_id: d.minutes for d in plan.allocation.draws}
    left = [replace(b, remaining_minutes=b.remaining_minutes - taken.get(b.id, 0)) for b in blocks]
    later = waiting(left, today)
    answer = LogResult(
        entry_id=0,  # known once written
        client=client.handle,
        display_name=client.display_name,
        minutes=command.minutes,
        typed=command.typed,
        billable_minutes=billable,
        non_billable=command.non_billable,
        overage_minutes=0,
        work_date=work_date,
        note=command.note,
        ticket=ticket or command.ticket,
        remaining_minutes=plan.after,
        percent_left=percent_left(plan.after, current_block_minutes(left, today)),
        logged_on=logged_on,
        waiting_minutes=later.minutes,
        waiting=later.words(),
        billed_by=billable_causes(command.minutes, policy.rounding, policy.minimum, command.non_billable),
    )
    return entry, [DrawRow(d.block_id, d.minutes) for d in plan.allocation.draws], line, answer
