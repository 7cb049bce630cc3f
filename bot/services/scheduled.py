"""The use cases the scheduled jobs run (``bot.jobs.tasks`` names them, ``bot.jobs.scheduler`` times
them). Each takes the day it is due for and returns a one-line summary; each is idempotent: running it
twice for the same day changes nothing the second time.

- expiry: forfeits the unused minutes of blocks past their closing day (each forfeit posts a notice);
- renewal: blocks with a renewal rule get their next block on the anniversary;
- digest: the managers' daily list of low, overdrawn and soon-expiring clients;
- statement: on the 1st, last month's statements for each client (Slack and e-mail)."""

from __future__ import annotations

from datetime import date, time, timedelta

from bot.domain.dates import add_months, month_period
from bot.domain.notices import (
    BlockRenewed,
    Digest,
    DigestClient,
    ExpiringBlock,
    LowClient,
    PsaBlockFailure,
    PsaFailure,
    PsaFailures,
)
from bot.domain.renewals import renewal as renewal_of
from bot.domain.thresholds import lowest_above_zero
from bot.psa import psa_label
from bot.services.alerts import enqueue, internal_channel, queue, thresholds_of
from bot.services.book import SYSTEM, ClientBook
from bot.services.context import Context
from bot.services.hours import add_block, expire_blocks
from bot.services.payments import unpaid_blocks
from bot.services.queries import all_balances
from bot.services.reports import client_safe_statement as client_safe_statement  # its home before issue 27
from bot.services.reports import statement_facts
from bot.services.statement_mail import month_is_over, queue_statement_emails
from storage.db import UnitOfWork
from storage.repos import Client

SCHEDULER = SYSTEM
STATEMENT_HOUR = time(8, 0)  # a client's statements go at 08:00 on the 1st in the client's time zone
EXPIRING_WITHIN = timedelta(days=30)


def expiry(ctx: Context, day: date) -> str:
    forfeited = expire_blocks(ctx, SCHEDULER)
    total = sum(m for _, m in forfeited)
    return f"forfeited {total} min across {len(forfeited)} client{'' if len(forfeited) == 1 else 's'}"


def renewal(ctx: Context, day: date) -> str:
    renewed = 0
    while True:
        due = _next_due_renewal(ctx, day)
        if due is None:
            break
        _renew(ctx, due)
        renewed += 1
    summary = f"renewed {renewed} blocks"
    if renewed:
        # A renewal caught up late may already be past its closing day: forfeit it now, as the expiry
        # job would tomorrow, so balances and statements agree today (the expiry job's own rule; the
        # blocks it renewed are forfeited with it when they are past theirs).
        forfeited = expire_blocks(ctx, SCHEDULER)
        if forfeited:
            summary += f"; forfeited {sum(m for _, m in forfeited)} min of blocks past their closing day"
    return summary


def _next_due_renewal(ctx: Context, day: date) -> int | None:
    with ctx.db.unit_of_work(read_only=True) as uow:
        candidates = uow.blocks.unrenewed()
    return next((block_id for block_id, start, months in candidates if add_months(start, months) <= day), None)


def _renew(ctx: Context, block_id: int) -> None:
    with ctx.db.unit_of_work() as uow:
        block = uow.blocks.get(block_id)
        assert block is not None and block.renew_months is not None
        client = uow.clients.locked(block.client_id)
        assert client is not None  # a block's client is never deleted
        if uow.blocks.renewal_of(block.id) is not None:
            return  # another process renewed it meanwhile
        command = renewal_of(
            client.handle,
            minutes=block.minutes,
            start_on=block.start_on,
            expires_on=block.expires_on,
            renew_months=block.renew_months,
            price=block.price,
            currency=block.currency,
            label=f"block {block.number or block.id}",
            paid=bool(block.paid),
        )
        # No forfeit here: that is the expiry job's, which reports what it forfeited whichever job runs first.
        book = ClientBook(uow, ctx, client, SCHEDULER)
        new, _, _ = add_block(book, command, None, renewal_of=block)
        renewed = BlockRenewed(
            client=client.handle,
            display_name=client.display_name,
            block_id=new.id,
            block_number=new.number,
            minutes=new.minutes,
            start_on=str(new.start_on),
            expires_on=str(new.expires_on) if new.expires_on else None,
            remaining_minutes=book.balance(),
            account_manager=client.account_manager,
            paid=None if new.paid else False,
        )
        queue(uow, ctx, renewed, client, f"renewal:{new.id}")
        uow.commit()


def digest(ctx: Context, day: date) -> str:
    channel = ctx.settings.managers_channel or ctx.settings.alert_channel
    if not channel:
        return "no managers channel (BLOCKTIME_MANAGERS_CHANNEL) configured; nothing posted"
    expire_blocks(ctx, SCHEDULER)  # the digest's balances show only forfeits the ledger records
    with ctx.db.unit_of_work() as uow:
        found = digest_facts(ctx, uow, day)
        added = queue(uow, ctx, found, None, f"digest:{day.isoformat()}", only_slack=channel)
        uow.commit()
    return f"{len(found.low)} low, {len(found.overdrawn)} overdrawn, {len(found.expiring)} expiring" + (
        "" if added else " (already posted)"
    )


