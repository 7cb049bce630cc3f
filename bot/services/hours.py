"""Use cases that move minutes: log time, edit, void, top up, void a top-up, expire blocks.

Each runs in one unit of work and commits once. A request carrying an idempotency key that was seen
before returns the first answer again (``duplicate=True``) instead of writing twice; the unique index
on the key settles a race between two processes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from bot.domain.allocation import closed_on, closing_day
from bot.domain.charges import EntryPlan, Waiting, waiting
from bot.domain.client_ledger import LiveDraw
from bot.domain.commands import Command, EditEntry, LogTime, TopUp, VoidEntry, VoidTopUp, fingerprint
from bot.domain.dates import add_months, recorded_day
from bot.domain.durations import billable_causes, format_duration
from bot.domain.errors import NeedsConfirmation, NotFound, OutOfHours, ParseError, Refused
from bot.domain.fields import find_ticket
from bot.domain.grammar import timer_misread
from bot.domain.holds import held_message
from bot.domain.payments import held_note
from bot.domain.psa_blocks import IMPORTED
from bot.domain.roles import Role, check_void_entry, check_work_date, require
from bot.domain.thresholds import percent_left
from bot.domain.workhours import after_hours, stored_work_hours
from bot.domain.worktypes import STANDARD, plain
from bot.services.book import ClientBook, forfeit_due, ledger_block, ledger_entry, locked_client, new_entry_values
from bot.services.context import Actor, Context, client_named, record_audit
from bot.services.dispatch import serves
from bot.services.psa_sync import queued_note
from bot.services.queries import block_view
from bot.services.refill_notices import tell_out_of_hours
from bot.services.results import EntryRefill, LogResult, RefillKept, TopUpResult, VoidResult
from bot.services.worktypes import rate_for
from storage.db import UnitOfWork
from storage.errors import Conflict, NotHere
from storage.postings import Ids
from storage.repos import Block, Client, Entry

T = TypeVar("T")
SOURCES = ("slack", "thread", "cli")


def log_time(
    ctx: Context,
    actor: Actor,
    command: LogTime,
    *,
    source: str = "cli",
    idempotency_key: str | None = None,
    client_id: int | None = None,
    ticket: str | None = None,
    source_ref: str | None = None,
    thread_ref: str | None = None,
) -> LogResult:
    """Record an entry. ``client_id`` names the client when the command has no handle (a channel
    linked to a client); ``ticket`` overrides the ``#1234`` found in the note (a thread link);
    ``source_ref`` names the Slack message it came from."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")

    def write(uow: UnitOfWork) -> LogResult:
        client = _client_for(uow, command, client_id)
        book = ClientBook(uow, ctx, client, actor)
        book.catch_up()
        entry, plan, after = _add_entry(
            book, command, source, idempotency_key, ticket, actor, source_ref=source_ref, thread_ref=thread_ref
        )
        return _log_result(book, entry, plan, after_hours=after)

    try:
        if ctx.settings.fast_writer:
            # The same use case on a bare driver connection first (storage.bare): the everyday entry at a
            # third of the CPU. What that unit of work cannot serve (an alias, a work type's rate, an alert,
            # a repeated key...) is NotHere, with nothing written: then on a full unit of work.
            try:
                with ctx.db.bare_unit_of_work() as bare:
                    result = write(cast(UnitOfWork, bare))
                    bare.commit()
                    return result
            except NotHere:
                pass
        return idempotent(ctx, idempotency_key, lambda uow: write(uow), _entry_by_key_result(ctx, command))
    except OutOfHours as refused:
        tell_out_of_hours(ctx, actor, refused)  # a refill that could not run is never swallowed
        raise


