"""An in-memory unit of work: the repositories of ``storage.repos`` over dicts, so a use case runs
without a database (the service ring, ``tests/service``). A unit of work works on a copy of the
tables and publishes it on commit; leaving without a commit drops it, as a rollback would.

Rows are plain namespaces with the model's columns (a column's scalar default, else None), so a
service reads them as it reads ORM rows. The ledger (``uow.ledger``) reads and stores as
``storage.postings`` does: the same rows read, a posting applied in the writer's order, new rows given
real ids. A unique key written twice (an idempotency key, an outbox row's dedupe key) raises
``storage.errors.Conflict``, as the database's unique index does."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from storage import models
from storage.errors import Conflict, NotHere
from storage.outbox import NEW_ROW_FIELDS
from storage.postings import BlockRow, DrawRow, EntryRow, Ids, PostingLike
from storage.psa_chains import DESTINATION, FailedSync, SyncRow


class Row(SimpleNamespace):
    """A row: the model's columns as attributes."""


class BlockRecord(Row):
    """A block's row, with the model's ``drawn_minutes``."""

    @property
    def drawn_minutes(self) -> int:
        return int(
            self.minutes
            + self.rolled_in_minutes
            - self.remaining_minutes
            - self.forfeited_minutes
            - self.rolled_out_minutes
        )


def row_of(model: type[models.Base], **values: Any) -> Row:
    """A row of ``model`` with ``values`` and, for the other columns, their scalar default or None."""
    found: dict[str, Any] = {}
    for column in model.__table__.columns:
        default = column.default
        found[column.key] = default.arg if default is not None and not callable(default.arg) else None
    kind = BlockRecord if model is models.Block else Row
    return kind(**{**found, **values})


def conflict(what: str) -> Conflict:
    """The error a unique index raises for a second row with the same key."""
    return Conflict(f"INSERT ({what})", None, Exception(f"UNIQUE constraint failed: {what}"))


def unique(rows: Iterable[Row], column: str, value: Any, what: str) -> None:
    """Raise ``Conflict`` when ``value`` (not None) is already some row's ``column``."""
    if value is not None and any(getattr(r, column) == value for r in rows):
        raise conflict(what)


class Tables:
    """Every table the repositories keep, by key."""

    def __init__(self) -> None:
        self.clients: dict[int, Row] = {}
        self.entries: dict[int, Row] = {}
        self.blocks: dict[int, Row] = {}
        self.draws: dict[int, Row] = {}
        self.lines: dict[int, Row] = {}
        self.outbox: dict[int, Row] = {}
        self.audit: list[Row] = []
        self.roles: dict[str, Row] = {}
        self.people: dict[str, Row] = {}
        self.slack_channels: dict[str, Row] = {}
        self.links: dict[str, Row] = {}
        self.timers: dict[str, Row] = {}
        self.worktypes: dict[str, Row] = {}
        self.client_rates: dict[tuple[int, str], Row] = {}
        self.nudges_off: dict[str, Row] = {}
        self.replies: list[Row] = []
        self.psa_members: dict[str, Row] = {}
        self.psa_work_types: dict[str, Row] = {}
        self.last_ids: dict[str, int] = {}  # each table's own sequence, as the databases keep them

    def next_id(self, table: str) -> int:
        self.last_ids[table] = self.last_ids.get(table, 0) + 1
        return self.last_ids[table]


class MemoryDatabase:
    """What the services ask of ``storage.db.Database``: units of work, and the outbox's subscribers."""

    is_sqlite = False

    def __init__(self) -> None:
        self.tables = Tables()
        self.outbox_subscribers: list[Callable[[], None]] = []
        self.commits = 0

    def unit_of_work(self, read_only: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self, read_only)

    def bare_unit_of_work(self) -> MemoryUnitOfWork:
        """There is no bare connection here: the everyday ``/logtime`` hands over at once (``NotHere``)
        and runs on a full unit of work, as it does when a bare one cannot serve it."""
        raise NotHere("no bare connection in memory")

    def outbox_written(self) -> None:
        for subscriber in list(self.outbox_subscribers):
            subscriber()

    def dispose(self) -> None:
        pass


class MemoryUnitOfWork:
    """``storage.db.UnitOfWork`` over a copy of the tables. It has no ``session``: a use case that
    still reaches for one fails here, loudly."""

    def __init__(self, db: MemoryDatabase, read_only: bool) -> None:
        self._db = db
        self._read_only = read_only
        self._after_commit: list[Callable[[], None]] = []
        self.tables = copy.deepcopy(db.tables)
        t = self.tables
        self.clients = Clients(t)
        self.blocks = Blocks(t)
        self.entries = Entries(t)
        self.lines = LedgerLines(t)
        self.outbox = Outbox(t)
        self.audit = Audit(t)
        self.roles = Roles(t)
        self.people = People(t)
        self.channels = Channels(t)
        self.timers = Timers(t)
        self.worktypes = WorkTypes(t)
        self.nudges = Nudges(t)
        self.psa = PsaLinks(t)
        self.ledger = Ledger(t)
        self.psa_blocks = PsaBlocks(t)

    def __enter__(self) -> MemoryUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.tables = copy.deepcopy(self._db.tables)  # what was not committed is gone

    def after_commit(self, hook: Callable[[], None]) -> None:
        if hook not in self._after_commit:
            self._after_commit.append(hook)

    def commit(self) -> None:
        assert not self._read_only, "a read-only unit of work committed"
        self._db.tables = copy.deepcopy(self.tables)
        self._db.commits += 1
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            hook()

    def rollback(self) -> None:
        self.tables = copy.deepcopy(self._db.tables)


