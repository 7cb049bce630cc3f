"""Client and role administration: add, alias, rename, archive, set policy, assign roles. Admins only;
every change is audited with before and after."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.domain.allotments import last_start_after_change
from bot.domain.commands import (
    ClientAdd,
    ClientAlias,
    ClientArchive,
    ClientList,
    ClientRename,
    ClientSet,
    ClientShow,
    SetRole,
)
from bot.domain.errors import PermissionDenied, Refused
from bot.domain.followups import followup_kind
from bot.domain.offers import OfferChange, apply_offers, format_offers, stored_offers
from bot.domain.roles import Role, Standing, require
from bot.services.book import ClientBook, allotment_of
from bot.services.context import Actor, Context, client_named, grace_days_of, record_audit
from bot.services.dispatch import serves
from bot.services.people import channel_shared, person_standing
from bot.services.results import ClientView, Message
from bot.services.worktypes import set_client_rates
from storage.db import UnitOfWork
from storage.repos import Client

POLICY_FIELDS = (
    "display_name",
    "account_manager",
    "alert_channel",
    "timezone",
    "archived",
    "rounding_minutes",
    "minimum_minutes",
    "overdraft_minutes",
    "expiry_grace_days",
    "client_view",
    "client_notes",
    "statement_channel",
    "statement_emails",
    "psa_company_id",
    "psa_agreement_id",
    "psa_ticket_id",
    "overage_policy",
    "thresholds",
    "alert_email",
    "alert_webhook",
    "work_hours",
    "psa_alert",
    "pay_first",
    "psa_product_id",
    "recurring_period",
    "recurring_minutes",
    "rollover_minutes",
    "refill_mode",
    "refill_minutes",
    "refill_paid",
    "refill_cap",
    "hold_at_minutes",
    "hold_at_percent",
    "client_approves",
    "buy_offers",
)
ALLOTMENT_FIELDS = ("recurring_period", "recurring_minutes", "rollover_minutes")


def client_view(client: Client, settings: Settings) -> ClientView:
    return ClientView(
        id=client.id,
        handle=client.handle,
        display_name=client.display_name,
        aliases=[a.alias for a in client.aliases],
        account_manager=client.account_manager,
        alert_channel=client.alert_channel,
        timezone=client.timezone,
        archived=client.archived,
        rounding_minutes=client.rounding_minutes,
        minimum_minutes=client.minimum_minutes,
        overdraft_minutes=client.overdraft_minutes,
        overage_policy=client.overage_policy,
        thresholds=client.thresholds or settings.thresholds,
        alert_email=client.alert_email,
        alert_webhook=client.alert_webhook,
        expiry_grace_days=grace_days_of(client, settings),
        client_view=client.client_view,
        client_notes=client.client_notes,
        statement_channel=client.statement_channel,
        statement_emails=client.statement_emails,
        work_hours=client.work_hours,
        psa_company_id=client.psa_company_id,
        psa_agreement_id=client.psa_agreement_id,
        psa_ticket_id=client.psa_ticket_id,
        psa_alert=followup_kind(client.psa_alert, settings.psa_alert) or "off",
        psa_alert_default=client.psa_alert is None,
        pay_first=client.pay_first,
        psa_product_id=client.psa_product_id,
        recurring_period=client.recurring_period,
        recurring_minutes=client.recurring_minutes,
        rollover_minutes=client.rollover_minutes,
        recurring_last_start=client.recurring_last_start,
        refill_mode=client.refill_mode or "notify",
        refill_minutes=client.refill_minutes,
        refill_paid=bool(client.refill_paid),
        refill_cap=client.refill_cap if client.refill_cap is not None else 1,
        refill_armed=client.refill_armed if client.refill_armed is not None else True,
        hold_at_minutes=client.hold_at_minutes,
        hold_at_percent=client.hold_at_percent,
        hold_approved_minutes=client.hold_approved_minutes or 0,
        client_approves=bool(client.client_approves),
        buy_offers=client.buy_offers,
    )


def _snapshot(client: Client) -> dict[str, Any]:
    return {name: getattr(client, name) for name in POLICY_FIELDS}


@serves(ClientAdd)
def add_client(ctx: Context, actor: Actor, command: ClientAdd) -> ClientView:
    settings = ctx.settings
    with ctx.db.unit_of_work() as uow:
        require(ctx.role(uow, actor), Role.ADMIN, "add clients")
        if uow.clients.name_taken(command.handle):
            raise Refused(f"`{command.handle}` is already a client handle or alias.", "client add acme2 Acme Two")
        client = uow.clients.add(
            handle=command.handle,
            display_name=command.name,
            timezone=settings.timezone,
            archived=False,
            rounding_minutes=settings.rounding_minutes,
            minimum_minutes=settings.minimum_minutes,
            overdraft_minutes=settings.overdraft_minutes,
            overage_policy=settings.overage_policy,
            created_at=ctx.now(),
        )
        record_audit(uow, ctx, actor, "client_add", f"client:{client.id}", client.id, None, _snapshot(client))
        view = client_view(client, settings)
        uow.commit()
        return view


def _change(ctx: Context, actor: Actor, handle: str, action: str, changes: dict[str, Any]) -> ClientView:
    with ctx.db.unit_of_work() as uow:
        require(ctx.role(uow, actor), Role.ADMIN, "change clients")
        _refuse_a_guest_choosing_statement_emails(actor, changes)
        _refuse_a_shared_alert_channel(uow, changes)
        client = client_named(uow, handle, lock=True)
        before = _snapshot(client)
        offers = changes.pop("buy_offers", None)
        if isinstance(offers, OfferChange):  # buy 10h 950 USD: this size added or re-priced, the others kept
            changes["buy_offers"] = format_offers(apply_offers(stored_offers(client.buy_offers), offers))
        rates = changes.pop("work_type_rates", None)
        if rates:
            set_client_rates(uow, client.id, rates)
        ClientBook(uow, ctx, client, actor).expire_due()  # what had closed already, as the job would
        allotment_before = allotment_of(client)
        for name, value in changes.items():
            setattr(client, name, value)
        _keep_the_calendar_from_going_back(ctx, client, before["timezone"])
        if any(name in changes for name in ALLOTMENT_FIELDS):
            client.recurring_last_start = last_start_after_change(
                allotment_before, allotment_of(client), client.recurring_last_start, ctx.today(client.timezone)
            )
        uow.clients.save(client)
        _forfeit_what_the_change_closed(uow, ctx, actor, client, before)
        if any(name in changes for name in ALLOTMENT_FIELDS) and allotment_of(client) is not None:
            ClientBook(uow, ctx, client, actor).expire_due()  # an allotment begun: its current period now
        record_audit(uow, ctx, actor, action, f"client:{client.id}", client.id, before, _snapshot(client))
        view = client_view(client, ctx.settings)
        uow.commit()
        return view


def _keep_the_calendar_from_going_back(ctx: Context, client: Client, old_zone: str) -> None:
    """A new time zone whose day is earlier than the old one's (Auckland to UTC early on the 1st) would
    record the next lines in a month that is over: lines are recorded from the old zone's day instead
    (``recorded_day``) until the new zone's calendar reaches it."""
    if client.timezone == old_zone:
        return
    old_today = ctx.today(old_zone)
    if ctx.today(client.timezone) < old_today:
        client.records_from = max(old_today, client.records_from or old_today)


