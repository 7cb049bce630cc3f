"""The repositories a unit of work holds as attributes (``uow.clients``, ``uow.outbox``, ...): what the
use cases read and write, by name, on the unit of work's transaction. Services call these and never
touch the session or build a model; the SQL itself stays in the query modules beside this one
(``storage.repositories``, ``storage.ledger_queries``, ``storage.capture``, ``storage.outbox``,
``storage.psa_chains``). The ledger's reads and its one writer are ``uow.ledger`` (``storage.postings``).

The rows handed out are the ORM's for now; the names below (``Client``, ``Entry``...) are for type
annotations: only a repository makes one."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import capture, ledger_queries, outbox, repositories
from storage import psa_chains as psa_queries
from storage.models import (
    AuditLog,
    Block,
    ChannelLink,
    Client,
    ClientAlias,
    ClientWorkType,
    Entry,
    LedgerLine,
    NudgeOptOut,
    OutboxMessage,
    PsaMember,
    PsaWorkType,
    SlackChannel,
    SlackPerson,
    ThreadActivity,
    Timer,
    UserRole,
    WorkType,
)
from storage.psa_chains import FailedSync, SyncRow

__all__ = [
    "Block",
    "Client",
    "Entry",
    "FailedSync",
    "LedgerLine",
    "OutboxMessage",
    "PsaMember",
    "PsaWorkType",
    "SyncRow",
    "ThreadActivity",
    "Timer",
    "WorkType",
]


class _Repository:
    def __init__(self, session: Session) -> None:
        self._session = session


class Clients(_Repository):
    """Clients and their aliases."""

    def get(self, handle: str, lock: bool = False) -> Client | None:
        """The client whose handle is ``handle`` (re-read; ``lock`` takes its row lock)."""
        return repositories.client_by_handle(self._session, handle, lock)

    def by_id(self, client_id: int) -> Client | None:
        return repositories.client(self._session, client_id)

    def locked(self, client_id: int) -> Client | None:
        """The client's row, locked for this transaction and re-read so running figures are current."""
        return repositories.locked_client(self._session, client_id)

    def id_by_alias(self, alias: str) -> int | None:
        return repositories.client_id_by_alias(self._session, alias)

    def by_ids(self, client_ids: list[int]) -> dict[int, Client]:
        """The given clients by id, in one query."""
        return repositories.clients_by_id(self._session, client_ids)

    def all(self, include_archived: bool = False) -> list[Client]:
        """By handle; archived ones only when asked for."""
        return repositories.clients(self._session, include_archived)

    def active_ids(self) -> list[int]:
        return repositories.active_client_ids(self._session)

    def names(self) -> list[str]:
        """Every active client's handle, then every alias (for "did you mean")."""
        return repositories.active_handles(self._session) + repositories.aliases(self._session)

    def name_taken(self, name: str) -> bool:
        """Whether ``name`` is a client's handle or alias already."""
        return repositories.name_taken(self._session, name)

    def add(self, **columns: Any) -> Client:
        """A new client, with its id."""
        client = Client(**columns)
        self._session.add(client)
        self._session.flush()
        return client

    def add_alias(self, client: Client, alias: str) -> None:
        self._session.add(ClientAlias(client_id=client.id, alias=alias))
        self._session.flush()
        self._session.refresh(client)

    def save(self, client: Client) -> None:
        """Write the changes made to ``client`` now (later reads in this transaction see them)."""
        self._session.flush()

    def usage_by_handle(self, today: date) -> dict[str, tuple[int, int]]:
        """Billable minutes per handle over the last 30 and 90 days."""
        return repositories.usage_by_handle(self._session, today)