class _Repository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables


def _live(entry: Row) -> bool:
    return entry.voided_at is None


class Clients(_Repository):
    def get(self, handle: str, lock: bool = False) -> Row | None:
        return next((c for c in self._t.clients.values() if c.handle == handle), None)

    def by_id(self, client_id: int) -> Row | None:
        return self._t.clients.get(client_id)

    def locked(self, client_id: int) -> Row | None:
        return self._t.clients.get(client_id)

    def id_by_alias(self, alias: str) -> int | None:
        return next((c.id for c in self._t.clients.values() for a in c.aliases if a.alias == alias), None)

    def by_ids(self, client_ids: list[int]) -> dict[int, Row]:
        return {i: self._t.clients[i] for i in client_ids if i in self._t.clients}

    def all(self, include_archived: bool = False) -> list[Row]:
        found = [c for c in self._t.clients.values() if include_archived or not c.archived]
        return sorted(found, key=lambda c: c.handle)

    def active_ids(self) -> list[int]:
        return sorted(c.id for c in self._t.clients.values() if not c.archived)

    def names(self) -> list[str]:
        handles = [c.handle for c in self._t.clients.values() if not c.archived]
        return handles + [a.alias for c in self._t.clients.values() for a in c.aliases]

    def name_taken(self, name: str) -> bool:
        return self.get(name) is not None or self.id_by_alias(name) is not None

    def add(self, **columns: Any) -> Row:
        client = row_of(models.Client, id=self._t.next_id("clients"), aliases=[], **columns)
        self._t.clients[client.id] = client
        return client

    def add_alias(self, client: Row, alias: str) -> None:
        client.aliases = sorted([*client.aliases, Row(alias=alias)], key=lambda a: a.alias)

    def save(self, client: Row) -> None:
        pass

    def usage_by_handle(self, today: date) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for e in self._t.entries.values():
            if _live(e) and e.work_date >= today - timedelta(days=90):
                handle = self._t.clients[e.client_id].handle
                last_30, last_90 = found.get(handle, (0, 0))
                recent = e.billable_minutes if e.work_date >= today - timedelta(days=30) else 0
                found[handle] = (last_30 + recent, last_90 + e.billable_minutes)
        return found


def _holding(block: Row) -> bool:
    """A live block with minutes left."""
    return block.voided_at is None and block.remaining_minutes > 0


def _may_be_current(block: Row, blocks: Iterable[Row], used_up_since: date) -> bool:
    """``storage.repositories.open_blocks``'s rule for a used-up block: expiring on or after
    ``used_up_since``, or never expiring and started no earlier than the oldest block with minutes left."""
    if block.expires_on is not None:
        return bool(block.expires_on >= used_up_since)
    starts = [b.start_on for b in blocks if b.client_id == block.client_id and _holding(b)]
    return bool(starts) and block.start_on >= min(starts)