def _client_for(uow: UnitOfWork, command: LogTime, client_id: int | None) -> Client:
    if command.client is not None:
        try:
            return client_named(uow, command.client, lock=True, allow_archived=False)
        except NotFound:
            misread = timer_misread(command)  # logtime start 2h acme: a timer, not a client called start
            if misread is not None:
                raise misread from None
            raise
    if client_id is None:
        raise ParseError("Say which client the time is for.", "logtime acme 15m laptop advice")
    client = locked_client(uow, client_id)
    if client.archived:
        raise Refused(f"{client.display_name} is archived; time can't be logged for it.")
    return client


def _add_entry(
    book: ClientBook,
    command: LogTime,
    source: str,
    key: str | None,
    ticket: str | None,
    author: Actor,
    replaces: Entry | None = None,
    source_ref: str | None = None,
    work_date: date | None = None,
    request: Command | None = None,
    multiplier: Decimal | None = None,
    thread_ref: str | None = None,
) -> tuple[SimpleNamespace, EntryPlan, str | None]:
    """Record the entry the rules plan (``bot.domain.charges.plan_entry``) and store it."""
    client = book.client
    day = work_date or command.work_date(book.today)
    role = book.ctx.role(book.uow, author)
    require(role, Role.TECHNICIAN, "log time")
    check_work_date(role, day, book.today, book.ctx.settings.backdate_days)
    request = request or command
    after = None
    if multiplier is None:
        command, after = _after_hours(book, command, day)
        multiplier = _multiplier(book, command, after)
    plan = book.ledger.plan(command.minutes, command.non_billable, day, multiplier, correction=replaces is not None)
    if not plan.allowed:  # a client on a refill policy is told to its managers (bot.services.refill_notices)
        raise OutOfHours(
            _no_hours_message(client, plan.before, plan.billable, waiting(book.open_blocks(), book.today))
            + (f" {held}" if (held := held_note(client.display_name, book.ledger.unpaid().held, 0)) else ""),
            f"topup {client.handle} 10",
            client_id=client.id,
            minutes=plan.billable,
            left=plan.before,
            refill_mode=client.refill_mode,
        )
    hold = book.ledger.terms.hold_limit
    if plan.held and hold is not None:  # decided by the rules (EntryPlan.held); nothing is written
        over = book.ledger.totals.open_overage_minutes
        raise Refused(held_message(client.display_name, over, over + plan.overage, hold))
    values = new_entry_values(
        command,
        plan,
        client_id=client.id,
        # a correction stays the original author's entry
        author=(replaces.user_id, replaces.user_name) if replaces else (author.user_id, author.label),
        work_date=day,
        ticket=ticket,
        source=source,
        source_ref=source_ref or (replaces.source_ref if replaces else None),
        key=key,
        replaces_id=replaces.id if replaces else None,
        now=book.now,
        request=request,
        multiplier=multiplier,
        thread_ref=thread_ref or (replaces.thread_ref if replaces else None),
        # an edit continues its chain: one record in the PSA, updated
        chain=(replaces.root_id or replaces.id, replaces.psa_id) if replaces else (None, None),
    )
    row = book.ledger.log(plan, values, command.note)
    ids = book.save()
    entry = stored_entry(row, ids)
    return entry, plan, after


def stored_entry(row: dict[str, Any], ids: Ids) -> SimpleNamespace:
    """A new entry as stored: its columns, with the id the database gave it."""
    return SimpleNamespace(**{**row, "id": ids(row["id"])})


def _after_hours(book: ClientBook, command: LogTime, day: date) -> tuple[LogTime, str | None]:
    """The command with the after-hours work type when its time of day is known, no type was named,
    and it falls outside the client's working hours (in the client's zone); and why, for the reply."""
    client, settings = book.client, book.ctx.settings
    zone = ZoneInfo(client.timezone)
    moment = command.started_at or command.moment
    local = moment.astimezone(zone) if moment is not None else None
    if local is None and command.at is not None:
        local = datetime.combine(day, command.at, tzinfo=zone)
        if local > book.now.astimezone(zone) + timedelta(minutes=1):  # a typed time, not Slack's
            raise Refused(
                f"{local:%Y-%m-%d %H:%M} is still to come; time is logged for work already done.",
                "logtime acme 1h at 22:00 server patching",
            )
    hours = stored_work_hours(client.work_hours)
    if command.work_type is not None or settings.after_hours_type is None or not after_hours(local, hours):
        return command, None
    assert local is not None
    why = f"after hours ({local:%a %H:%M}, outside {hours})"
    return replace(command, work_type=settings.after_hours_type), why