class Blocks(_Repository):
    """Blocks of prepaid hours."""

    def get(self, block_id: int) -> Block | None:
        return self._session.get(Block, block_id)

    def reread(self, block_id: int) -> Block | None:
        """The block's row read again (after taking its client's lock: what another writer committed)."""
        return self._session.get(Block, block_id, populate_existing=True)

    def by_key(self, key: str) -> Block | None:
        return repositories.block_by_key(self._session, key)

    def by_number(self, client_id: int, number: int) -> Block | None:
        """The client's block ``number`` (its own numbering: its first block is 1)."""
        return repositories.block_by_number(self._session, client_id, number)

    def last_number(self, client_id: int) -> int | None:
        """The number of the client's newest block (None: it has none yet)."""
        return repositories.last_block_number(self._session, client_id)

    def refills_since(self, client_id: int, since: datetime) -> int:
        """How many live refill blocks (source ``refill``) the client got from ``since`` on (a refill cap)."""
        return repositories.refills_since(self._session, client_id, since)

    def refill_of_entry(self, client_id: int, entry_id: int) -> Block | None:
        """The live refill block the logging of the entry added, if it added one."""
        return repositories.refill_of_entry(self._session, client_id, entry_id)

    def clients_expiring_by(self, day: date) -> list[int]:
        """Clients with a live block still holding minutes whose expiry is on or before ``day``."""
        return repositories.clients_with_blocks_expiring_by(self._session, day)

    def open_of(self, client_ids: list[int], used_up_since: date | None = None) -> dict[int, list[Block]]:
        """Each client's live blocks with minutes left (and, with ``used_up_since``, the used-up ones
        that may still be current: ``storage.repositories.open_blocks``)."""
        return repositories.open_blocks(self._session, client_ids, used_up_since)

    def of_client(self, client_id: int) -> list[Block]:
        """All of a client's blocks, newest first."""
        return repositories.blocks_of(self._session, client_id)

    def unrenewed(self) -> list[tuple[int, date, int]]:
        """``(block id, start, months)`` of live blocks with a renewal rule and no renewal yet."""
        return repositories.unrenewed_blocks(self._session)

    def renewal_of(self, block_id: int) -> int | None:
        return repositories.renewal_of(self._session, block_id)

    def unpaid(self) -> list[Block]:
        """Live blocks not yet paid, used up or not, of active clients: by client, then block number."""
        return repositories.unpaid_blocks(self._session)


class Entries(_Repository):
    """Time entries."""

    def get(self, entry_id: int) -> Entry | None:
        return repositories.entry(self._session, entry_id)

    def reread(self, entry_id: int) -> Entry | None:
        """The entry's row read again (after taking its client's lock: what another writer committed)."""
        return self._session.get(Entry, entry_id, populate_existing=True)

    def latest_live_id(self, client_id: int, besides: int) -> int | None:
        """The client's newest live entry other than ``besides`` (what a dashboard shows once it is voided)."""
        return repositories.latest_live_entry_id(self._session, client_id, besides)

    def by_key(self, key: str) -> Entry | None:
        return repositories.entry_by_key(self._session, key)

    def by_ids(self, ids: list[int]) -> list[Entry]:
        return repositories.entries_by_id(self._session, ids)

    def latest(self, client_id: int, limit: int) -> list[Entry]:
        return repositories.latest_entries(self._session, client_id, limit)

    def in_period(self, client_id: int, start: date, end: date) -> list[Entry]:
        """Work date in [start, end), oldest first, voided ones included."""
        return repositories.entries_in_period(self._session, client_id, start, end)

    def used_between(self, client_ids: list[int], start: date, end: date) -> dict[int, int]:
        return repositories.used_between(self._session, client_ids, start, end)

    def billable_since(self, client_id: int, start: date) -> int:
        return repositories.billable_used_since(self._session, client_id, start)

    def live_of_message(self, source_ref: str) -> Entry | None:
        return repositories.live_entry_of_message(self._session, source_ref)

    def logged_since(self, user_id: str, start: datetime, limit: int) -> list[tuple[Entry, str]]:
        return repositories.entries_logged_since(self._session, user_id, start, limit)

    def logged_since_totals(self, user_id: str, start: datetime) -> tuple[int, int]:
        return repositories.logged_since_totals(self._session, user_id, start)

    def recent_client_handles(self, user_id: str, limit: int) -> list[str]:
        return repositories.recent_client_handles(self._session, user_id, limit)

    def logged_on_thread(self, user_id: str, thread_ref: str, since: datetime) -> bool:
        return capture.time_logged_on_thread(self._session, user_id, thread_ref, since)


