"""Overage under control (issue 26, part 6): approvals that lift a client's overage hold.

The hold itself is decided in the domain (``bot.domain.holds``, ``EntryPlan.held``) on every entry,
whatever sent it. Here: ``approve acme 2h`` (account managers and admins), and the client's own
**Approve up to 2 more hours** on the client-safe card (``client_approve``), the only change a client
contact can ever make. Both lift the hold through the ledger (``ClientLedger.approve_overage``) in the
client's row lock, and both are audited, the client's with their name."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.domain.commands import ApproveOverage
from bot.domain.errors import PermissionDenied, Refused
from bot.domain.holds import (
    HoldLimit,
    approval_words,
    client_approval_offer,
    client_approval_refusal,
    client_approved_this_run,
)
from bot.domain.roles import Role, require
from bot.services.book import ClientBook, hold_of, locked_client
from bot.services.context import Actor, Context, client_named, record_audit
from bot.services.dispatch import serves
from bot.services.results import Message
from storage.db import UnitOfWork
from storage.repos import Client


@dataclass(frozen=True)
class Contact:
    """What Slack says of whoever clicked the client's button, in the channel it was clicked in."""

    external: bool  # of another organisation (users.info's team, or the event's user team)
    other_team: bool  # ...a real member of it (their team is known and is not the MSP's)
    channel_connect: bool  # the channel is shared with another organisation (Slack Connect)
    member: bool  # they are a member of that channel (conversations.members)
    team_id: str | None = None  # their organisation's team
    # the other organisations' teams connected to the channel (conversations.info); None: unknown
    channel_teams: tuple[str, ...] | None = None


def approval_value(client_id: int, minutes: int, approved_before: int, overage: int) -> str:
    """The button's value: which client, how much, and the approvals and overage it was offered on
    (so one card approves once: a retry, a second click or a stale card changes nothing)."""
    return f"{client_id}:{minutes}:{approved_before}:{overage}"


def _read_value(value: str) -> tuple[int, int, int, int] | None:
    parts = value.split(":")
    if len(parts) != 4 or not all(p.isascii() and p.isdigit() and len(p) <= 12 for p in parts):
        return None
    client_id, minutes, before, overage = (int(p) for p in parts)
    return client_id, minutes, before, overage


def client_approved(uow: UnitOfWork, client_id: int, approved_now: int) -> int:
    """The minutes the client's own people approved in this run into overage (from the audited
    approvals: ``bot.domain.holds.client_approved_this_run``)."""
    if approved_now <= 0:
        return 0
    chain = [
        (int(before.get("hold_approved_minutes") or 0), int(after.get("hold_approved_minutes") or 0), _by_client(after))
        for before, after in uow.audit.changes(client_id, "overage_approve")
    ]
    return client_approved_this_run(approved_now, chain)


def _by_client(after: dict[str, object]) -> bool:
    return bool(after.get("by_client")) or str(after.get("by", "")).endswith("for the client")


def _hold(uow: UnitOfWork, client: Client) -> HoldLimit:
    hold = hold_of(uow, client)
    if hold is None:
        raise Refused(
            f"{client.display_name} has no overage hold, so there is nothing to approve.",
            f"client set {client.handle} hold-at 2h",
        )
    return hold


def _lifted(uow: UnitOfWork, ctx: Context, actor: Actor, client: Client, minutes: int, how: str) -> Message:
    """Lift the hold by ``minutes`` through the ledger and audit it."""
    book = ClientBook(uow, ctx, client, actor)
    before = book.ledger.terms.hold_limit
    assert before is not None
    approved = book.ledger.approve_overage(minutes)
    book.save()
    record_audit(
        uow,
        ctx,
        actor,
        "overage_approve",
        f"client:{client.id}",
        client.id,
        {"hold_approved_minutes": before.approved_minutes},
        {
            "hold_approved_minutes": approved,
            "minutes": minutes,
            "by": how,
            "name": actor.label,
            "by_client": how.endswith("for the client"),  # counted toward the client's own limit a run
        },
    )
    over = book.ledger.totals.open_overage_minutes
    allowed = before.limit + approved
    uow.commit()
    return Message(
        approval_words(client.display_name, minutes, how, over, replace(before, approved_minutes=approved)),
        {
            "client": client.handle,
            "approved_minutes": minutes,
            "hold_approved_minutes": approved,
            "hold_limit_minutes": before.limit,
            "overage_minutes": over,
            "allowed_overage_minutes": allowed,
            "approved_by": actor.label,
            "pre_approval": over <= 0,  # not in overage now: it applies to the next overage
        },
    )


@serves(ApproveOverage)
def approve(ctx: Context, actor: Actor, command: ApproveOverage) -> Message:
    """``approve acme 2h``: an account manager lets the client run up 2h more overage."""
    with ctx.db.unit_of_work() as uow:
        require(ctx.role(uow, actor), Role.MANAGER, "approve more overage")
        client = client_named(uow, command.client, lock=True, allow_archived=False)
        _hold(uow, client)
        return _lifted(uow, ctx, actor, client, command.minutes, "by an account manager")


def client_approve(ctx: Context, actor: Actor, channel_id: str | None, value: str, contact: Contact) -> Message:
    """A client contact's click of **Approve up to 2 more hours** on the client card in the client's
    linked channel (``value``: ``approval_value``). Refused unless they are a Slack Connect member of
    that very channel, the channel is linked to the button's client, and the client lets its people
    approve (``client-approves on``); a card approves once."""
    read = _read_value(value)
    with ctx.db.unit_of_work() as uow:
        linked = uow.channels.linked_client_id(channel_id) if channel_id else None
        refusal = client_approval_refusal(
            external=contact.external,
            other_team=contact.other_team,
            channel_connect=contact.channel_connect,
            member=contact.member,
            linked=read is not None and linked == read[0],
            team=contact.team_id,
            channel_teams=contact.channel_teams,
        )
        if refusal or read is None or linked is None:
            raise PermissionDenied(refusal or "For your hours, ask your account manager.")
        client_id, minutes, seen, seen_overage = read
        client = locked_client(uow, client_id)
        hold = hold_of(uow, client)
        if client.archived or not client.client_approves or hold is None:
            raise PermissionDenied("For your hours, ask your account manager.")
        if (hold.approved_minutes, client.open_overage_minutes) != (seen, seen_overage):
            # this card approved already (a retry, a second click), or it is out of date
            raise Refused(
                "This card's approval was already given (or the hold changed since). "
                "For the latest figures, ask for the card again with /balance."
            )
        book = ClientBook(uow, ctx, client, actor)  # the card's rule, on today's figures
        by_client = client_approved(uow, client.id, hold.approved_minutes)
        usable, held = book.balance(), book.ledger.unpaid().held
        if minutes != client_approval_offer(hold, client.client_approves, usable, held, by_client):
            raise PermissionDenied("For your hours, ask your account manager.")
        return _lifted(uow, ctx, actor, client, minutes, f"by {actor.label} for the client")