def digest_facts(ctx: Context, uow: UnitOfWork, day: date) -> Digest:
    views = all_balances(uow, ctx)
    clients = {c.handle: c for c in uow.clients.all()}
    low: list[LowClient] = []
    overdrawn: list[DigestClient] = []
    expiring: list[ExpiringBlock] = []
    for view in views:
        client, name, left = view.client, view.display_name, view.remaining_minutes
        lowest = lowest_above_zero(
            thresholds_of(clients[view.client].thresholds, ctx.settings), view.current_block_minutes
        )
        if view.remaining_minutes < 0:
            overdrawn.append(DigestClient(client=client, display_name=name, remaining_minutes=left))
        elif view.remaining_minutes <= (lowest.level(view.current_block_minutes) if lowest else 0):
            threshold = lowest.label if lowest else None
            low.append(LowClient(client=client, display_name=name, remaining_minutes=left, threshold=threshold))
        for block in view.blocks:
            if block.expires_on and day <= block.expires_on <= day + EXPIRING_WITHIN and block.remaining_minutes > 0:
                expiring.append(
                    ExpiringBlock(
                        client=client,
                        display_name=name,
                        remaining_minutes=block.remaining_minutes,
                        expires_on=block.expires_on.isoformat(),
                        block_id=block.id,
                        block_number=block.number,
                    )
                )
    expiring.sort(key=lambda b: (b.expires_on, b.client or ""))
    return Digest(
        date=day.isoformat(),
        low=tuple(low),
        overdrawn=tuple(overdrawn),
        expiring=tuple(expiring),
        psa=_psa_failures(ctx, uow),
        unpaid=tuple(unpaid_blocks(uow)) or None,
    )


def _psa_failures(ctx: Context, uow: UnitOfWork) -> PsaFailures | None:
    """Entries and blocks the PSA refused (or that miss a mapping), each with the PSA's own words."""
    label = psa_label(ctx.settings)
    if not label:
        return None
    failed, count = uow.psa.failed_syncs()
    blocks, block_count = uow.psa_blocks.failed()
    return PsaFailures(
        name=label,
        failed_count=count,
        failed=tuple(
            PsaFailure(
                entry_id=f.entry_id,
                client=f.client,
                user_name=f.user_name,
                minutes=f.minutes,
                work_date=f.work_date.isoformat(),
                error=f.error,
            )
            for f in failed
        ),
        failed_block_count=block_count,
        failed_blocks=tuple(
            PsaBlockFailure(
                block_id=b.block_id,
                block_number=b.number,
                client=b.client,
                minutes=b.minutes,
                voided=b.voided,
                error=b.error,
            )
            for b in blocks
        ),
    )


def statement(ctx: Context, day: date) -> str:
    """Last month's statements for every active client whose ledger had begun by the month's end, from
    one place: the internal one, the client-safe one in the client's ``statement-to`` channel, and the
    client-safe one by e-mail to its ``statement-email`` addresses (``bot.services.statement_mail``).

    The job runs every hour on the 1st and 2nd (``bot.jobs.scheduler``); a client's statements go once
    it is 08:00 on the 1st in the client's own time zone, so the month has ended there and the statement
    never changes after it is sent. The dedupe keys make every later run of the month a no-op."""
    last = add_months(day.replace(day=1), -1)
    period = month_period(last.year, last.month)
    posted = mailed = waiting = 0
    with ctx.db.unit_of_work(read_only=True) as uow:
        ids = uow.clients.active_ids()
    for client_id in ids:
        with ctx.db.unit_of_work() as uow:
            client = uow.clients.by_id(client_id)
            assert client is not None
            if not month_is_over(ctx, client, period, STATEMENT_HOUR):
                waiting += 1
                continue
            facts = statement_facts(uow, client, period, ctx)
            if not any(facts[k] for k in MOVEMENTS):  # an idle month: nothing to say
                continue
            posted += enqueue(
                uow,
                ctx,
                "statement",
                client,
                facts,
                f"statement:{client.id}:{period.start:%Y-%m}",
                only_slack=_statement_channel(uow, ctx, client),
            )
            safe = client_safe_statement(facts)
            if client.statement_channel:  # opt-in: the client-safe statement, in the client's own channel
                posted += enqueue(
                    uow,
                    ctx,
                    "client_statement",
                    client,
                    safe,
                    f"client_statement:{client.id}:{period.start:%Y-%m}",
                    only_slack=client.statement_channel,
                )
            mailed += len(queue_statement_emails(uow, ctx, client, safe, period)[0])
            uow.commit()
    summary = f"{posted} statements for {period.label}"
    if mailed:
        summary += f", {mailed} statement e-mails"
    if waiting:
        summary += f"; {waiting} clients wait for {STATEMENT_HOUR:%H:%M} on the 1st in their own time zone"
    return summary


MOVEMENTS = (
    "bought_minutes",
    "used_minutes",
    "forfeited_minutes",
    "overage_billed_minutes",
    "entry_count",
    "correction_count",
)


def _statement_channel(uow: UnitOfWork, ctx: Context, client: Client) -> str | None:
    """The internal statement (it speaks of the account manager and sales): never a shared channel."""
    return internal_channel(uow, client.alert_channel, ctx.settings)