class LedgerLines(_Repository):
    """The ledger's lines, read for statements and reports."""

    def totals_by_kind(self, client_id: int, start: date, end: date) -> dict[str, int]:
        return ledger_queries.totals_by_kind(self._session, client_id, start, end)

    def balance_before(self, client_id: int, day: date) -> int:
        return ledger_queries.balance_before(self._session, client_id, day)

    def rolled_over(self, client_id: int, start: date, end: date) -> int:
        return ledger_queries.rolled_over(self._session, client_id, start, end)

    def any_before(self, client_id: int, day: date) -> bool:
        return ledger_queries.has_lines_before(self._session, client_id, day)

    def timezones(self, client_ids: list[int]) -> dict[int, str]:
        return ledger_queries.timezones(self._session, client_ids)

    def handles(self) -> dict[int, str]:
        return ledger_queries.handles(self._session)

    def entry_lines(
        self, client_id: int, kinds: Iterable[str], start: date, end: date
    ) -> list[tuple[str, date, Entry]]:
        return ledger_queries.entry_lines(self._session, client_id, kinds, start, end)

    def covered_at(self, entry_ids: list[int], moment: datetime) -> dict[int, int]:
        return ledger_queries.covered_at(self._session, entry_ids, moment)

    def corrections_of(self, entry_ids: list[int], moment: datetime) -> dict[int, tuple[bool, int | None]]:
        return ledger_queries.corrections_of(self._session, entry_ids, moment)

    def latest(self, client_id: int, limit: int) -> list[LedgerLine]:
        return ledger_queries.latest_lines(self._session, client_id, limit)

    def billable_by_work_date(self, client_id: int, start: date, end: date) -> list[tuple[date, int]]:
        return ledger_queries.billable_by_work_date(self._session, client_id, start, end)

    def priced_draws(self, client_id: int, start: date, end: date) -> list[tuple[int, Decimal, int]]:
        return ledger_queries.priced_draws(self._session, client_id, start, end)

    def statement_rows(
        self, client_id: int, start: date, end: date, latest: int | None = None
    ) -> list[ledger_queries.StatementRow]:
        return ledger_queries.statement_rows(self._session, client_id, start, end, latest)

    def statement_by_person(self, client_id: int, start: date, end: date) -> list[tuple[str, int, int]]:
        return ledger_queries.statement_by_person(self._session, client_id, start, end)

    def changes_by_day(self, client_id: int, start: date, end: date) -> list[tuple[date, int]]:
        return ledger_queries.changes_by_day(self._session, client_id, start, end)

    def first_recorded_on(self, client_id: int) -> date | None:
        return ledger_queries.first_recorded_on(self._session, client_id)

    def bought_above_since(self, client_id: int, since: datetime, level: int) -> bool:
        """Whether hours were bought (a top-up or renewal line) after ``since`` that left the balance above ``level``."""
        return repositories.bought_above_since(self._session, client_id, since, level)


