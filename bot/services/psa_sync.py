"""Time logged here lands in the MSP's PSA, through the outbox.

- Every entry, edit and void queues its chain (an entry and the edits that replaced it: one record in
  the PSA) in the same transaction (:func:`queue_chain`). One outbox row per chain, queued again on
  each change, so the dispatcher syncs the chain's latest state: create, update or remove.
- :func:`sync_chain` makes the PSA's record match the chain's latest entry; the dispatcher's
  transport for ``psa`` (``bot.jobs.transports.PsaTransport``) calls it.
- :func:`sync_states` says, for views, where each entry stands."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace

from bot.domain.psa_records import PsaTime, SyncState, masked, service_ticket, start_of, sync_state
from bot.domain.roles import Role, require
from bot.psa import Psa, PsaError, PsaNotFound, psa_label
from bot.services.context import Actor, Context, client_named
from bot.services.psa_blocks import requeue_failed as requeue_failed_blocks
from bot.services.results import EntryView, Message
from storage import outbox
from storage import psa_chains as store
from storage.db import UnitOfWork
from storage.repos import Entry


def sync_row(ctx: Context, client_id: int) -> dict[str, object] | None:
    """The outbox row that queues a new chain for the PSA (no PSA: None), but for its ``entry_id``:
    a fresh reference for the PSA's record, and no create sent yet (so the first attempt creates
    without looking for one first)."""
    if not ctx.settings.psa:
        return None
    reference = str(uuid.uuid4())
    return outbox.new_row(
        kind="psa_sync",
        destination=store.DESTINATION,
        now=ctx.now(),
        payload=json.dumps({"kind": "psa_sync", "reference": reference, store.CREATE_SENT: False}),
        dedupe_key=f"psa:{reference}",
        client_id=client_id,
    )


def queued_note(ctx: Context) -> str | None:
    """What a new entry's reply says of the PSA (no PSA: nothing)."""
    label = psa_label(ctx.settings)
    return f"queued for {label}" if label else None


def queue_chain(uow: UnitOfWork, ctx: Context, entry: Entry) -> None:
    """Queue ``entry``'s chain for the PSA, in the caller's transaction (no PSA: nothing)."""
    queue_chain_sync(uow, ctx, entry.client_id, uow.psa.chain_root(entry))


def queue_chain_sync(uow: UnitOfWork, ctx: Context, client_id: int, chain_root: int) -> None:
    """Queue the chain whose first entry is ``chain_root`` for the PSA (no PSA: nothing)."""
    row = sync_row(ctx, client_id)
    if row is None:
        return
    uow.outbox.requeue(row, chain_root)
    uow.after_commit(ctx.db.outbox_written)


def sync_states(uow: UnitOfWork, ctx: Context, entries: Iterable[Entry]) -> dict[int, SyncState]:
    """Entry id -> where it stands in the PSA (empty when no PSA is connected)."""
    if not ctx.settings.psa:
        return {}
    entries = list(entries)
    rows = uow.psa.sync_rows(uow.psa.chain_root(e) for e in entries)
    states = {}
    for entry in entries:
        row = rows.get(uow.psa.chain_root(entry))
        states[entry.id] = sync_state(
            row.status if row else None, row.error if row else None, entry.voided_at is not None, entry.psa_id
        )
    return states


def with_sync(
    uow: UnitOfWork, ctx: Context, views: list[EntryView], entries: Iterable[Entry] | None = None
) -> list[EntryView]:
    """``views`` with where each entry stands in the PSA (unchanged when no PSA is connected); the
    views' ``entries`` when the caller has them read already, else they are read by id."""
    if not ctx.settings.psa or not views:
        return views
    rows = entries if entries is not None else uow.entries.by_ids(sorted({v.id for v in views}))
    states = sync_states(uow, ctx, rows)
    return [
        replace(view, psa=states[view.id].text, psa_id=states[view.id].psa_id) if view.id in states else view
        for view in views
    ]


def retry_failed(ctx: Context, actor: Actor, handle: str | None = None, entry_ids: list[int] | None = None) -> Message:
    """Failed syncs (of one client, or these chains) queued again: after a mapping is fixed. The role
    is checked first: someone who may not retry learns nothing of the configuration."""
    with ctx.db.unit_of_work() as uow:
        require(ctx.role(uow, actor), Role.MANAGER, "retry PSA syncs")
        label = psa_label(ctx.settings)
        if label is None:
            return Message("No PSA is connected (PSA in the environment).", {"requeued": 0})
        wanted = entry_ids
        client_id = client_named(uow, handle).id if handle is not None else None
        blocks = requeue_failed_blocks(uow, ctx, client_id) if entry_ids is None else 0  # first: see below
        if client_id is not None:
            wanted = uow.psa.root_ids_of_client(client_id)
        count = uow.outbox.requeue_failed(store.DESTINATION, ctx.now(), wanted)  # the blocks' are pending now
        if count:
            uow.after_commit(ctx.db.outbox_written)
        uow.commit()
    said = [f"{count} failed {'entry' if count == 1 else 'entries'}"] if count else []
    said += [f"{blocks} failed {'block' if blocks == 1 else 'blocks'}"] if blocks else []
    return Message(
        f"{' and '.join(said)} queued for {label} again." if said else "Nothing failed.",
        {"requeued": count + blocks, **({"requeued_blocks": blocks} if blocks else {})},
    )


def sync_chain(ctx: Context, psa: Psa, root_id: int, reference: str) -> str:
    """Make ``psa``'s record match the chain's latest entry: create it, update it, or remove it (voided).
    Where an earlier create was sent (marked on the sync row before the call), the record may be in the
    PSA without our knowing its id: it is looked for by our ``reference`` first; a chain never sent is
    not (one request per new entry, not two). Stores
    the PSA's id on the entries; returns it (or what was removed). Raises ``PsaError``: permanent for a
    missing mapping or a refusal of the PSA, else to be tried again."""
    return _Sync(ctx, psa)._sync(root_id, reference)


