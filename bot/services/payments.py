"""Use cases of a block's payment (issue 26, part 1): ``block paid acme 3`` (managers; also the **Mark
paid** button in App Home and the digest) and ``block unpaid acme 3 <reason>`` (admins only, with a
reason). Each is one unit of work under the client's row lock: the ledger (``ClientLedger.mark_payment``)
records a 0-minute ``paid``/``unpaid`` line, the block's paid flag, when and by whom, and the audit log
has the change with before and after. Marking what is already so writes nothing and says so, so a
second click of the button is harmless."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.commands import MarkPaid, MarkUnpaid
from bot.domain.errors import NotFound
from bot.domain.notices import UnpaidBlock
from bot.domain.payments import Payment, check_mark_paid, check_mark_unpaid, refuse_voided
from bot.services.book import ClientBook, ledger_block, locked_client
from bot.services.context import Actor, Context, client_named, record_audit
from bot.services.dispatch import serves
from bot.services.results import Result
from storage.db import UnitOfWork
from storage.repos import Block, Client


@dataclass(frozen=True)
class PaymentResult(Result):
    """A block marked paid or unpaid (or found so already: ``changed`` False, nothing written)."""

    client: str
    display_name: str
    block_id: int
    block_number: int | None
    minutes: int
    reference: str | None
    paid: bool
    paid_at: datetime | None
    paid_by: str | None
    changed: bool
    remaining_minutes: int  # the usable balance after the change
    unpaid_minutes: int
    held_for_payment_minutes: int
    carried_overage_minutes: int = 0  # open overage the block paid off once paid (pay-first, carry)
    reason: str = ""

    @property
    def label(self) -> str:
        return f"Block {self.block_number or self.block_id}"


def unpaid_blocks(uow: UnitOfWork) -> list[UnpaidBlock]:
    """Every live block still waiting for payment, used up or not (App Home and the digest offer Mark
    paid on each), by client and block number."""
    rows = uow.blocks.unpaid()
    clients = uow.clients.by_ids(sorted({b.client_id for b in rows}))
    return [
        UnpaidBlock(
            client=clients[b.client_id].handle,
            display_name=clients[b.client_id].display_name,
            remaining_minutes=b.remaining_minutes,
            block_id=b.id,
            block_number=b.number,
            minutes=b.minutes,
            reference=b.reference,
        )
        for b in rows
    ]


@serves(MarkPaid)
def mark_paid(ctx: Context, actor: Actor, command: MarkPaid) -> PaymentResult:
    return _mark(ctx, actor, command.client, command.number, paid=True, reason="")


@serves(MarkUnpaid)
def mark_unpaid(ctx: Context, actor: Actor, command: MarkUnpaid) -> PaymentResult:
    return _mark(ctx, actor, command.client, command.number, paid=False, reason=command.reason)


def _mark(ctx: Context, actor: Actor, handle: str, number: int, *, paid: bool, reason: str) -> PaymentResult:
    with ctx.db.unit_of_work() as uow:
        role = ctx.role(uow, actor)
        if paid:
            check_mark_paid(role)
        else:
            check_mark_unpaid(role, reason)
        client, block = _block_locked(uow, handle, number)
        label = f"Block {block.number or block.id}"
        refuse_voided(label, client.display_name, block.voided_at is not None)
        book = ClientBook(uow, ctx, client, actor)
        if block.paid == paid:  # already so: nothing to write (a second click, a repeat)
            return _result(book, block, changed=False, reason=reason)
        book.catch_up()
        before = _payment_of(block)
        overage_before = book.ledger.totals.open_overage_minutes
        held = book.ledger.block(block.id) or ledger_block(block)
        book.ledger.mark_payment(held, Payment(paid, label, block.minutes, block.reference, reason))
        carried = overage_before - book.ledger.totals.open_overage_minutes
        book.save()
        after = _payment_of(block)
        record_audit(
            uow,
            ctx,
            actor,
            "block_paid" if paid else "block_unpaid",
            f"block:{block.id}",
            client.id,
            before,
            {**after, "reason": reason} if reason else after,
        )
        result = _result(book, block, changed=True, carried=carried, reason=reason)
        uow.commit()
        return result


def _payment_of(block: Block) -> dict[str, object]:
    return {
        "paid": block.paid,
        "paid_at": block.paid_at.isoformat() if block.paid_at else None,
        "paid_by": block.paid_by,
    }


def _block_locked(uow: UnitOfWork, handle: str, number: int) -> tuple[Client, Block]:
    """The client's block ``number``, the client's row locked and the block read again under the lock."""
    owner = client_named(uow, handle)
    block = uow.blocks.by_number(owner.id, number)
    if block is None:
        raise NotFound(f"{owner.display_name} has no block {number}.", f"blocks {owner.handle}  (shows block numbers)")
    client = locked_client(uow, owner.id)
    return client, uow.blocks.reread(block.id) or block


def _result(book: ClientBook, block: Block, *, changed: bool, carried: int = 0, reason: str = "") -> PaymentResult:
    figures = book.ledger.unpaid()
    return PaymentResult(
        client=book.client.handle,
        display_name=book.client.display_name,
        block_id=block.id,
        block_number=block.number,
        minutes=block.minutes,
        reference=block.reference,
        paid=block.paid,
        paid_at=block.paid_at,
        paid_by=block.paid_by,
        changed=changed,
        remaining_minutes=book.balance(),
        unpaid_minutes=figures.minutes,
        held_for_payment_minutes=figures.held,
        carried_overage_minutes=carried,
        reason=reason,
    )