class Outbox(_Repository):
    """Messages waiting to go out, and the dispatcher's claims on them (``storage.outbox``)."""

    def add(self, row: dict[str, object], entry_id: int | None = None) -> None:
        """A new message: ``row`` as ``storage.outbox.new_row`` makes it (its ``dedupe_key`` unique)."""
        self._session.add(OutboxMessage(**row, entry_id=entry_id))

    def key_taken(self, dedupe_key: str) -> bool:
        """Whether a message with ``dedupe_key`` was queued already."""
        return repositories.outbox_key_taken(self._session, dedupe_key)

    def status_of(self, dedupe_key: str) -> str | None:
        """The status (pending, sent, failed) of the message with ``dedupe_key``; None when there is none."""
        return outbox.status_of(self._session, dedupe_key)

    def queue_failed_again(self, dedupe_key: str, payload: str, now: datetime) -> bool:
        return outbox.queue_failed_again(self._session, dedupe_key, payload, now)

    def requeue(self, row: dict[str, object], entry_id: int) -> None:
        outbox.requeue(self._session, row, entry_id)

    def requeue_failed(self, destination: str, now: datetime, entry_ids: Iterable[int] | None = None) -> int:
        return outbox.requeue_failed(self._session, destination, now, entry_ids)

    def due(self, now: datetime, destinations: Iterable[str], limit: int) -> list[tuple[int, str]]:
        return outbox.due(self._session, now, destinations, limit)

    def claim(self, outbox_id: int, worker: str, now: datetime, until: datetime) -> OutboxMessage | None:
        return outbox.claim(self._session, outbox_id, worker, now, until)

    def mark_sent(self, outbox_id: int, worker: str, now: datetime, ref: str, version: int = 0) -> bool:
        return outbox.mark_sent(self._session, outbox_id, worker, now, ref, version)

    def mark_failed(self, outbox_id: int, worker: str, reason: str, version: int = 0) -> bool:
        return outbox.mark_failed(self._session, outbox_id, worker, reason, version)

    def retry_later(
        self, outbox_id: int, version: int, now: datetime, reason: str, delay: Callable[[int], float]
    ) -> float | None:
        return outbox.retry_later(self._session, outbox_id, version, now, reason, delay)

    def threshold_alerts(self, client_id: int, limit: int = 50) -> list[OutboxMessage]:
        return repositories.recent_threshold_alerts(self._session, client_id, limit)

    def mark_create_sent(self, outbox_id: int) -> None:
        outbox.mark_create_sent(self._session, outbox_id)


class Audit(_Repository):
    """The audit log: who changed what, with before and after."""

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
        self._session.add(
            AuditLog(
                at=at,
                actor=actor,
                action=action,
                client_id=client_id,
                target=target,
                before=None if before is None else json.dumps(before, default=str, sort_keys=True),
                after=None if after is None else json.dumps(after, default=str, sort_keys=True),
            )
        )

    def changes(self, client_id: int, action: str, limit: int = 200) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The client's last ``limit`` audit rows of ``action``, newest first: (before, after)."""
        rows = self._session.execute(
            select(AuditLog.before, AuditLog.after)
            .where(AuditLog.client_id == client_id, AuditLog.action == action)
            .order_by(AuditLog.id.desc())
            .limit(limit)
        ).all()
        return [(json.loads(b or "{}"), json.loads(a or "{}")) for b, a in rows]


class Roles(_Repository):
    """Roles admins gave people (``admin``, ``manager``, ``technician``)."""

    def stored(self, user_id: str) -> str | None:
        return repositories.stored_role(self._session, user_id)

    def grant(self, user_id: str, role: str, by: str, at: datetime) -> str | None:
        """Give ``user_id`` ``role`` (their row locked first); the role stored before, if any."""
        row = self._session.get(UserRole, user_id, with_for_update=True)
        before = row.role if row is not None else None
        if row is None:
            self._session.add(UserRole(user_id=user_id, role=role, granted_by=by, granted_at=at))
        else:
            row.role, row.granted_by, row.granted_at = role, by, at
        return before


class People(_Repository):
    """What Slack said of people."""

    def remember(
        self, user_id: str, team_id: str | None, standing: str, name: str, email: str | None, at: datetime
    ) -> None:
        """Store what Slack said; an e-mail it no longer gives is kept."""
        row = self._session.get(SlackPerson, user_id)
        if row is None:
            row = SlackPerson(user_id=user_id)
            self._session.add(row)
        row.team_id, row.standing, row.name, row.checked_at = team_id, standing, name, at
        row.email = email or row.email

    def standing(self, user_id: str) -> str | None:
        """What Slack last said of ``user_id`` (None: never asked)."""
        row = self._session.get(SlackPerson, user_id)
        return row.standing if row is not None else None


