"""Every block sold here reaches the PSA once, through the outbox (issue 26, part 2).

- A top-up, a renewal, a refill or an allotment adds a block, a void cancels one: the ledger says so
  (``BlockSyncDue``) and the book queues the block's write in the same transaction
  (:func:`queue_block`): one outbox row per block (destination ``psa``, kind ``psa_block``), queued
  again with a newer version on each change, so the dispatcher writes the block's latest state. A block
  imported from the PSA (source ``psa``) is never written back; nor is a block of a client not linked.
- :func:`sync_block` makes the PSA's record match the block, exactly like an entry's chain
  (``bot.services.psa_sync``): a create is marked on the row before it is sent, and any later attempt
  looks for the record by our reference first, so a timeout after the PSA stored it never makes two.
  A void cancels the record (ConnectWise: ``cancelledDate``; Autotask: the block made inactive;
  HaloPSA: the pre-pay record deleted). A block marked paid or unpaid is queued again (a newer version
  of its row) and its record updated, never made twice: Autotask's contract block takes ``isPaid``;
  ConnectWise's additions and HaloPSA's pre-pay records have no paid flag (the mark is ours). A block
  not sent yet is created with its flag as it is when it goes.
- :func:`block_states` says, for views, where each block stands (queued, synced #id, failed: why)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.domain.psa_blocks import IMPORTED, KIND, BlockPsaState, PsaBlock, block_psa_state
from bot.psa import Psa, PsaError, PsaNotFound, psa_label
from bot.services.context import Context
from bot.services.results import BlockView
from storage import outbox
from storage.db import UnitOfWork
from storage.psa_blocks import CREATE_SENT, DESTINATION
from storage.repos import Block, Client


def queue_block(uow: UnitOfWork, ctx: Context, client: Client, block_id: int, again: bool = False) -> None:
    """Queue the block's write to the PSA, in the caller's transaction: nothing without a PSA, for a
    client not linked to one, or for a block that came from the PSA. ``again`` (a mark of payment):
    only a block queued before, so a block sold before the client's link is not written now."""
    if not ctx.settings.psa or not (client.psa_company_id and client.psa_agreement_id):
        return
    block = uow.blocks.get(block_id)
    if block is None or block.source == IMPORTED:
        return
    if again and not uow.psa_blocks.rows([block_id]):
        return
    reference = uuid.uuid4().hex  # 32 characters: fits every PSA's field for it ("blocktime:" + 32 <= 50)
    row = outbox.new_row(
        kind=KIND,
        destination=DESTINATION,
        now=ctx.now(),
        payload=json.dumps({"kind": KIND, "block_id": block_id, "reference": reference, CREATE_SENT: False}),
        dedupe_key=f"psa-block:{block_id}",
        client_id=client.id,
    )
    uow.psa_blocks.requeue(row, block_id)
    uow.after_commit(ctx.db.outbox_written)


def block_states(uow: UnitOfWork, blocks: Iterable[Block]) -> dict[int, BlockPsaState]:
    """Block id -> where it stands in the PSA."""
    blocks = list(blocks)
    rows = uow.psa_blocks.rows(b.id for b in blocks)
    states = {}
    for block in blocks:
        row = rows.get(block.id)
        states[block.id] = block_psa_state(row.status if row else None, row.error if row else None, block.psa_id)
    return states


def with_psa(uow: UnitOfWork, views: list[BlockView], blocks: Iterable[Block]) -> list[BlockView]:
    """``views`` with each block's PSA state (``psa`` in ``blocks --json``)."""
    states = block_states(uow, blocks)
    return [replace(v, psa=states[v.id].as_dict()) if v.id in states else v for v in views]


def failed_block_reasons(uow: UnitOfWork, ctx: Context, limit: int = 10) -> list[tuple[str, str]]:
    """(client handle, why) of blocks the PSA refused, for App Home's "Needs attention"."""
    label = psa_label(ctx.settings)
    if label is None:
        return []
    failed, _ = uow.psa_blocks.failed(limit)
    return [
        (f.client, f"block {f.number or f.block_id}{' (its void)' if f.voided else ''} not in {label}: {f.error}")
        for f in failed
    ]