def _multiplier(book: ClientBook, command: LogTime, after: str | None) -> Decimal:
    try:
        return rate_for(book.uow, book.client.id, command.work_type or STANDARD)
    except NotFound:
        if after is None:
            raise
        raise Refused(
            f"Not recorded: this is {after}, billed as `{command.work_type}` (BLOCKTIME_AFTER_HOURS_TYPE), but "
            "there is no such work type. An admin adds it, or name the type with `as standard`.",
            f"worktype add {command.work_type} 2",
        ) from None


def _no_hours_message(client: Client, balance: int, billable: int, later: Waiting) -> str:
    left = format_duration(balance) if balance > 0 else "no hours"
    if client.overdraft_minutes:
        limit = f"its overdraft limit of {format_duration(client.overdraft_minutes)}"
    else:
        limit = "no overdraft is allowed"
    # words that fit every interface (a form has a Non-billable box, the CLI --nb); the example
    # (shown by the CLI and in Slack replies, not in a form's field) is the top-up command
    # hours bought in a block that starts later cannot pay for work done today: say so, or the
    # refusal reads as if the top-up were lost
    waits = f" ({later.words()}: not usable before then)" if later.minutes else ""
    return (
        f"Not recorded: {client.display_name} has {left} left{waits} and this entry needs "
        f"{format_duration(billable)} ({limit}). Ask an account manager to top up, or log it as non-billable."
    )


def _log_result(
    book: ClientBook,
    entry: Entry | SimpleNamespace,
    plan: EntryPlan | None = None,
    duplicate: bool = False,
    after_hours: str | None = None,
) -> LogResult:
    remaining = book.balance()
    later = waiting(book.open_blocks(), book.today)
    return LogResult(
        entry_id=entry.id,
        client=book.client.handle,
        display_name=book.client.display_name,
        minutes=entry.minutes,
        typed=entry.typed,
        billable_minutes=entry.billable_minutes,
        non_billable=entry.non_billable,
        overage_minutes=entry.overage_minutes + entry.billed_overage_minutes,
        work_date=entry.work_date,
        note=entry.note,
        ticket=entry.ticket,
        remaining_minutes=remaining,
        percent_left=percent_left(remaining, book.block_minutes()),
        duplicate=duplicate,
        replaces_entry_id=entry.replaces_id,
        from_later_blocks_minutes=plan.allocation.from_later_blocks if plan else 0,
        work_type=entry.work_type,
        multiplier=plain(entry.multiplier),
        logged_on=recorded_day(entry.created_at, book.client.timezone, book.client.records_from),
        after_hours=after_hours,
        psa=queued_note(book.ctx),
        waiting_minutes=later.minutes,
        waiting=later.words(),
        billed_by=billable_causes(
            entry.minutes, book.policy.rounding, book.policy.minimum, entry.non_billable, entry.multiplier
        ),
        held_for_payment_minutes=book.ledger.unpaid().held,
        overage_so_far_minutes=book.ledger.totals.open_overage_minutes,
        hold_left_minutes=_hold_left(book),
        refill=_entry_refill(book),
    )


def _entry_refill(book: ClientBook) -> EntryRefill | None:
    """The refill the entry's posting recorded (its ``Refilled`` event), as the reply says it."""
    if not book.refills:
        return None
    event = book.refills[-1]
    decision = event.decision
    return EntryRefill(
        minutes=decision.minutes,
        paid=decision.paid,
        rule=decision.rule,
        block=event.block_number,
        action=decision.action,
        reason=decision.reason,
    )