CLOSING_SETTINGS = {"expiry_grace_days": "a shorter grace period", "timezone": "a new time zone"}


def _forfeit_what_the_change_closed(
    uow: UnitOfWork, ctx: Context, actor: Actor, client: Client, before: dict[str, Any]
) -> None:
    """A shorter grace period, or a time zone whose day is later, can close a block: its unused
    minutes are forfeited in this transaction, dated now, so the balance never shows a forfeit the
    ledger does not record, and no line lands in a month that is over."""
    changed = [why for name, why in CLOSING_SETTINGS.items() if before[name] != getattr(client, name)]
    if changed:
        ClientBook(uow, ctx, client, actor).expire_due(cause=f"closed by {' and '.join(changed)}")


@serves(ClientRename)
def rename_client(ctx: Context, actor: Actor, command: ClientRename) -> ClientView:
    return _change(ctx, actor, command.handle, "client_rename", {"display_name": command.name})


@serves(ClientArchive)
def archive_client(ctx: Context, actor: Actor, command: ClientArchive) -> ClientView:
    return _change(ctx, actor, command.handle, "client_archive", {"archived": command.archived})


@serves(ClientSet)
def set_client(ctx: Context, actor: Actor, command: ClientSet) -> ClientView:
    return _change(ctx, actor, command.handle, "client_set", dict(command.changes))


