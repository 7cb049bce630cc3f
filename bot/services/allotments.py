"""Recurring allotments (issue 26, part 4): the ``allotments`` job grants each recurring client's due
periods and rolls closed periods over (``ClientLedger.renew_allotments``), each client in a transaction of
its own under its row lock. Every change of hours does the same first (``catch_up``), so the job only
makes sure a period begins on time when nothing else happens; run twice, or by two processes at once,
it grants nothing twice (the lock and ``recurring_last_start``); after a missed run it grants every
missed period, in order."""

from __future__ import annotations

from datetime import date

from bot.domain.allocation import closed_on
from bot.domain.allotments import SOURCE, due_starts
from bot.services.book import SYSTEM, ClientBook, allotment_of, locked_client
from bot.services.context import Actor, Context, grace_days_of


def due_clients(ctx: Context) -> list[int]:
    """Clients with a period to grant today (in their own calendar), or a closed period block still
    holding minutes (to roll over and forfeit): one read, no lock."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        clients = [c for c in uow.clients.all() if allotment_of(c) is not None]
        blocks = uow.blocks.open_of([c.id for c in clients])
        due = []
        for client in clients:
            allotment = allotment_of(client)
            assert allotment is not None
            today, grace = ctx.today(client.timezone), grace_days_of(client, ctx.settings)
            closed = any(
                b.source == SOURCE and closed_on(b.expires_on, today, grace) for b in blocks.get(client.id, [])
            )
            if closed or due_starts(allotment, today):
                due.append(client.id)
        return due


def renew_allotments(ctx: Context, actor: Actor = SYSTEM) -> list[tuple[str, int]]:
    """Grant what is due for every recurring client; returns ``(client handle, blocks added)`` of those
    that changed."""
    renewed: list[tuple[str, int]] = []
    for client_id in due_clients(ctx):
        with ctx.db.unit_of_work() as uow:
            client = locked_client(uow, client_id)  # re-read under the lock: another process may be done
            book = ClientBook(uow, ctx, client, actor)
            added = book.ledger.renew_allotments()
            book.ledger.expire_due()
            if book.ledger.posting:
                book.save()
            uow.commit()
            renewed.append((client.handle, len(added)))
    return renewed


def allotments(ctx: Context, day: date) -> str:
    """The hourly job: each client's own day decides, so ``day`` only names the run."""
    renewed = renew_allotments(ctx)
    blocks = sum(n for _, n in renewed)
    return f"granted {blocks} allotment block{'' if blocks == 1 else 's'} across {len(renewed)} client" + (
        "" if len(renewed) == 1 else "s"
    )