def _hold_left(book: ClientBook) -> int | None:
    """Overage the client may still run up before new time is held (None: it has no hold)."""
    hold = book.ledger.terms.hold_limit
    return None if hold is None else hold.allowed - book.ledger.totals.open_overage_minutes


def _same_request(stored: str | None, command: Command) -> None:
    """A key seen before answers with the first result, but only for the same request (as Stripe does
    with idempotency keys): the same key with other content is refused."""
    if stored is not None and stored != fingerprint(command):
        raise Refused(
            "This request id was already used for a different request; nothing was recorded. "
            "Send the new request with a new id."
        )


def _entry_by_key_result(ctx: Context, command: Command) -> Callable[[UnitOfWork, str], LogResult | None]:
    def lookup(uow: UnitOfWork, key: str) -> LogResult | None:
        entry = uow.entries.by_key(key)
        if entry is None:
            return None
        _same_request(entry.request_fingerprint, command)
        client = uow.clients.by_id(entry.client_id)
        assert client is not None
        return _log_result(ClientBook(uow, ctx, client, Actor(entry.user_id)), entry, duplicate=True)

    return lookup


def idempotent(
    ctx: Context,
    key: str | None,
    write: Callable[[UnitOfWork], T],
    lookup: Callable[[UnitOfWork, str], T | None],
) -> T:
    """Run ``write`` once per key: the unique index on the key refuses a repeat (or a concurrent twin
    that lost the race), and the stored answer of the first is returned instead."""
    try:
        with ctx.db.unit_of_work() as uow:
            result = write(uow)  # a repeated key fails on the unique index at the first write
            uow.commit()
            return result
    except Conflict:
        if key is None:
            raise
        with ctx.db.unit_of_work(read_only=True) as uow:
            seen = lookup(uow, key)
        if seen is None:
            raise
        return seen


@serves(VoidEntry)
def void_entry(ctx: Context, actor: Actor, command: VoidEntry) -> VoidResult:
    with ctx.db.unit_of_work() as uow:
        entry, client = _entry_locked(uow, command.entry_id)
        check_void_entry(ctx.role(uow, actor), actor.user_id, entry.user_id, entry.created_at, ctx.now())
        book = ClientBook(uow, ctx, client, actor)
        book.catch_up_stored()
        entry = uow.entries.get(entry.id) or entry  # as the catch-up left it
        _take_back(book, entry, command.reason, command.reason[:200])
        book.settle_overage()
        book.save()
        record_audit(
            uow,
            ctx,
            actor,
            "void_entry",
            f"entry:{entry.id}",
            client.id,
            {"billable_minutes": entry.billable_minutes, "voided": False},
            {"voided": True, "reason": command.reason},
        )
        refill = uow.blocks.refill_of_entry(client.id, entry.id)
        kept = RefillKept(refill.number or refill.id, refill.minutes, refill.paid) if refill is not None else None
        result = VoidResult(
            "entry",
            entry.id,
            client.handle,
            client.display_name,
            entry.billable_minutes,
            book.balance(),
            refill_block=kept,
        )
        uow.commit()
        return result


def _entry(uow: UnitOfWork, entry_id: int) -> Entry:
    entry = uow.entries.get(entry_id)
    if entry is None:
        raise NotFound(f"There is no entry {entry_id}.", "entries acme  (shows entry numbers)")
    if entry.voided_at is not None:
        raise Refused(f"Entry {entry_id} is already voided.")
    return entry


def _entry_locked(uow: UnitOfWork, entry_id: int) -> tuple[Entry, Client]:
    """A live entry and its client, the client's row locked and the entry read again under the lock
    (a void or an edit that got there first is seen)."""
    entry = _entry(uow, entry_id)
    client = locked_client(uow, entry.client_id)
    entry = uow.entries.reread(entry_id) or entry
    if entry.voided_at is not None:
        raise Refused(f"Entry {entry.id} is already voided.")
    return entry, client