class Channels(_Repository):
    """Slack channels: what Slack said of them (shared or not) and which client each is linked to."""

    def remember(self, channel_id: str, shared: bool, reason: str, at: datetime) -> None:
        row = self._session.get(SlackChannel, channel_id)
        if row is None:
            self._session.add(SlackChannel(channel_id=channel_id, shared=shared, reason=reason, checked_at=at))
        else:
            row.shared, row.reason, row.checked_at = shared, reason, at

    def shared_reason(self, channel_id: str) -> str | None:
        """Why people outside the MSP read ``channel_id`` (None when it is not known to be shared)."""
        row = self._session.get(SlackChannel, channel_id)
        return row.reason if row is not None and row.shared else None

    def linked_client_id(self, channel_id: str, lock: bool = False) -> int | None:
        """The client ``channel_id`` is linked to; ``lock`` takes the link's row lock for a change."""
        row = self._session.get(ChannelLink, channel_id, with_for_update=lock or None)
        return row.client_id if row is not None else None

    def link(self, channel_id: str, client_id: int, by: str, at: datetime, public_replies: bool | None) -> None:
        """Link ``channel_id`` to the client (``public_replies`` None keeps what it was)."""
        row = self._session.get(ChannelLink, channel_id)
        if row is None:
            row = ChannelLink(channel_id=channel_id, client_id=client_id, linked_by=by, linked_at=at)
            self._session.add(row)
        else:
            row.client_id, row.linked_by, row.linked_at = client_id, by, at
        if public_replies is not None:
            row.public_replies = public_replies

    def unlink(self, channel_id: str) -> None:
        row = self._session.get(ChannelLink, channel_id)
        if row is not None:
            self._session.delete(row)

    def links(self) -> list[tuple[str, int, str, str, bool]]:
        """``(channel, client id, handle, display name, public replies)`` of every linked channel."""
        return repositories.channel_links(self._session)


class Timers(_Repository):
    """Running timers, one per person."""

    def of(self, user_id: str) -> Timer | None:
        return self._session.get(Timer, user_id)

    def with_client(self, user_id: str) -> tuple[Timer, Client] | None:
        return repositories.running_timer(self._session, user_id)

    def start(
        self, user_id: str, user_name: str, client_id: int, note: str, work_type: str | None, at: datetime
    ) -> None:
        """A new timer for ``user_id`` (any other of theirs goes)."""
        capture.remove_timer(self._session, user_id)
        self._session.add(
            Timer(
                user_id=user_id, user_name=user_name, client_id=client_id, note=note, work_type=work_type, started_at=at
            )
        )

    def remove(self, user_id: str, started_at: datetime | None = None) -> None:
        """The person's timer goes (only the one started at ``started_at``, when given)."""
        capture.remove_timer(self._session, user_id, started_at)

    def started_before(self, moment: datetime) -> list[tuple[Timer, Client]]:
        return capture.timers_started_before(self._session, moment)


class WorkTypes(_Repository):
    """Work types and clients' own rates for them."""

    def get(self, name: str, lock: bool = False) -> WorkType | None:
        return self._session.get(WorkType, name, with_for_update=lock or None)

    def all(self, include_archived: bool = False) -> list[WorkType]:
        return repositories.work_types(self._session, include_archived)

    def define(self, name: str, multiplier: Decimal, at: datetime) -> None:
        """``name`` at ``multiplier``, in use (a new one, or one defined before: unarchived)."""
        row = self._session.get(WorkType, name)
        if row is None:
            self._session.add(WorkType(name=name, multiplier=multiplier, archived=False, created_at=at))
        else:
            row.multiplier, row.archived = multiplier, False

    def archive(self, name: str) -> None:
        row = self._session.get(WorkType, name)
        if row is not None:
            row.archived = True

    def client_rate(self, client_id: int, name: str) -> Decimal | None:
        own = self._session.get(ClientWorkType, (client_id, name))
        return own.multiplier if own is not None else None

    def set_client_rate(self, client_id: int, name: str, rate: Decimal | None) -> None:
        """The client's own rate for ``name`` (None: back to the work type's)."""
        own = self._session.get(ClientWorkType, (client_id, name))
        if rate is None:
            if own is not None:
                self._session.delete(own)
        elif own is None:
            self._session.add(ClientWorkType(client_id=client_id, work_type=name, multiplier=rate))
        else:
            own.multiplier = rate


