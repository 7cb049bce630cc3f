"""A draft refill confirmed: the low-balance alert's **Add 10h** (``refill_confirm``) adds the block it
offered, once. The automatic refill is decided in the ledger (``ClientLedger._refill``) inside the
entry's own posting; this is the manager's click on a draft (``bot.domain.refills``).

1. managers and admins only (the handler asks again: a guest's click is refused here too);
2. the client's row lock, then the key ``refill:<client>:<crossing line>``: a second click, or a twin
   click in another process, finds the block the first added and says so (the unique index on the key
   settles a race the lock did not);
3. the block is a refill (source ``refill``), unpaid unless the draft said paid, and settles open
   overage like any top-up; audited as a top-up.

The alert's **Edit first** (``refill_edit``) opens the top-up form carrying the draft; its submission
(``submit_edited_refill``) is the same refill under the same key, with the form's figures: whichever of
the click and the form comes second says "Already added" and adds nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.domain.commands import TopUp
from bot.domain.durations import format_duration
from bot.domain.errors import NeedsConfirmation, NotFound, Refused
from bot.domain.refills import DRAFT_NOTE, MAX_REFILL_MINUTES
from bot.domain.roles import Role, require
from bot.services.book import ClientBook
from bot.services.context import Actor, Context, client_named, record_audit
from bot.services.hours import add_block, idempotent, refuse_a_closed_block, topup_result
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
    return _add_once(ctx, actor, draft, None)


def submit_edited_refill(ctx: Context, actor: Actor, draft: RefillDraft, command: TopUp) -> TopUpResult:
    """The top-up form ``refill_edit`` opened, submitted: the draft's block with the form's figures,
    under the draft's key (a click on **Add 10h** before or after finds it), a refill (source
    ``refill``: it counts toward the monthly cap and shows as one)."""
    return _add_once(ctx, actor, draft, command)


def _add_once(ctx: Context, actor: Actor, draft: RefillDraft, command: TopUp | None) -> TopUpResult:
    """The draft's block, once per key: ``command`` the edited form's, else the draft's own."""
    keys: list[str] = []

    def write(uow: UnitOfWork) -> TopUpResult:
        require(ctx.role(uow, actor), Role.MANAGER, "confirm a refill")
        client = client_named(uow, draft.client, lock=True, allow_archived=False)
        key = draft_key(client.id, draft.line_id)
        keys.append(key)
        book = ClientBook(uow, ctx, client, actor)
        seen = uow.blocks.by_key(key)
        if seen is not None:  # clicked or submitted before: the first one's block
            return topup_result(book, seen, 0, 0, duplicate=True)
        if command is not None:
            return _add_edited(book, command, key)
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
        return topup_result(book, block, carried, billed)

    def lookup(uow: UnitOfWork, _: str) -> TopUpResult | None:
        """After a conflict on the key (a twin click that won the race): the block it added."""
        block = uow.blocks.by_key(keys[-1]) if keys else None
        if block is None:
            return None
        client = uow.clients.by_id(block.client_id)
        if client is None:  # pragma: no cover - a block's client is never deleted
            raise NotFound("That client no longer exists.")
        return topup_result(ClientBook(uow, ctx, client, actor), block, 0, 0, duplicate=True)

    # the key is the client's id and the line: known inside ``write``, which records it for ``lookup``
    return idempotent(ctx, "refill", write, lookup)


def _add_edited(book: ClientBook, command: TopUp, key: str) -> TopUpResult:
    """The edited form's block, checked as any top-up is (the top-up limit, a closed expiry)."""
    limit = book.ctx.settings.max_topup_minutes
    if command.minutes > limit and not command.confirmed:  # as ``top_up`` says it
        raise NeedsConfirmation(
            f"That is {format_duration(command.minutes)}, more than {format_duration(limit)} in one top-up "
            "(BLOCKTIME_MAX_TOPUP). If it is right, add the word confirm.",
            f"topup {command.client} {command.minutes // 60} confirm",
        )
    refuse_a_closed_block(book, command)
    book.catch_up()
    block, carried, billed = add_block(book, command, key, source="refill")
    view = block_view(block, book.today, book.policy.grace_days).as_dict()
    record_audit(book.uow, book.ctx, book.actor, "refill_confirm", f"block:{block.id}", book.client.id, None, view)
    return topup_result(book, block, carried, billed)