class Blocks(_Repository):
    def get(self, block_id: int) -> Row | None:
        return self._t.blocks.get(block_id)

    def reread(self, block_id: int) -> Row | None:
        return self._t.blocks.get(block_id)

    def by_key(self, key: str) -> Row | None:
        return next((b for b in self._t.blocks.values() if b.idempotency_key == key), None)

    def by_number(self, client_id: int, number: int) -> Row | None:
        return next((b for b in self._t.blocks.values() if b.client_id == client_id and b.number == number), None)

    def last_number(self, client_id: int) -> int | None:
        return max((b.number for b in self._t.blocks.values() if b.client_id == client_id and b.number), default=None)

    def refills_since(self, client_id: int, since: datetime) -> int:
        return sum(
            1
            for b in self._t.blocks.values()
            if b.client_id == client_id and b.source == "refill" and b.voided_at is None and b.created_at >= since
        )

    def refill_of_entry(self, client_id: int, entry_id: int) -> Row | None:
        lines = sorted((r for r in self._t.lines.values() if r.client_id == client_id), key=lambda r: r.id)
        logged = next((r for r in lines if r.entry_id == entry_id and r.kind == "entry"), None)
        if logged is None:
            return None
        for line in lines:
            if line.id <= logged.id:
                continue
            if line.kind == "entry":
                return None
            block = self._t.blocks.get(line.block_id) if line.kind == "topup" else None
            if block is not None and block.source == "refill" and block.voided_at is None and line.at == logged.at:
                return block
        return None

    def clients_expiring_by(self, day: date) -> list[int]:
        return sorted(
            {
                b.client_id
                for b in self._t.blocks.values()
                if _holding(b) and b.expires_on is not None and b.expires_on <= day
            }
        )

    def open_of(self, client_ids: list[int], used_up_since: date | None = None) -> dict[int, list[Row]]:
        found: dict[int, list[Row]] = {i: [] for i in client_ids}
        blocks = list(self._t.blocks.values())
        for b in sorted(blocks, key=lambda b: b.id):
            if b.client_id not in found or b.voided_at is not None:
                continue
            if _holding(b) or (used_up_since is not None and _may_be_current(b, blocks, used_up_since)):
                found[b.client_id].append(b)
        return found

    def of_client(self, client_id: int) -> list[Row]:
        return sorted((b for b in self._t.blocks.values() if b.client_id == client_id), key=lambda b: -b.id)

    def unrenewed(self) -> list[tuple[int, date, int]]:
        renewed = {b.renewal_of_id for b in self._t.blocks.values()}
        found = [
            b
            for b in self._t.blocks.values()
            if b.renew_months is not None and b.voided_at is None and b.id not in renewed
        ]
        return [(b.id, b.start_on, b.renew_months) for b in sorted(found, key=lambda b: (b.start_on, b.id))]

    def renewal_of(self, block_id: int) -> int | None:
        return next((b.id for b in self._t.blocks.values() if b.renewal_of_id == block_id), None)

    def unpaid(self) -> list[Row]:
        active = {c.id for c in self._t.clients.values() if not c.archived}
        found = (b for b in self._t.blocks.values() if b.voided_at is None and not b.paid and b.client_id in active)
        return sorted(found, key=lambda b: (b.client_id, b.number or 0, b.id))


class Entries(_Repository):
    """Entries as the ledger stores them (``Ledger.save``), or as a test puts them (``add``)."""

    def add(self, **columns: Any) -> Row:
        """An entry put by a test (the product's are the ledger's: ``Ledger.save``)."""
        entry = row_of(models.Entry, id=self._t.next_id("entries"), **columns)
        self._t.entries[entry.id] = entry
        return entry

    def get(self, entry_id: int) -> Row | None:
        return self._t.entries.get(entry_id)

    def reread(self, entry_id: int) -> Row | None:
        return self._t.entries.get(entry_id)

    def latest_live_id(self, client_id: int, besides: int) -> int | None:
        return max(
            (e.id for e in self._t.entries.values() if e.client_id == client_id and e.id != besides and _live(e)),
            default=None,
        )

    def by_key(self, key: str) -> Row | None:
        return next((e for e in self._t.entries.values() if e.idempotency_key == key), None)

    def by_ids(self, ids: list[int]) -> list[Row]:
        return [self._t.entries[i] for i in ids if i in self._t.entries]

    def latest(self, client_id: int, limit: int) -> list[Row]:
        found = [e for e in self._t.entries.values() if e.client_id == client_id and _live(e)]
        return sorted(found, key=lambda e: -e.id)[:limit]

    def in_period(self, client_id: int, start: date, end: date) -> list[Row]:
        found = [e for e in self._t.entries.values() if e.client_id == client_id and start <= e.work_date < end]
        return sorted(found, key=lambda e: (e.work_date, e.id))

    def used_between(self, client_ids: list[int], start: date, end: date) -> dict[int, int]:
        found: dict[int, int] = {}
        for e in self._t.entries.values():
            if e.client_id in client_ids and _live(e) and start <= e.work_date < end:
                found[e.client_id] = found.get(e.client_id, 0) + e.billable_minutes
        return found

    def billable_since(self, client_id: int, start: date) -> int:
        return sum(
            e.billable_minutes
            for e in self._t.entries.values()
            if e.client_id == client_id and _live(e) and e.work_date >= start
        )

    def live_of_message(self, source_ref: str) -> Row | None:
        found = [e for e in self._t.entries.values() if e.source_ref == source_ref and _live(e)]
        return max(found, key=lambda e: e.id, default=None)

    def _logged_since(self, user_id: str, start: datetime) -> list[Row]:
        found = [e for e in self._t.entries.values() if e.user_id == user_id and e.created_at >= start and _live(e)]
        return sorted(found, key=lambda e: -e.id)

    def logged_since(self, user_id: str, start: datetime, limit: int) -> list[tuple[Row, str]]:
        return [(e, self._t.clients[e.client_id].handle) for e in self._logged_since(user_id, start)[:limit]]

    def logged_since_totals(self, user_id: str, start: datetime) -> tuple[int, int]:
        found = self._logged_since(user_id, start)
        return len(found), sum(e.billable_minutes for e in found)

    def recent_client_handles(self, user_id: str, limit: int) -> list[str]:
        recent: list[str] = []
        for e in sorted(self._t.entries.values(), key=lambda e: -e.id):
            client = self._t.clients[e.client_id]
            if e.user_id == user_id and not client.archived and client.handle not in recent:
                recent.append(client.handle)
        return recent[:limit]

    def logged_on_thread(self, user_id: str, thread_ref: str, since: datetime) -> bool:
        return any(
            e.thread_ref == thread_ref and e.user_id == user_id and _live(e) and e.created_at >= since
            for e in self._t.entries.values()
        )