class Nudges(_Repository):
    """Who turned nudges off, and who replied in which ticket thread when (never what)."""

    def off_for(self, user_id: str) -> bool:
        return self._session.get(NudgeOptOut, user_id) is not None

    def everyone_off(self) -> set[str]:
        return capture.nudges_off(self._session)

    def turn_off(self, user_id: str, at: datetime) -> None:
        if self._session.get(NudgeOptOut, user_id) is None:
            self._session.add(NudgeOptOut(user_id=user_id, at=at))

    def turn_on(self, user_id: str) -> None:
        row = self._session.get(NudgeOptOut, user_id)
        if row is not None:
            self._session.delete(row)

    def note_reply(self, user_id: str, channel_id: str, thread_ts: str, at: datetime) -> None:
        row = capture.thread_activity(self._session, user_id, channel_id, thread_ts)
        if row is None:
            self._session.add(ThreadActivity(user_id=user_id, channel_id=channel_id, thread_ts=thread_ts, at=at))
        else:
            row.at = at

    def replies_before(self, end: datetime) -> list[ThreadActivity]:
        """What was kept of replies before ``end``, by person, oldest first."""
        return capture.activity_before(self._session, end)

    def forget(self, before: datetime | None = None, user_id: str | None = None) -> None:
        """Everything kept before ``before``, or everything of ``user_id``."""
        capture.forget_activity(self._session, before, user_id)


class PsaLinks(_Repository):
    """What the PSA sync keeps (``storage.psa_chains``): chains of entries, mappings to PSA ids, sync state."""

    @staticmethod
    def chain_root(entry: Entry) -> int:
        return psa_queries.chain_root(entry)

    def chain(self, root_id: int) -> list[Entry]:
        return psa_queries.chain(self._session, root_id)

    def untimed_minutes_before(self, entry: Entry) -> int:
        return psa_queries.untimed_minutes_before(self._session, entry)

    def thread_notes(self, thread_ref: str | None) -> list[str]:
        return psa_queries.thread_notes(self._session, thread_ref)

    def create_sent(self, root_id: int) -> bool:
        return psa_queries.create_sent(self._session, root_id)

    def mark_create_sent(self, root_id: int) -> None:
        psa_queries.mark_create_sent(self._session, root_id)

    def set_psa_id(self, root_id: int, psa_id: str | None) -> None:
        psa_queries.set_psa_id(self._session, root_id, psa_id)

    def sync_rows(self, root_ids: Iterable[int]) -> dict[int, SyncRow]:
        return psa_queries.sync_rows(self._session, root_ids)

    def failed_syncs(self, limit: int = 20) -> tuple[list[FailedSync], int]:
        return psa_queries.failed_syncs(self._session, limit)

    def root_ids_of_client(self, client_id: int) -> list[int]:
        return psa_queries.root_ids_of_client(self._session, client_id)

    def member_of(self, user_id: str) -> PsaMember | None:
        return psa_queries.member_of(self._session, user_id)

    def set_member(self, user_id: str, member_id: str | None, source: str, now: datetime) -> None:
        psa_queries.set_member(self._session, user_id, member_id, source, now)

    def members(self) -> dict[str, str]:
        return psa_queries.members(self._session)

    def email_of(self, user_id: str) -> str | None:
        return psa_queries.email_of(self._session, user_id)

    def authors(self, since: datetime) -> dict[str, str]:
        return psa_queries.authors(self._session, since)

    def users_named(self, name: str) -> set[str]:
        return psa_queries.users_named(self._session, name)

    def work_type_map(self, work_type: str) -> PsaWorkType | None:
        return psa_queries.work_type_map(self._session, work_type)

    def work_type_maps(self) -> dict[str, PsaWorkType]:
        return psa_queries.work_type_maps(self._session)

    def set_work_type(self, work_type: str, type_id: str | None, role_id: str | None) -> None:
        psa_queries.set_work_type(self._session, work_type, type_id, role_id)