def _take_back(book: ClientBook, entry: Entry, reason: str, note: str, correction: bool = False) -> None:
    """Void ``entry`` (``ClientLedger.take_back``); for a ``correction`` the forfeit of what it gave
    back to a closed block waits for the corrected entry, which draws on those minutes first."""
    uow, client = book.uow, book.client
    book.ledger.take_back(
        ledger_entry(entry, uow.ledger.live_draws(entry_id=entry.id)),
        reason=reason,
        note=note,
        latest_live_entry=lambda: uow.entries.latest_live_id(client.id, entry.id),
        chain_root=entry.root_id or entry.id,
        correction=correction,
    )


def edit_entry(ctx: Context, actor: Actor, command: EditEntry, idempotency_key: str | None = None) -> LogResult:
    """Correct an entry: void it and record the corrected one, in one transaction. The correction
    keeps every attribute the edit does not name: non-billable flag, work date, note, ticket, author,
    source and the Slack message it came from. It never costs the client more than the entry it
    corrects: what a block closed since paid for the original keeps paying for the corrected entry,
    and only what is no longer needed is given back (and forfeited, that block being closed)."""

    seen_before = _entry_by_key_result(ctx, command)

    def write(uow: UnitOfWork) -> LogResult:
        # a repeat (Slack's retry of a message edit) finds the entry voided by the first: answer it again
        seen = seen_before(uow, idempotency_key) if idempotency_key else None
        if seen is not None:
            return seen
        old, client = _entry_locked(uow, command.entry_id)
        check_void_entry(ctx.role(uow, actor), actor.user_id, old.user_id, old.created_at, ctx.now(), "edit")
        book = ClientBook(uow, ctx, client, actor)
        book.catch_up_stored()
        old = uow.entries.get(old.id) or old  # as the catch-up left it
        _take_back(book, old, f"edited by {actor.label}", "replaced by an edit", correction=True)
        book.settle_overage()
        note = old.note if command.note is None else command.note
        non_billable = old.non_billable if command.non_billable is None else command.non_billable
        work_type = old.work_type if command.work_type is None else command.work_type
        # the same kind of work keeps the rate it was logged at; a new kind takes today's rate
        rate = old.multiplier if work_type == old.work_type else None
        corrected = LogTime(
            None,
            command.minutes,
            command.typed,
            command.when,
            note,
            non_billable,
            None,
            work_type,
            started_at=old.started_at,
        )
        ticket = (find_ticket(note) or old.ticket) if command.note is not None else old.ticket
        work_date = None if command.when is not None else old.work_date
        entry, plan, _ = _add_entry(
            book,
            corrected,
            old.source,
            idempotency_key,
            ticket,
            actor,
            replaces=old,
            work_date=work_date,
            request=command,  # a repeat of this edit is recognised by the edit as asked
            multiplier=rate,
        )
        book.forfeit_returned()  # what the corrected entry did not draw again of a closed block's minutes
        book.save()
        record_audit(
            uow,
            ctx,
            actor,
            "edit_entry",
            f"entry:{old.id}",
            client.id,
            {"minutes": old.minutes, "note": old.note, "work_date": old.work_date, "non_billable": old.non_billable},
            {
                "entry": entry.id,
                "minutes": entry.minutes,
                "note": entry.note,
                "work_date": entry.work_date,
                "non_billable": entry.non_billable,
            },
        )
        return _log_result(book, entry, plan)

    return idempotent(ctx, idempotency_key, write, seen_before)