class LedgerLines(_Repository):
    """The lines the ledger stored (``Ledger.save``): what the use cases read of them. The statements'
    and reports' reads are tested on the real databases."""

    def bought_above_since(self, client_id: int, since: datetime, level: int) -> bool:
        return any(
            line.client_id == client_id
            and line.kind in ("topup", "renewal")
            and line.at > since
            and line.balance_after > level
            for line in self._t.lines.values()
        )

    def timezones(self, client_ids: list[int]) -> dict[int, str]:
        return {i: self._t.clients[i].timezone for i in client_ids}

    def handles(self) -> dict[int, str]:
        return {i: c.handle for i, c in sorted(self._t.clients.items())}

    def _not_here(self, *_: Any) -> Any:
        raise NotImplementedError("the statements' reads of ledger lines are tested on the real databases")

    totals_by_kind = balance_before = any_before = entry_lines = covered_at = corrections_of = _not_here
    latest = billable_by_work_date = priced_draws = rolled_over = changes_by_day = first_recorded_on = _not_here
    statement_rows = statement_by_person = _not_here


class Outbox(_Repository):
    def _new(self, row: dict[str, object], entry_id: int | None) -> Row:
        assert set(row) == set(NEW_ROW_FIELDS)
        unique(self._t.outbox.values(), "dedupe_key", row["dedupe_key"], "outbox.dedupe_key")
        message = row_of(models.OutboxMessage, id=self._t.next_id("outbox"), entry_id=entry_id, **row)
        self._t.outbox[message.id] = message
        return message

    def add(self, row: dict[str, object], entry_id: int | None = None) -> Row:
        """A message as ``storage.outbox.new_row`` makes it."""
        return self._new(row, entry_id)

    def key_taken(self, dedupe_key: str) -> bool:
        return any(m.dedupe_key == dedupe_key for m in self._t.outbox.values())

    def status_of(self, dedupe_key: str) -> str | None:
        return next((m.status for m in self._t.outbox.values() if m.dedupe_key == dedupe_key), None)

    def queue_failed_again(self, dedupe_key: str, payload: str, now: datetime) -> bool:
        found = next((m for m in self._t.outbox.values() if m.dedupe_key == dedupe_key), None)
        if found is None or found.status != "failed":
            return False
        found.status, found.payload, found.next_attempt_at, found.created_at = "pending", payload, now, now
        found.attempts, found.last_error, found.claimed_until = 0, None, None
        found.version += 1
        return True

    def mark_create_sent(self, outbox_id: int) -> None:
        row = self._t.outbox.get(outbox_id)
        if row is not None:
            row.payload = json.dumps({**json.loads(row.payload), "create_sent": True})

    def requeue(self, row: dict[str, object], entry_id: int) -> None:
        found = next(
            (m for m in self._t.outbox.values() if m.destination == row["destination"] and m.entry_id == entry_id),
            None,
        )
        if found is None:
            self._new(row, entry_id)
            return
        found.status, found.next_attempt_at, found.attempts, found.last_error = (
            "pending",
            row["next_attempt_at"],
            0,
            None,
        )
        found.version += 1

    def requeue_failed(self, destination: str, now: datetime, entry_ids: Iterable[int] | None = None) -> int:
        wanted = None if entry_ids is None else set(entry_ids)
        count = 0
        for m in self._t.outbox.values():
            if m.destination == destination and m.status == "failed" and (wanted is None or m.entry_id in wanted):
                m.status, m.next_attempt_at, m.attempts, m.last_error = "pending", now, 0, None
                m.version += 1
                count += 1
        return count

    def _free(self, m: Row, now: datetime) -> bool:
        return m.status == "pending" and (m.claimed_until is None or m.claimed_until < now)

    def due(self, now: datetime, destinations: Iterable[str], limit: int) -> list[tuple[int, str]]:
        wanted = set(destinations)
        found = [
            (m.id, m.destination)
            for m in sorted(self._t.outbox.values(), key=lambda m: m.id)
            if m.destination in wanted and m.next_attempt_at <= now and self._free(m, now)
        ]
        return found[:limit]

    def claim(self, outbox_id: int, worker: str, now: datetime, until: datetime) -> Row | None:
        m = self._t.outbox.get(outbox_id)
        if m is None or not self._free(m, now):
            return None
        m.claimed_by, m.claimed_until = worker, until
        return m

    def _settle(self, outbox_id: int, worker: str, version: int, **values: Any) -> bool:
        m = self._t.outbox[outbox_id]
        if m.claimed_by != worker:
            return False
        if m.version != version:
            m.claimed_until = None
            return False
        for name, value in values.items():
            setattr(m, name, value)
        m.attempts += 1
        return True

    def mark_sent(self, outbox_id: int, worker: str, now: datetime, ref: str, version: int = 0) -> bool:
        return self._settle(
            outbox_id, worker, version, status="sent", sent_at=now, claimed_until=None, delivery_ref=ref[:100]
        )

    def mark_failed(self, outbox_id: int, worker: str, reason: str, version: int = 0) -> bool:
        return self._settle(outbox_id, worker, version, status="failed", claimed_until=None, last_error=reason[:500])

    def retry_later(
        self, outbox_id: int, version: int, now: datetime, reason: str, delay: Callable[[int], float]
    ) -> float | None:
        m = self._t.outbox[outbox_id]
        m.claimed_until = None
        if m.version != version:
            return None
        m.attempts += 1
        seconds = delay(m.attempts)
        m.next_attempt_at, m.last_error = now + timedelta(seconds=seconds), reason[:500]
        return seconds

    def threshold_alerts(self, client_id: int, limit: int = 50) -> list[Row]:
        found = [m for m in self._t.outbox.values() if m.client_id == client_id and m.kind == "threshold"]
        return sorted(found, key=lambda m: -m.id)[:limit]


