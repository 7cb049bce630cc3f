"""The everyday ``/logtime`` in SQLAlchemy Core: five statements and no ORM unit of work.

Most entries are plain: the client exists under its handle, no block is past its expiry, the blocks
cover the minutes, and no alert threshold is crossed. ``quick_entry`` reads the client's row (taking
its lock) and open blocks, decides with the same domain functions the ``ClientBook`` path uses
(``billable_minutes``, ``within_overdraft``, ``allocate``, ``crossing``), and writes the entry, its
draws, the blocks' and client's running figures and the ledger line. Anything else (an alias, an
archived client, a block to forfeit, a refusal, overage, an alert) returns ``None`` before writing,
and the caller carries on with ``ClientBook`` in the same transaction, which already holds the lock.

Profiling showed the ORM's flushes and identity map costing about 1 ms per entry under the GIL; this
path costs about a fifth of that (``bench/RESULTS.md``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from bot.domain.allocation import BlockState, allocate, within_overdraft
from bot.domain.commands import LogTime
from bot.domain.durations import billable_minutes
from bot.domain.thresholds import crossing, percent_left
from bot.services.alerts import thresholds_of
from bot.services.context import Actor, Context
from bot.services.results import LogResult
from storage.models import Block, Client, Draw, Entry, LedgerLine


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


_clients, _blocks, _entries = _table(Client), _table(Block), _table(Entry)
_CLIENT_COLUMNS = (
    _clients.c.id,
    _clients.c.handle,
    _clients.c.display_name,
    _clients.c.timezone,
    _clients.c.archived,
    _clients.c.rounding_minutes,
    _clients.c.minimum_minutes,
    _clients.c.overdraft_minutes,
    _clients.c.thresholds,
    _clients.c.open_overage_minutes,
    _clients.c.alerts_snoozed_until,
)
_BLOCK_COLUMNS = (
    _blocks.c.id.label("block_id"),
    _blocks.c.minutes.label("block_minutes"),
    _blocks.c.remaining_minutes.label("block_remaining"),
    _blocks.c.start_on.label("block_start_on"),
    _blocks.c.expires_on.label("block_expires_on"),
)
# The client's row (locked) and its open blocks in one round trip: a row per open block, or one row
# with no block.
_CLIENT_AND_BLOCKS = (
    select(*_CLIENT_COLUMNS, *_BLOCK_COLUMNS)
    .select_from(
        _clients.outerjoin(
            _blocks,
            (_blocks.c.client_id == _clients.c.id) & _blocks.c.voided_at.is_(None) & (_blocks.c.remaining_minutes > 0),
        )
    )
    .with_for_update(of=_clients)
)
_BY_HANDLE = _CLIENT_AND_BLOCKS.where(_clients.c.handle == bindparam("handle"))
_BY_ID = _CLIENT_AND_BLOCKS.where(_clients.c.id == bindparam("client_id"))
_ADD_ENTRY = insert(_entries).returning(_entries.c.id)
_ADD_DRAW = insert(_table(Draw))
_DRAW_BLOCK = (
    update(_blocks)
    .where(_blocks.c.id == bindparam("block_id"))
    .values(remaining_minutes=_blocks.c.remaining_minutes - bindparam("taken"))
)
_USE_CLIENT = (
    update(_clients)
    .where(_clients.c.id == bindparam("client_id"))
    .values(used_minutes=_clients.c.used_minutes + bindparam("billable"), last_entry_id=bindparam("entry_id"))
)
_ADD_LINE = insert(_table(LedgerLine))


@dataclass(frozen=True)
class _Open:
    id: int
    minutes: int
    remaining: int
    start_on: date
    expires_on: date | None

    def current_on(self, day: date) -> bool:
        return self.remaining > 0 and (self.expires_on is None or day <= self.expires_on)


def quick_entry(
    session: Session,
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
    connection = session.connection()
    if command.client is not None:
        rows = connection.execute(_BY_HANDLE, {"handle": command.client.lower().lstrip("@")}).all()
    elif client_id is not None:
        rows = connection.execute(_BY_ID, {"client_id": client_id}).all()
    else:
        return None
    if not rows or rows[0].archived:
        return None
    client = rows[0]
    now = ctx.now()
    today = ctx.today(client.timezone)
    blocks = [
        _Open(r.block_id, r.block_minutes, r.block_remaining, r.block_start_on, r.block_expires_on)
        for r in rows
        if r.block_id is not None
    ]
    if any(b.expires_on is not None and today > b.expires_on for b in blocks):
        return None  # a block to forfeit first: ClientBook.expire_due
    billable = billable_minutes(command.minutes, client.rounding_minutes, client.minimum_minutes, command.non_billable)
    before = sum(b.remaining for b in blocks) - client.open_overage_minutes
    after = before - billable
    if not within_overdraft(after, client.overdraft_minutes):
        return None  # refused, with the full message from the ClientBook path
    allocation = allocate(billable, [BlockState(b.id, b.remaining, b.start_on, b.expires_on) for b in blocks], today)
    if allocation.overage:
        return None
    block_minutes_before = sum(b.minutes for b in blocks if b.current_on(today))
    if _alerts(client, now) and crossing(
        before,
        after,
        thresholds_of(client.thresholds, ctx.settings),
        block_minutes_before,
        ctx.settings.overdraft_alert_step_minutes,
    ):
        return None  # the alert goes into the outbox with its facts: ClientBook.line
    entry_id = _write(
        connection,
        actor,
        command,
        now,
        today,
        client.id,
        billable,
        allocation.draws,
        key,
        source=source,
        ticket=ticket,
        source_ref=source_ref,
    )
    connection.execute(
        _ADD_LINE,
        {
            "client_id": client.id,
            "at": now,
            "kind": "entry",
            "minutes": after - before,
            "balance_after": after,
            "block_id": None,
            "entry_id": entry_id,
            "actor": actor.user_id,
            "note": command.note[:200],
        },
    )
    taken = {d.block_id: d.minutes for d in allocation.draws}
    left = [_Open(b.id, b.minutes, b.remaining - taken.get(b.id, 0), b.start_on, b.expires_on) for b in blocks]
    return LogResult(
        entry_id=entry_id,
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
        percent_left=percent_left(after, sum(b.minutes for b in left if b.current_on(today))),
    )


def _alerts(client: Any, now: datetime) -> bool:
    return client.alerts_snoozed_until is None or now >= client.alerts_snoozed_until


def _write(
    connection: Connection,
    actor: Actor,
    command: LogTime,
    now: datetime,
    today: date,
    client_id: int,
    billable: int,
    draws: tuple[Any, ...],
    key: str | None,
    *,
    source: str,
    ticket: str | None,
    source_ref: str | None,
) -> int:
    """The entry (a repeated ``key`` fails here, on the unique index), its draws and running figures."""
    entry_id: int = connection.execute(
        _ADD_ENTRY,
        {
            "client_id": client_id,
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
        },
    ).scalar_one()
    if draws:
        connection.execute(
            _ADD_DRAW,
            [{"entry_id": entry_id, "block_id": d.block_id, "minutes": d.minutes, "created_at": now} for d in draws],
        )
        connection.execute(_DRAW_BLOCK, [{"block_id": d.block_id, "taken": d.minutes} for d in draws])
    connection.execute(_USE_CLIENT, {"client_id": client_id, "billable": billable, "entry_id": entry_id})
    return entry_id