def top_up(
    ctx: Context, actor: Actor, command: TopUp, idempotency_key: str | None = None, psa_id: str | None = None
) -> TopUpResult:
    """A block sold; ``psa_id``: one imported from the PSA (``psa import-blocks``), never written back."""

    def write(uow: UnitOfWork) -> TopUpResult:
        require(ctx.role(uow, actor), Role.MANAGER, "top up")
        limit = ctx.settings.max_topup_minutes
        if command.minutes > limit and not command.confirmed:  # a typo here would be expensive
            raise NeedsConfirmation(
                f"That is {format_duration(command.minutes)}, more than {format_duration(limit)} in one top-up "
                "(BLOCKTIME_MAX_TOPUP). If it is right, add the word confirm.",
                f"topup {command.client} {command.minutes // 60} confirm",
            )
        client = client_named(uow, command.client, lock=True, allow_archived=False)
        book = ClientBook(uow, ctx, client, actor)
        refuse_a_closed_block(book, command)
        book.catch_up()
        block, carried, billed = add_block(book, command, idempotency_key, psa_id=psa_id)
        record_audit(
            uow,
            ctx,
            actor,
            "topup",
            f"block:{block.id}",
            client.id,
            None,
            block_view(block, book.today, book.policy.grace_days).as_dict(),
        )
        return topup_result(book, block, carried, billed)

    def lookup(uow: UnitOfWork, key: str) -> TopUpResult | None:
        block = uow.blocks.by_key(key)
        if block is None:
            return None
        _same_request(block.request_fingerprint, command)
        client = uow.clients.by_id(block.client_id)
        assert client is not None
        return topup_result(ClientBook(uow, ctx, client, actor), block, 0, 0, duplicate=True)

    return idempotent(ctx, idempotency_key, write, lookup)


def refuse_a_closed_block(book: ClientBook, command: TopUp) -> None:
    """A block past its closing day could pay for nothing: all of it would be forfeited at once. It is
    refused rather than recorded (a block in its grace period is accepted: late work dated inside it
    still draws from it). History of blocks used up long ago is the PSA's, not a top-up's."""
    expires, grace = command.expires_on, book.policy.grace_days
    if not closed_on(expires, book.today, grace):
        return
    assert expires is not None
    raise Refused(
        f"Not recorded: a block expiring on {expires} closed on {closing_day(expires, grace)} (its expiry plus "
        f"the {grace}-day grace period), so all of its hours would be forfeited at once. Give an expiry date "
        f"from {book.today - timedelta(days=grace)} on, or none.",
        f"topup {book.client.handle} {command.minutes / 60:g} expires {add_months(book.today, 12)}",
    )


def add_block(
    book: ClientBook,
    command: TopUp,
    key: str | None,
    renewal_of: Block | None = None,
    psa_id: str | None = None,
    source: str = "topup",
) -> tuple[Block, int, int]:
    """Add a block and settle open overage by the client's policy; returns (block, carried, billed).
    ``source`` ``refill``: a draft refill edited in the top-up form (``bot.services.refills``)."""
    start = command.starts_on or book.today
    # numbered per client, under the client's row lock (a client's second block is its block 2)
    values = {
        "client_id": book.client.id,
        "number": book.ledger.next_block_number(),
        "start_on": start,
        "expires_on": command.expires_on,
        "price": command.price,
        "currency": (command.currency or book.ctx.settings.currency) if command.price is not None else None,
        "reference": command.reference,
        "note": command.note,
        "sold_by": book.actor.user_id,
        "renew_months": command.renew_months,
        "renewal_of_id": renewal_of.id if renewal_of else None,
        "idempotency_key": key,
        "request_fingerprint": fingerprint(command) if key else None,
        "created_at": book.now,
    }
    if psa_id is not None:  # imported from the PSA: it is there already (issue 26)
        values.update(source=IMPORTED, psa_id=psa_id)
    kind = "refill" if source == "refill" else "block"
    note = f"{format_duration(command.minutes)} {kind}" + (f" {command.reference}" if command.reference else "")
    note += "" if command.paid else ", unpaid"
    added = book.ledger.add_block(
        values, command.minutes, start, "renewal" if renewal_of else "topup", note, paid=command.paid, source=source
    )
    carried, billed = book.settle_overage()
    book.save()
    block = book.uow.blocks.get(added.id)
    assert block is not None
    return block, carried, billed