@dataclass(frozen=True)
class _Plan:
    psa_id: str | None  # the chain's record, when we know it
    user_id: str
    user_name: str
    member_id: str | None
    email: str | None
    tickets: tuple[str, ...]  # where the chain's record may be: its latest ticket first, then earlier ones
    create_sent: bool  # a create was sent before: the PSA may hold a record whose id we never got
    time: PsaTime | None = None  # what the record should hold; None: the chain is voided, its record goes


class _Sync:
    """Makes the PSA's record match a chain's latest entry (``sync_chain``)."""

    def __init__(self, ctx: Context, psa: Psa) -> None:
        self.ctx = ctx
        self.psa = psa

    def _sync(self, root_id: int, reference: str) -> str:
        with self.ctx.db.unit_of_work(read_only=True) as uow:
            plan = self._plan(uow, root_id, reference)
        psa_id = plan.psa_id
        if plan.time is None:
            psa_id = psa_id or self._stored(plan, reference)
            if psa_id:
                try:
                    self.psa.delete_time(psa_id)
                except PsaNotFound:
                    pass  # gone already (deleted by us before a timeout, or by someone in the PSA)
            return f"removed {psa_id}" if psa_id else "nothing to remove"
        time = replace(plan.time, member_id=self._member(plan))
        if psa_id:
            try:
                saved = self.psa.update_time(psa_id, time)
                if saved == psa_id:
                    return psa_id
                psa_id = saved  # the PSA made it anew (an upsert of a record deleted there)
            except PsaNotFound:
                psa_id = None  # deleted in the PSA meanwhile: the entry still counts here, so it goes back
        if psa_id is None:
            psa_id = self._stored(plan, reference)
            if psa_id:
                psa_id = self.psa.update_time(psa_id, time)
            else:
                if not plan.create_sent:
                    with self.ctx.db.unit_of_work() as uow:  # committed before the call: see _stored
                        uow.psa.mark_create_sent(root_id)
                        uow.commit()
                psa_id = self.psa.create_time(time)
        with self.ctx.db.unit_of_work() as uow:
            uow.psa.set_psa_id(root_id, psa_id)
            uow.commit()
        return psa_id

    def _stored(self, plan: _Plan, reference: str) -> str | None:
        """The record an earlier create may have stored (its answer lost to a timeout or a crash), found
        by our reference; a chain never sent has none, and is not looked for."""
        return self.psa.find_time(reference, plan.tickets) if plan.create_sent else None

    def _plan(self, uow: UnitOfWork, root_id: int, reference: str) -> _Plan:
        entries = uow.psa.chain(root_id)
        if not entries:
            raise PsaError(f"entry {root_id} is not in this database", permanent=True)
        latest = entries[-1]
        psa_id = next((e.psa_id for e in reversed(entries) if e.psa_id), None)
        member = uow.psa.member_of(latest.user_id)
        client = uow.clients.by_id(latest.client_id)
        assert client is not None
        thread = uow.psa.thread_notes(latest.thread_ref)
        named = [service_ticket(e.ticket, e.note, thread) or client.psa_ticket_id for e in reversed(entries)]
        ticket = named[0]
        plan = _Plan(
            psa_id,
            latest.user_id,
            latest.user_name,
            member.member_id if member else None,
            uow.psa.email_of(latest.user_id),
            tuple(dict.fromkeys(t for t in named if t)),
            uow.psa.create_sent(root_id),
        )
        if latest.voided_at is not None:
            return plan
        if not (client.psa_company_id and client.psa_agreement_id):
            raise PsaError(
                f"{client.display_name} has no {self.psa.name} company and agreement: "
                f"run `blocktime psa link {client.handle}`",
                permanent=True,
            )
        if ticket is None and self.psa.needs_ticket:
            raise PsaError(
                f"{self.psa.name} records time only on tickets and this entry names none: put #1234 in its "
                f"note, or set {client.display_name}'s ticket for other time: "
                f"`client set {client.handle} psa-ticket <ticket id>`",
                permanent=True,
            )
        kind = uow.psa.work_type_map(latest.work_type)
        time = PsaTime(
            reference=reference,
            company_id=client.psa_company_id,
            agreement_id=client.psa_agreement_id,
            member_id="",
            ticket_id=ticket,
            work_type_id=kind.psa_work_type_id if kind else None,
            work_role_id=kind.psa_work_role_id if kind else None,
            start=start_of(
                latest.work_date, latest.started_at, client.timezone, uow.psa.untimed_minutes_before(latest)
            ),
            minutes=latest.minutes,
            billable=not latest.non_billable,
            notes=latest.note or f"{latest.typed} ({latest.work_type})",
            work_date=latest.work_date,
        )
        return replace(plan, time=time)

    def _member(self, plan: _Plan) -> str:
        """The technician's PSA member: set by hand, else found by their Slack e-mail (and kept)."""
        if plan.member_id:
            return plan.member_id
        found = self.psa.member_by_email(plan.email) if plan.email else None
        if found is None:
            # the address masked: this reason is logged and shown, and an e-mail is personal data
            why = (
                f"none has their Slack e-mail, {masked(plan.email)}" if plan.email else "Slack gave no e-mail for them"
            )
            raise PsaError(
                f"no {self.psa.name} member for {plan.user_name} ({why}): "
                f"run `blocktime psa member {plan.user_id} <member id>`",
                permanent=True,
            )
        with self.ctx.db.unit_of_work() as uow:
            uow.psa.set_member(plan.user_id, found, "email", self.ctx.now())
            uow.commit()
        return found