def requeue_failed(uow: UnitOfWork, ctx: Context, client_id: int | None = None) -> int:
    """Failed block writes (of one client) queued again: the digest's Retry, ``psa retry``."""
    count = uow.psa_blocks.requeue_failed(ctx.now(), client_id)
    if count:
        uow.after_commit(ctx.db.outbox_written)
    return count


def sync_block(ctx: Context, psa: Psa, block_id: int, reference: str) -> str:
    """Make ``psa``'s record match the block: create it, update its paid flag (a record there already),
    or cancel it (voided). Where a create was sent before (marked on the row before the call), the
    record may be in the PSA without our knowing its id: it is looked for by our ``reference`` first; a
    block never sent is not (one request, not two). Stores the PSA's id on the block; returns it (or
    what was cancelled). Raises ``PsaError``: permanent for a missing mapping or a refusal of the PSA,
    else to be tried again."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        plan = _plan(uow, ctx, psa, block_id, reference)
    psa_id = plan.psa_id
    if plan.block.voided_on is not None:
        psa_id = psa_id or (psa.find_block(plan.block) if plan.create_sent else None)
        if not psa_id:
            return "nothing to cancel"
        try:
            psa.void_block(psa_id, plan.block)
        except PsaNotFound:
            pass  # gone already (removed in the PSA by hand)
        return f"cancelled {psa_id}"
    if psa_id:  # written already: marked paid or unpaid since (the PSA's only change besides a void)
        psa.update_block(psa_id, plan.block)
        return psa_id
    psa_id = psa.find_block(plan.block) if plan.create_sent else None
    if psa_id is not None:  # created before without our learning its id: maybe marked since
        psa.update_block(psa_id, plan.block)
    else:
        if not plan.create_sent:
            with ctx.db.unit_of_work() as uow:  # committed before the call: see the docstring
                uow.psa_blocks.mark_create_sent(block_id)
                uow.commit()
        psa_id = psa.create_block(plan.block)
    with ctx.db.unit_of_work() as uow:
        uow.psa_blocks.set_psa_id(block_id, psa_id)
        uow.commit()
    return psa_id


@dataclass(frozen=True)
class _Plan:
    block: PsaBlock
    psa_id: str | None
    create_sent: bool


def _plan(uow: UnitOfWork, ctx: Context, psa: Psa, block_id: int, reference: str) -> _Plan:
    block = uow.blocks.get(block_id)
    if block is None:
        raise PsaError(f"block {block_id} is not in this database", permanent=True)
    client = uow.clients.by_id(block.client_id)
    assert client is not None
    if not (client.psa_company_id and client.psa_agreement_id):
        raise PsaError(
            f"{client.display_name} has no {psa.name} company and agreement: run `blocktime psa link {client.handle}`",
            permanent=True,
        )
    product = client.psa_product_id or ctx.settings.psa_product_id
    if product is None and getattr(psa, "needs_product", False):
        raise PsaError(
            f"{client.display_name} has no {psa.name} product for its blocks: "
            f"`client set {client.handle} psa-product <product id>`, or PSA_PRODUCT_ID for every client",
            permanent=True,
        )
    voided_on = _day(block.voided_at, client.timezone) if block.voided_at is not None else None
    size = f"{block.minutes / 60:g}h"
    note = f"{size} block {block.number or block.id} of {client.display_name}" + (
        f", {block.reference}" if block.reference else ""
    )
    return _Plan(
        PsaBlock(
            reference=reference,
            company_id=client.psa_company_id,
            agreement_id=client.psa_agreement_id,
            product_id=product,
            minutes=block.minutes,
            price=block.price,
            purchased_on=_day(block.created_at, client.timezone),
            start_on=block.start_on,
            expires_on=block.expires_on,
            paid=bool(block.paid),
            note=note[:200],
            invoice=block.reference,
            voided_on=voided_on,
        ),
        block.psa_id,
        uow.psa_blocks.create_sent(block_id),
    )


def _day(moment: datetime, timezone: str) -> date:
    """The day of ``moment`` on the client's clock (a stored moment without a zone is UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(timezone)).date()