def topup_result(book: ClientBook, block: Block, carried: int, billed: int, duplicate: bool = False) -> TopUpResult:
    later = waiting(book.open_blocks(), book.today)
    return TopUpResult(
        block_id=block.id,
        client=book.client.handle,
        display_name=book.client.display_name,
        minutes=block.minutes,
        expires_on=block.expires_on,
        price=block.price,
        currency=block.currency,
        reference=block.reference,
        carried_overage_minutes=carried,
        billed_overage_minutes=billed,
        remaining_minutes=book.balance(),
        duplicate=duplicate,
        renew_months=block.renew_months,
        starts_on=block.start_on if block.start_on > book.today else None,
        waiting_minutes=later.minutes,
        waiting=later.words(),
        block_number=block.number,
        paid=block.paid,
        held_for_payment_minutes=book.ledger.unpaid().held,
    )


@serves(VoidTopUp)
def void_top_up(ctx: Context, actor: Actor, command: VoidTopUp) -> VoidResult:
    """Cancel a block entered by mistake. Minutes already drawn from it are drawn again from the
    client's other blocks, FIFO, and what no block covers becomes overage."""
    with ctx.db.unit_of_work() as uow:
        require(ctx.role(uow, actor), Role.MANAGER, "void a top-up")
        if command.client is not None:  # the client's own numbering
            owner = client_named(uow, command.client)
            block = uow.blocks.by_number(owner.id, command.block_id)
            what = f"{owner.display_name} has no block {command.block_id}."
        else:
            block = uow.blocks.get(command.block_id)
            what = f"There is no top-up {command.block_id}."
        if block is None:
            raise NotFound(what, "blocks acme  (shows block numbers)")
        client = locked_client(uow, block.client_id)
        block = uow.blocks.reread(block.id) or block
        if block.voided_at is not None:
            raise Refused(f"Block {block.number or block.id} of {client.display_name} is already voided.")
        book = ClientBook(uow, ctx, client, actor)
        book.catch_up()
        now_held = book.ledger.block(block.id)  # a rollover just now may have moved its hours
        if (
            block.rolled_in_minutes
            or block.rolled_out_minutes
            or (now_held is not None and (now_held.rolled_in_minutes or now_held.rolled_out_minutes))
        ):
            raise Refused(
                f"Block {block.number or block.id} of {client.display_name} holds hours rolled over between "
                "allotment periods, so voiding it would take back hours another period holds. Stop the "
                "allotment with `client set "
                f"{client.handle} recurring off` instead; its blocks then run to their expiry.",
                f"client set {client.handle} recurring off",
            )
        snapshot = block_view(block, book.today, book.policy.grace_days).as_dict()
        live = book.uow.ledger.live_draws(block_id=block.id)
        rows = book.uow.ledger.entries_by_id(sorted({d.entry_id for d in live}))
        entries = {entry_id: ledger_entry(row) for entry_id, row in rows.items()}
        held = book.ledger.block(block.id) or ledger_block(block)
        book.ledger.void_block(
            held, [(LiveDraw(d.id, d.block_id, d.minutes), entries[d.entry_id]) for d in live], command.reason[:200]
        )
        book.save()
        record_audit(
            uow,
            ctx,
            actor,
            "void_topup",
            f"block:{block.id}",
            client.id,
            snapshot,
            {"voided": True, "reason": command.reason},
        )
        result = VoidResult(
            "topup", block.id, client.handle, client.display_name, block.minutes, book.balance(), number=block.number
        )
        uow.commit()
        return result


def expire_blocks(ctx: Context, actor: Actor) -> list[tuple[str, int]]:
    """Forfeit every block past its closing day (the daily job). Returns ``(client handle, minutes)``."""
    return forfeit_due(ctx, actor)
