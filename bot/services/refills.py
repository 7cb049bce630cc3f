"""A draft refill confirmed: the low-balance alert's **Add 10h** (``refill_confirm``) adds the block it
offered, once. The automatic refill is decided in the ledger (``ClientLedger._refill``) inside the
entry's own posting; this is the manager's click on a draft (``bot.domain.refills``).

1. managers and admins only (the handler asks again: a guest's click is refused here too);
2. the client's row lock, then the key ``refill:<client>:<crossing line>``: a second click, or a twin
   click in another process, finds the block the first added and says so (the unique index on the key
   settles a race the lock did not);
3. the block is a refill (source ``refill``), unpaid unless the draft said paid, and settles open
   overage like any top-up; audited as a top-up."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.domain.durations import format_duration
from bot.domain.errors import NotFound, Refused
from bot.domain.refills import DRAFT_NOTE, MAX_REFILL_MINUTES
from bot.domain.roles import Role, require
from bot.services.book import ClientBook
from bot.services.context import Actor, Context, client_named, record_audit
from bot.services.hours import _idempotent, _topup_result
from bot.services.queries import block_view
from bot.services.results import TopUpResult
from storage.db import UnitOfWork


@dataclass(frozen=True)
class RefillDraft:
    """What a draft refill's button carries: the client, the crossing's ledger line, the block."""

    client: str
    line_id: int
    minutes: int
    paid: bool = False


def draft_key(client_id: int, line_id: int) -> str:
    return f"refill:{client_id}:{line_id}"


def draft_of(value: str) -> RefillDraft | None:
    """The draft a button's value carries (``handlers.views.outbox.refill_value``); None if it is not one."""
    try:
        data = json.loads(value)
        draft = RefillDraft(str(data["client"]), int(data["line"]), int(data["minutes"]), bool(data.get("paid")))
    except (ValueError, KeyError, TypeError):
        return None
    return draft


def refill_note(draft: RefillDraft) -> str:
    """The note a draft refill's block carries (and the top-up form's first note)."""
    state = "paid" if draft.paid else f"unpaid, {DRAFT_NOTE}"
    return f"refill draft {format_duration(draft.minutes)} ({state})"


def confirm_refill(ctx: Context, actor: Actor, draft: RefillDraft) -> TopUpResult:
    """Add the draft's block (see the module's docstring); a repeat returns the first one, ``duplicate``."""
    if not 0 < draft.minutes <= MAX_REFILL_MINUTES:
        raise Refused("That refill is not one this alert offered.", f"topup {draft.client} 10")
    keys: list[str] = []

    def write(uow: UnitOfWork) -> TopUpResult:
        require(ctx.role(uow, actor), Role.MANAGER, "confirm a refill")
        client = client_named(uow, draft.client, lock=True, allow_archived=False)
        key = draft_key(client.id, draft.line_id)
        keys.append(key)
        book = ClientBook(uow, ctx, client, actor)
        seen = uow.blocks.by_key(key)
        if seen is not None:  # clicked before: the first click's block
            return _topup_result(book, seen, 0, 0, duplicate=True)
        book.catch_up()
        values = {
            "client_id": client.id,
            "number": book.ledger.next_block_number(),  # counting an allotment the catch-up added
            "start_on": book.today,
            "expires_on": None,
            "note": f"{refill_note(draft)}, confirmed",
            "sold_by": actor.user_id,
            "idempotency_key": key,
            "created_at": book.now,
        }
        added = book.ledger.add_block(
            values,
            draft.minutes,
            book.today,
            "topup",
            f"{format_duration(draft.minutes)} refill",
            paid=draft.paid,
            source="refill",
        )
        carried, billed = book.settle_overage()
        book.save()
        block = uow.blocks.get(added.id)
        assert block is not None
        view = block_view(block, book.today, book.policy.grace_days).as_dict()
        record_audit(uow, ctx, actor, "refill_confirm", f"block:{block.id}", client.id, None, view)
        return _topup_result(book, block, carried, billed)

    def lookup(uow: UnitOfWork, _: str) -> TopUpResult | None:
        """After a conflict on the key (a twin click that won the race): the block it added."""
        block = uow.blocks.by_key(keys[-1]) if keys else None
        if block is None:
            return None
        client = uow.clients.by_id(block.client_id)
        if client is None:  # pragma: no cover - a block's client is never deleted
            raise NotFound("That client no longer exists.")
        return _topup_result(ClientBook(uow, ctx, client, actor), block, 0, 0, duplicate=True)

    # the key is the client's id and the line: known inside ``write``, which records it for ``lookup``
    return _idempotent(ctx, "refill", write, lookup)