class Audit(_Repository):
    def record(
        self,
        at: datetime,
        actor: str,
        action: str,
        target: str,
        client_id: int | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        def stored(value: dict[str, Any] | None) -> Any:  # as the database keeps it: JSON text, read back
            return None if value is None else json.loads(json.dumps(value, default=str, sort_keys=True))

        self._t.audit.append(
            Row(
                at=at,
                actor=actor,
                action=action,
                target=target,
                client_id=client_id,
                before=stored(before),
                after=stored(after),
            )
        )

    def changes(self, client_id: int, action: str, limit: int = 200) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        rows = [r for r in self._t.audit if r.client_id == client_id and r.action == action]
        return [(r.before or {}, r.after or {}) for r in reversed(rows)][:limit]


class Roles(_Repository):
    def stored(self, user_id: str) -> str | None:
        row = self._t.roles.get(user_id)
        return row.role if row is not None else None

    def grant(self, user_id: str, role: str, by: str, at: datetime) -> str | None:
        before = self.stored(user_id)
        self._t.roles[user_id] = Row(user_id=user_id, role=role, granted_by=by, granted_at=at)
        return before


class People(_Repository):
    def remember(
        self, user_id: str, team_id: str | None, standing: str, name: str, email: str | None, at: datetime
    ) -> None:
        known = self._t.people.get(user_id)
        kept = email or (known.email if known is not None else None)
        self._t.people[user_id] = row_of(
            models.SlackPerson,
            user_id=user_id,
            team_id=team_id,
            standing=standing,
            name=name,
            email=kept,
            checked_at=at,
        )

    def standing(self, user_id: str) -> str | None:
        row = self._t.people.get(user_id)
        return row.standing if row is not None else None


class Channels(_Repository):
    def remember(self, channel_id: str, shared: bool, reason: str, at: datetime) -> None:
        self._t.slack_channels[channel_id] = Row(channel_id=channel_id, shared=shared, reason=reason, checked_at=at)

    def shared_reason(self, channel_id: str) -> str | None:
        row = self._t.slack_channels.get(channel_id)
        return row.reason if row is not None and row.shared else None

    def linked_client_id(self, channel_id: str, lock: bool = False) -> int | None:
        row = self._t.links.get(channel_id)
        return row.client_id if row is not None else None

    def link(self, channel_id: str, client_id: int, by: str, at: datetime, public_replies: bool | None) -> None:
        row = self._t.links.get(channel_id) or row_of(models.ChannelLink, channel_id=channel_id)
        row.client_id, row.linked_by, row.linked_at = client_id, by, at
        if public_replies is not None:
            row.public_replies = public_replies
        self._t.links[channel_id] = row

    def unlink(self, channel_id: str) -> None:
        self._t.links.pop(channel_id, None)

    def links(self) -> list[tuple[str, int, str, str, bool]]:
        found = []
        for link in self._t.links.values():
            client = self._t.clients[link.client_id]
            found.append((link.channel_id, client.id, client.handle, client.display_name, bool(link.public_replies)))
        return found


class Timers(_Repository):
    def of(self, user_id: str) -> Row | None:
        return self._t.timers.get(user_id)

    def with_client(self, user_id: str) -> tuple[Row, Row] | None:
        timer = self._t.timers.get(user_id)
        return (timer, self._t.clients[timer.client_id]) if timer is not None else None

    def start(
        self, user_id: str, user_name: str, client_id: int, note: str, work_type: str | None, at: datetime
    ) -> None:
        self._t.timers[user_id] = Row(
            user_id=user_id, user_name=user_name, client_id=client_id, note=note, work_type=work_type, started_at=at
        )

    def remove(self, user_id: str, started_at: datetime | None = None) -> None:
        timer = self._t.timers.get(user_id)
        if timer is not None and (started_at is None or timer.started_at == started_at):
            del self._t.timers[user_id]

    def started_before(self, moment: datetime) -> list[tuple[Row, Row]]:
        return [(t, self._t.clients[t.client_id]) for t in self._t.timers.values() if t.started_at < moment]


class WorkTypes(_Repository):
    def get(self, name: str, lock: bool = False) -> Row | None:
        return self._t.worktypes.get(name)

    def all(self, include_archived: bool = False) -> list[Row]:
        return sorted(
            (w for w in self._t.worktypes.values() if include_archived or not w.archived), key=lambda w: w.name
        )

    def define(self, name: str, multiplier: Decimal, at: datetime) -> None:
        row = self._t.worktypes.get(name)
        if row is None:
            self._t.worktypes[name] = Row(name=name, multiplier=multiplier, archived=False, created_at=at)
        else:
            row.multiplier, row.archived = multiplier, False

    def archive(self, name: str) -> None:
        if name in self._t.worktypes:
            self._t.worktypes[name].archived = True

    def client_rate(self, client_id: int, name: str) -> Decimal | None:
        own = self._t.client_rates.get((client_id, name))
        return own.multiplier if own is not None else None

    def set_client_rate(self, client_id: int, name: str, rate: Decimal | None) -> None:
        if rate is None:
            self._t.client_rates.pop((client_id, name), None)
        else:
            self._t.client_rates[(client_id, name)] = Row(client_id=client_id, work_type=name, multiplier=rate)


class Nudges(_Repository):
    def off_for(self, user_id: str) -> bool:
        return user_id in self._t.nudges_off

    def everyone_off(self) -> set[str]:
        return set(self._t.nudges_off)

    def turn_off(self, user_id: str, at: datetime) -> None:
        self._t.nudges_off.setdefault(user_id, Row(user_id=user_id, at=at))

    def turn_on(self, user_id: str) -> None:
        self._t.nudges_off.pop(user_id, None)

    def note_reply(self, user_id: str, channel_id: str, thread_ts: str, at: datetime) -> None:
        key = (user_id, channel_id, thread_ts)
        found = next((r for r in self._t.replies if (r.user_id, r.channel_id, r.thread_ts) == key), None)
        if found is None:
            self._t.replies.append(Row(user_id=user_id, channel_id=channel_id, thread_ts=thread_ts, at=at))
        else:
            found.at = at

    def replies_before(self, end: datetime) -> list[Row]:
        return sorted((r for r in self._t.replies if r.at < end), key=lambda r: (r.user_id, r.at))

    def forget(self, before: datetime | None = None, user_id: str | None = None) -> None:
        self._t.replies = [
            r
            for r in self._t.replies
            if not ((before is None or r.at < before) and (user_id is None or r.user_id == user_id))
        ]


class PsaLinks(_Repository):
    @staticmethod
    def chain_root(entry: Row) -> int:
        return int(entry.root_id or entry.id)

    def chain(self, root_id: int) -> list[Row]:
        return sorted((e for e in self._t.entries.values() if self.chain_root(e) == root_id), key=lambda e: e.id)

    def untimed_minutes_before(self, entry: Row) -> int:
        return sum(
            e.minutes
            for e in self._t.entries.values()
            if e.user_id == entry.user_id
            and e.work_date == entry.work_date
            and e.started_at is None
            and _live(e)
            and self.chain_root(e) < self.chain_root(entry)
        )

    def thread_notes(self, thread_ref: str | None) -> list[str]:
        found = sorted(
            (e for e in self._t.entries.values() if thread_ref and e.thread_ref == thread_ref), key=lambda e: e.id
        )
        return [e.note for e in found if _live(e)]

    def _sync_row(self, root_id: int) -> Row | None:
        return next(
            (m for m in self._t.outbox.values() if m.destination == DESTINATION and m.entry_id == root_id), None
        )

    def create_sent(self, root_id: int) -> bool:
        row = self._sync_row(root_id)
        return row is None or bool(json.loads(row.payload).get("create_sent", True))

    def mark_create_sent(self, root_id: int) -> None:
        row = self._sync_row(root_id)
        if row is not None:
            row.payload = json.dumps({**json.loads(row.payload), "create_sent": True})

    def set_psa_id(self, root_id: int, psa_id: str | None) -> None:
        for e in self.chain(root_id):
            e.psa_id = psa_id

    def sync_rows(self, root_ids: Iterable[int]) -> dict[int, SyncRow]:
        found = {}
        for root_id in set(root_ids):
            m = self._sync_row(root_id)
            if m is not None:
                found[root_id] = SyncRow(root_id, m.status, m.attempts, m.last_error, m.payload)
        return found

    def failed_syncs(self, limit: int = 20) -> tuple[list[FailedSync], int]:
        failed = sorted(
            (
                m
                for m in self._t.outbox.values()
                if m.destination == DESTINATION and m.status == "failed" and m.entry_id is not None
            ),
            key=lambda m: m.id,
        )
        found = []
        for m in failed[:limit]:
            latest = self.chain(m.entry_id)[-1]
            client = self._t.clients[latest.client_id].handle
            found.append(
                FailedSync(
                    m.entry_id,
                    latest.id,
                    client,
                    latest.user_name,
                    latest.minutes,
                    latest.work_date,
                    m.last_error or "",
                )
            )
        return found, len(failed)

    def root_ids_of_client(self, client_id: int) -> list[int]:
        return [
            m.entry_id
            for m in self._t.outbox.values()
            if m.destination == DESTINATION and m.client_id == client_id and m.entry_id is not None
        ]

    def member_of(self, user_id: str) -> Row | None:
        return self._t.psa_members.get(user_id)

    def set_member(self, user_id: str, member_id: str | None, source: str, now: datetime) -> None:
        if member_id is None:
            self._t.psa_members.pop(user_id, None)
        else:
            self._t.psa_members[user_id] = Row(user_id=user_id, member_id=member_id, source=source, updated_at=now)

    def members(self) -> dict[str, str]:
        return {user: row.member_id for user, row in self._t.psa_members.items()}

    def email_of(self, user_id: str) -> str | None:
        person = self._t.people.get(user_id)
        return person.email if person is not None else None

    def authors(self, since: datetime) -> dict[str, str]:
        found: dict[str, tuple[int, str]] = {}
        for e in self._t.entries.values():
            if e.created_at >= since and e.id > found.get(e.user_id, (0, ""))[0]:
                found[e.user_id] = (e.id, e.user_name)
        return {user: name for user, (_, name) in found.items()}

    def users_named(self, name: str) -> set[str]:
        wanted = name.strip().lower()
        named = [(p.user_id, p.name) for p in self._t.people.values()]
        named += [(e.user_id, e.user_name) for e in self._t.entries.values()]
        return {user for user, full in named if wanted in (full.lower(), (full.split() or [""])[0].lower())}

    def work_type_map(self, work_type: str) -> Row | None:
        return self._t.psa_work_types.get(work_type)

    def work_type_maps(self) -> dict[str, Row]:
        return dict(self._t.psa_work_types)

    def set_work_type(self, work_type: str, type_id: str | None, role_id: str | None) -> None:
        self._t.psa_work_types[work_type] = Row(work_type=work_type, psa_work_type_id=type_id, psa_work_role_id=role_id)


class Ledger(_Repository):
    """``storage.postings.Ledger`` over the tables: the same reads, and ``save`` applies a posting as
    ``storage.postings.store`` does, in its order (new blocks and entries get real ids first)."""

    def blocks(self, client_id: int, used_up_since: date) -> list[BlockRow]:
        found = self._t.blocks.values()
        return [
            _block_row(b)
            for b in sorted(found, key=lambda b: b.id)
            if b.client_id == client_id
            and b.voided_at is None
            and (b.remaining_minutes > 0 or _may_be_current(b, found, used_up_since))
        ]

    def blocks_by_id(self, block_ids: Sequence[int]) -> list[BlockRow]:
        return [_block_row(self._t.blocks[i]) for i in block_ids if i in self._t.blocks]

    def overage_entries(self, client_id: int) -> list[EntryRow]:
        found = (e for e in self._t.entries.values() if e.client_id == client_id and e.overage_minutes > 0)
        return [_entry_row(e) for e in sorted(found, key=lambda e: e.id) if _live(e)]

    def entries_by_id(self, entry_ids: Sequence[int]) -> dict[int, EntryRow]:
        return {i: _entry_row(self._t.entries[i]) for i in entry_ids if i in self._t.entries}

    def live_draws(self, *, entry_id: int | None = None, block_id: int | None = None) -> list[DrawRow]:
        found = (
            d
            for d in sorted(self._t.draws.values(), key=lambda d: d.id)
            if d.reversed_at is None and (d.entry_id == entry_id if entry_id is not None else d.block_id == block_id)
        )
        return [DrawRow(d.id, d.entry_id, d.block_id, d.minutes) for d in found]

    def save(self, posting: PostingLike) -> Ids:
        t, ids = self._t, Ids()
        for values in posting.new_blocks:
            unique(t.blocks.values(), "idempotency_key", values.get("idempotency_key"), "blocks.idempotency_key")
            unique(t.blocks.values(), "renewal_of_id", values.get("renewal_of_id"), "blocks.renewal_of_id")
            block = row_of(models.Block, **{**values, "id": t.next_id("blocks")})
            t.blocks[block.id] = block
            ids[values["id"]] = block.id
        for values in posting.new_entries:
            unique(t.entries.values(), "idempotency_key", values.get("idempotency_key"), "entries.idempotency_key")
            entry = row_of(
                models.Entry, **{**values, "id": t.next_id("entries"), "root_id": ids(values.get("root_id"))}
            )
            t.entries[entry.id] = entry
            ids[values["id"]] = entry.id
        for values in posting.new_draws:
            draw = row_of(
                models.Draw,
                **{
                    **values,
                    "id": t.next_id("draws"),
                    "entry_id": ids(values["entry_id"]),
                    "block_id": ids(values["block_id"]),
                },
            )
            t.draws[draw.id] = draw
        for draw_id in posting.reversed_draws:
            t.draws[draw_id].reversed_at = posting.reversed_at
        for block_id, changes in posting.blocks.items():
            _change(t.blocks[block_id], changes)
        for entry_id, changes in posting.entries.items():
            _change(t.entries[entry_id], changes)
        if posting.totals:
            totals = {k: ids(v) if k == "last_entry_id" else v for k, v in posting.totals.items()}
            _change(t.clients[posting.client_id], totals)
        for values in posting.lines:
            line = row_of(
                models.LedgerLine,
                **{
                    **values,
                    "id": t.next_id("ledger_lines"),
                    "block_id": ids(values["block_id"]),
                    "entry_id": ids(values["entry_id"]),
                },
            )
            t.lines[line.id] = line
            ids[values["id"]] = line.id
        return ids


def _change(row: Row, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        assert hasattr(row, name), name  # a column the table has
        setattr(row, name, value)


def _block_row(b: Row) -> BlockRow:
    return BlockRow(
        b.id,
        b.number,
        b.minutes,
        b.remaining_minutes,
        b.forfeited_minutes,
        b.start_on,
        b.expires_on,
        b.reference,
        paid=b.paid,
        source=b.source,
    )


def _entry_row(e: Row) -> EntryRow:
    return EntryRow(e.id, e.work_date, e.billable_minutes, e.overage_minutes, e.billed_overage_minutes)


class PsaBlocks(_Repository):
    """``storage.psa_blocks.PsaBlocks``: blocks' writes to the PSA (issue 26)."""

    def _row(self, block_id: int) -> Row | None:
        return next(
            (
                m
                for m in self._t.outbox.values()
                if m.destination == DESTINATION and m.kind == "psa_block" and m.block_id == block_id
            ),
            None,
        )

    def requeue(self, row: dict[str, object], block_id: int) -> None:
        found = self._row(block_id)
        if found is None:
            unique(self._t.outbox.values(), "dedupe_key", row["dedupe_key"], "outbox.dedupe_key")
            message = row_of(models.OutboxMessage, id=self._t.next_id("outbox"), block_id=block_id, **row)
            self._t.outbox[message.id] = message
            return
        found.status, found.next_attempt_at, found.attempts, found.last_error = (
            "pending",
            row["next_attempt_at"],
            0,
            None,
        )
        found.version += 1

    def create_sent(self, block_id: int) -> bool:
        row = self._row(block_id)
        return row is None or bool(json.loads(row.payload).get("create_sent", True))

    def mark_create_sent(self, block_id: int) -> None:
        row = self._row(block_id)
        if row is not None:
            row.payload = json.dumps({**json.loads(row.payload), "create_sent": True})

    def set_psa_id(self, block_id: int, psa_id: str | None) -> None:
        self._t.blocks[block_id].psa_id = psa_id

    def rows(self, block_ids: Iterable[int]) -> dict[int, Any]:
        from storage.psa_blocks import BlockRow

        found = {}
        for block_id in set(block_ids):
            row = self._row(block_id)
            if row is not None:
                found[block_id] = BlockRow(block_id, row.status, row.last_error)
        return found

    def failed(self, limit: int = 20) -> tuple[list[Any], int]:
        from storage.psa_blocks import FailedBlock

        rows = sorted(
            (m for m in self._t.outbox.values() if m.kind == "psa_block" and m.status == "failed"), key=lambda m: m.id
        )
        found = []
        for m in rows[:limit]:
            block = self._t.blocks[m.block_id]
            client = self._t.clients[block.client_id]
            found.append(
                FailedBlock(
                    block.id,
                    block.number,
                    client.handle,
                    block.minutes,
                    block.voided_at is not None,
                    m.last_error or "",
                )
            )
        return found, len(rows)

    def requeue_failed(self, now: datetime, client_id: int | None = None) -> int:
        count = 0
        for m in self._t.outbox.values():
            if m.kind == "psa_block" and m.status == "failed" and client_id in (None, m.client_id):
                m.status, m.next_attempt_at, m.attempts, m.last_error = "pending", now, 0, None
                m.version += 1
                count += 1
        return count

    def by_psa_id(self, client_id: int, psa_ids: Iterable[str]) -> set[str]:
        wanted = set(psa_ids)
        return {b.psa_id for b in self._t.blocks.values() if b.client_id == client_id and b.psa_id in wanted}