def _refuse_a_guest_choosing_statement_emails(actor: Actor, changes: dict[str, Any]) -> None:
    """Each statement e-mail carries a link to the client's page: choosing where they go is sharing the
    page, which a guest never does, whatever role they were given (``bot.services.shares``)."""
    if "statement_emails" in changes and not actor.msp_staff:
        raise PermissionDenied(
            "Only the MSP's own account managers and admins can choose where a client's statements are "
            "e-mailed (each carries a link to the client's page); guests can't."
        )


def _refuse_a_shared_alert_channel(uow: UnitOfWork, changes: dict[str, Any]) -> None:
    channel = changes.get("alert_channel")
    why = channel_shared(uow, channel) if isinstance(channel, str) else None
    if why:
        raise Refused(
            f"<#{channel}> can't receive alerts: it is {why}, and alerts speak of selling hours. "
            "Pick an internal channel (only the MSP's staff in it).",
            "client set acme channel #acme-internal",
        )


@serves(ClientAlias)
def alias_client(ctx: Context, actor: Actor, command: ClientAlias) -> ClientView:
    with ctx.db.unit_of_work() as uow:
        require(ctx.role(uow, actor), Role.ADMIN, "add aliases")
        client = client_named(uow, command.handle, lock=True)
        if uow.clients.name_taken(command.alias):
            raise Refused(f"`{command.alias}` is already a client handle or alias.")
        before = {"aliases": [a.alias for a in client.aliases]}
        uow.clients.add_alias(client, command.alias)
        after = {"aliases": [a.alias for a in client.aliases]}
        record_audit(uow, ctx, actor, "client_alias", f"client:{client.id}", client.id, before, after)
        view = client_view(client, ctx.settings)
        uow.commit()
        return view


@serves(ClientShow)
def show_client(ctx: Context, actor: Actor, command: ClientShow) -> ClientView:
    with ctx.db.unit_of_work(read_only=True) as uow:
        require(ctx.role(uow, actor), Role.TECHNICIAN, "see clients")
        return client_view(client_named(uow, command.handle), ctx.settings)


def list_clients(ctx: Context, actor: Actor, command: ClientList) -> list[ClientView]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        require(ctx.role(uow, actor), Role.TECHNICIAN, "see clients")
        clients = uow.clients.all(command.include_archived)
        return [client_view(c, ctx.settings) for c in clients]


@serves(SetRole)
def set_role(ctx: Context, actor: Actor, command: SetRole) -> Message:
    with ctx.db.unit_of_work() as uow:
        require(ctx.role(uow, actor), Role.ADMIN, "assign roles")
        if person_standing(uow, command.user) is Standing.EXTERNAL:
            raise Refused(
                f"<@{command.user}> belongs to another organisation (a Slack Connect member, a bot or a "
                "deactivated user): they stay a client contact and can't be given a role. Invite them as a "
                "guest of this workspace if they work for you."
            )
        stored = uow.roles.grant(command.user, command.role.label, actor.user_id, ctx.now())
        before = {"role": stored or Role.TECHNICIAN.label}
        record_audit(uow, ctx, actor, "role", f"user:{command.user}", None, before, {"role": command.role.label})
        uow.commit()
        note = " (also listed in BLOCKTIME_ADMINS, so still an admin)" if command.user in ctx.settings.admins else ""
        return Message(
            f"<@{command.user}> is now a {command.role.label}{note}.",
            {"user": command.user, "role": command.role.label},
        )
