"""Connecting the PSA: ``blocktime psa check | link | member | worktype | reconcile | import-blocks |
sync | retry``. Each talks to the PSA outside any transaction and writes only what a person asked for."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.domain.commands import ClientSet, TopUp
from bot.domain.dates import Period
from bot.domain.errors import NotFound, ParseError, Refused
from bot.domain.psa_records import OurTime, compare
from bot.domain.roles import Role, require
from bot.domain.worktypes import STANDARD
from bot.psa import Company, Psa, PsaNotFound, psa_label
from bot.services import hours
from bot.services.clients import set_client
from bot.services.context import Actor, Context, client_named, record_audit
from bot.services.psa_sync import queue_chain, retry_failed
from bot.services.results import Message
from storage.db import UnitOfWork
from storage.repos import Client, SyncRow

RECENT_AUTHORS_DAYS = 90  # psa check looks at the technicians who logged time this recently


@dataclass(frozen=True)
class Checked:
    """``psa check``'s answer and whether everything is in place (the CLI's exit code)."""

    message: Message
    complete: bool


def _admin(ctx: Context, actor: Actor, what: str) -> None:
    with ctx.db.unit_of_work(read_only=True) as uow:
        require(ctx.role(uow, actor), Role.ADMIN, what)


def check(ctx: Context, actor: Actor, psa: Psa) -> Checked:
    """Reach the PSA, then list every mapping that is missing or points at nothing."""
    _admin(ctx, actor, "check the PSA connection")
    version = psa.whoami()
    with ctx.db.unit_of_work(read_only=True) as uow:
        clients = [
            (c.handle, c.psa_company_id, c.psa_agreement_id, c.psa_ticket_id)
            for c in uow.clients.all()
            if not c.archived
        ]
        mapped = uow.psa.members()
        authors = uow.psa.authors(ctx.now() - timedelta(days=RECENT_AUTHORS_DAYS))
        emails = {user: uow.psa.email_of(user) for user in authors if user not in mapped}
        kinds = {name: row.psa_work_type_id for name, row in uow.psa.work_type_maps().items()}
        names = [STANDARD, *(w.name for w in uow.worktypes.all() if not w.archived)]
    lines = [f"{psa.name} answers ({version})."]
    missing: dict[str, list[str]] = {"clients": [], "members": [], "work_types": [], "tickets": []}
    problems: list[str] = []
    for handle, company_id, agreement_id, ticket_id in clients:
        if not (company_id and agreement_id):
            missing["clients"].append(handle)
            continue
        if psa.needs_ticket and not ticket_id:
            missing["tickets"].append(handle)
        problem = _agreement_problem(psa, company_id, agreement_id)
        if problem:
            problems.append(f"{handle}: {problem}")
    for user, name in sorted(authors.items(), key=lambda item: item[1].lower()):
        if user in mapped:
            continue
        email = emails.get(user)
        if email is None or psa.member_by_email(email) is None:
            why = f"no member has {email}" if email else "no e-mail from Slack"
            missing["members"].append(f"{name} ({user}): {why}")
    unmapped_kinds = [name for name in names if not kinds.get(name)]
    for name, type_id in sorted(kinds.items()):
        if type_id and not psa.work_type_exists(type_id):
            problems.append(f"work type {name}: {psa.name} has no work type {type_id}")
    missing["work_types"] = unmapped_kinds
    if missing["clients"]:
        lines.append(
            "Clients without a company and agreement (their entries fail to sync): "
            + ", ".join(missing["clients"])
            + ". Link each: blocktime psa link <client>"
        )
    lines.extend(f"Wrong link: {p}" for p in problems)
    if missing["tickets"]:
        lines.append(
            f"Clients without a ticket for other time ({psa.name} records time only on tickets, so their entries "
            "without a #ticket fail to sync): "
            + ", ".join(missing["tickets"])
            + ". Set one: client set <client> psa-ticket <ticket id>"
        )
    if missing["members"]:
        lines.append("Technicians without a member: " + "; ".join(missing["members"]))
        lines.append("Map each: blocktime psa member <slack user id> <member id>")
    if unmapped_kinds:
        lines.append(
            "Work types without a PSA work type (the member's default is used): "
            + ", ".join(unmapped_kinds)
            + ". Map one: blocktime psa worktype <name> <work type id> [role <work role id>]"
        )
    complete = not (missing["clients"] or missing["members"] or problems)
    if complete:
        lines.append(
            f"Every client and technician is mapped ({len(clients)} {'client' if len(clients) == 1 else 'clients'})."
        )
    data = {"psa": psa.name, "reachable": True, "version": version, "missing": missing, "problems": problems}
    return Checked(Message("\n".join(lines), {**data, "complete": complete}), complete)


def _agreement_problem(psa: Psa, company_id: str, agreement_id: str) -> str | None:
    try:
        psa.company(company_id)
    except PsaNotFound:
        return f"company {company_id} does not exist in {psa.name}"
    try:
        agreement = psa.agreement(agreement_id)
    except PsaNotFound:
        return f"agreement {agreement_id} does not exist in {psa.name}"
    if agreement.company_id and agreement.company_id != company_id:
        return f"agreement {agreement_id} belongs to company {agreement.company_id}, not {company_id}"
    return None


def link(
    ctx: Context, actor: Actor, psa: Psa, handle: str, company_id: str | None, agreement_id: str | None
) -> Message:
    """Without ids: the PSA's companies named like the client (and, for one, its agreements). With a
    company: its agreements, linked at once when it has exactly one active. With both: linked."""
    _admin(ctx, actor, "link clients to the PSA")
    with ctx.db.unit_of_work(read_only=True) as uow:
        client = client_named(uow, handle)
        name, handle = client.display_name, client.handle
    if company_id is None:
        found = {c.id: c for words in (name, handle) for c in psa.companies(words)}
        if not found:
            return Message(
                f"No company in {psa.name} is named like {name}. Find its id in {psa.name} and run "
                f"blocktime psa link {handle} <company id> <agreement id>",
                {"client": handle, "companies": []},
            )
        lines = [f"Companies in {psa.name} named like {name}:"]
        lines += [f"  {c.id}  {c.name} ({c.identifier})" for c in found.values()]
        agreements = psa.agreements(next(iter(found))) if len(found) == 1 else []
        lines += [f"    agreement {a.id}  {a.name} ({a.kind or 'no type'})" for a in agreements if a.active]
        lines.append(f"Link one: blocktime psa link {handle} <company id> <agreement id>")
        return Message(
            "\n".join(lines),
            {
                "client": handle,
                "companies": [c.__dict__ for c in found.values()],
                "agreements": [a.__dict__ for a in agreements],
            },
        )
    company = _company(psa, company_id)
    if agreement_id is None:
        active = [a for a in psa.agreements(company.id) if a.active]
        if len(active) != 1:
            lines = [f"{company.name} has {len(active) or 'no'} active agreements in {psa.name}:"]
            lines += [f"  agreement {a.id}  {a.name} ({a.kind or 'no type'})" for a in active]
            lines.append(f"Say which: blocktime psa link {handle} {company.id} <agreement id>")
            return Message("\n".join(lines), {"client": handle, "agreements": [a.__dict__ for a in active]})
        agreement_id = active[0].id
    problem = _agreement_problem(psa, company.id, agreement_id)
    if problem:
        raise Refused(f"Not linked: {problem}.", f"blocktime psa link {handle}")
    set_client(ctx, actor, ClientSet(handle, {"psa_company_id": company.id, "psa_agreement_id": agreement_id}))
    requeued = retry_failed(ctx, actor, handle=handle).data.get("requeued", 0)
    again = f" {requeued} failed entries are queued again." if requeued else ""
    return Message(
        f"{name} is linked to {company.name} (company {company.id}), agreement {agreement_id}.{again}",
        {"client": handle, "psa_company_id": company.id, "psa_agreement_id": agreement_id, "requeued": requeued},
    )


def _company(psa: Psa, company_id: str) -> Company:
    try:
        return psa.company(company_id)
    except PsaNotFound:
        raise NotFound(f"There is no company {company_id} in {psa.name}.", "blocktime psa link acme") from None


def member(ctx: Context, actor: Actor, psa: Psa | None, user: str, member_id: str | None) -> Message:
    """``psa member <user> <member id|none>``: this technician's time goes to that member."""
    _admin(ctx, actor, "map technicians to PSA members")
    user_id = _user_id(ctx, user)
    name = None
    if member_id is not None:
        if not member_id.isdigit():
            raise ParseError(f"A member id is a number, not `{member_id}`.", "blocktime psa member U012ABC 17")
        if psa is not None:
            try:
                name = psa.member(member_id)
            except PsaNotFound:
                raise NotFound(f"There is no member {member_id} in {psa.name}.", "blocktime psa check") from None
    with ctx.db.unit_of_work() as uow:
        before = uow.psa.member_of(user_id)
        was = {"member_id": before.member_id, "source": before.source} if before else None
        uow.psa.set_member(user_id, member_id, "set", ctx.now())
        record_audit(uow, ctx, actor, "psa_member", f"user:{user_id}", None, was, {"member_id": member_id})
        uow.commit()
    if member_id is None:
        return Message(f"{user_id} has no member set; their e-mail is used to find one.", {"user": user_id})
    return Message(
        f"Time of {user_id} goes to member {member_id}" + (f" ({name})." if name else "."),
        {"user": user_id, "member_id": member_id, "member": name},
    )


def _user_id(ctx: Context, user: str) -> str:
    """``<@U012ABC>``, ``U012ABC``, or ``@sam`` (a name or first name Slack or their entries give)."""
    word = user.strip()
    if word.startswith("<@") and word.endswith(">"):
        return word[2:-1].split("|")[0]
    if not word.startswith("@"):
        return word
    with ctx.db.unit_of_work(read_only=True) as uow:
        named = uow.psa.users_named(word[1:])
    if len(named) != 1:
        who = "No one" if not named else f"More than one person ({', '.join(sorted(named))})"
        raise NotFound(f"{who} is named {word} here; use their Slack user id.", "blocktime psa member U012ABC 17")
    return named.pop()


def work_type(ctx: Context, actor: Actor, name: str, type_id: str | None, role_id: str | None) -> Message:
    """``psa worktype <name> <work type id|none> [role <work role id>]``."""
    _admin(ctx, actor, "map work types to the PSA")
    for value in (type_id, role_id):
        if value is not None and not value.isdigit():
            raise ParseError(f"PSA ids are numbers, not `{value}`.", "blocktime psa worktype onsite 5 role 3")
    with ctx.db.unit_of_work() as uow:
        known = {STANDARD, *(w.name for w in uow.worktypes.all())}
        if name not in known:
            raise NotFound(f"There is no work type {name}.", "worktype list")
        before = uow.psa.work_type_map(name)
        was = {"type": before.psa_work_type_id, "role": before.psa_work_role_id} if before else None
        uow.psa.set_work_type(name, type_id, role_id)
        record_audit(
            uow, ctx, actor, "psa_work_type", f"work_type:{name}", None, was, {"type": type_id, "role": role_id}
        )
        uow.commit()
    role = f", work role {role_id}" if role_id else ""
    return Message(
        f"{name} goes to the PSA as work type {type_id}{role}." if type_id else f"{name} uses the member's default.",
        {"work_type": name, "psa_work_type_id": type_id, "psa_work_role_id": role_id},
    )


def reconcile(ctx: Context, actor: Actor, psa: Psa, handle: str, period: Period) -> Message:
    """Our entries of ``period`` against the PSA's records on the client's agreement: every difference."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        client, agreement = _linked_client(ctx, uow, actor, handle, "reconcile with the PSA")
        entries = [e for e in uow.entries.in_period(client.id, period.start, period.end) if not e.voided_at]
        rows = uow.psa.sync_rows(uow.psa.chain_root(e) for e in entries)
        ours = [
            OurTime(
                e.id,
                e.psa_id,
                _reference(rows.get(uow.psa.chain_root(e))),
                e.work_date,
                e.minutes,
                e.user_name,
                e.note,
            )
            for e in entries
        ]
        zone, name = ZoneInfo(client.timezone), client.display_name
        handle = client.handle
    start = datetime.combine(period.start, time(0), tzinfo=zone)
    end = datetime.combine(period.end, time(0), tzinfo=zone)
    theirs = psa.times(agreement, start, end)
    found = compare(ours, theirs, zone)
    label = f"{period.start:%Y-%m-%d} to {period.end - timedelta(days=1):%Y-%m-%d}"
    lines = [f"{name}, {label}: {len(ours)} entries here, {len(theirs)} records in {psa.name} (agreement {agreement})."]
    lines += [f"  {d.day} {d.kind}: {d.text}" for d in found] or ["  No differences."]
    return Message(
        "\n".join(lines),
        {
            "client": handle,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "ours": len(ours),
            "theirs": len(theirs),
            "in_step": not found,
            "differences": [d.as_dict() for d in found],
        },
    )


def _linked_client(ctx: Context, uow: UnitOfWork, actor: Actor, handle: str, what: str) -> tuple[Client, str]:
    """The client and its PSA agreement, for a manager; refused when it is not linked."""
    require(ctx.role(uow, actor), Role.MANAGER, what)
    client = client_named(uow, handle)
    if not client.psa_agreement_id:
        raise Refused(f"{client.display_name} has no PSA agreement.", f"blocktime psa link {client.handle}")
    return client, client.psa_agreement_id


def _reference(row: SyncRow | None) -> str | None:
    return str(json.loads(row.payload).get("reference")) if row else None


def import_blocks(ctx: Context, actor: Actor, psa: Psa, handle: str, confirmed: bool) -> Message:
    """The agreement's prepaid hours, offered as top-ups; with ``confirm``, each added once (a second
    import finds it by its key and adds nothing)."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        client, agreement = _linked_client(ctx, uow, actor, handle, "import blocks from the PSA")
        client_id, handle, name = client.id, client.handle, client.display_name
        today = ctx.today(client.timezone)
    offers = psa.prepaid_blocks(agreement, today)
    blocks = "prepaid block" if len(offers) == 1 else "prepaid blocks"
    lines = [f"{psa.name} agreement {agreement} of {name} holds {len(offers) or 'no'} {blocks} of hours:"]
    data: list[dict[str, object]] = []
    with ctx.db.unit_of_work(read_only=True) as uow:  # a block here has it: imported, or written by us
        known = uow.psa_blocks.by_psa_id(client_id, [o.source for o in offers])
    for offer in offers:
        key = f"psa-import:{client_id}:{offer.source}"
        size = f"{offer.minutes / 60:g} h"
        row: dict[str, object] = {
            "source": offer.source,
            "minutes": offer.minutes,
            "starts_on": offer.starts_on.isoformat() if offer.starts_on else None,
            "expires_on": offer.expires_on.isoformat() if offer.expires_on else None,
            "price": offer.price,
            "description": offer.description,
            "paid": offer.paid is not False,  # unpaid only where the PSA says so (Autotask's isPaid)
        }
        if offer.ours or (offer.source in known and not confirmed):
            row["status"] = "written by blocktime" if offer.ours else "imported"
        elif offer.source in known:
            row["status"] = "imported before"
        elif offer.expires_on is not None and offer.expires_on < today:
            row["status"] = "expired"
        elif not confirmed:
            with ctx.db.unit_of_work(read_only=True) as uow:
                row["status"] = "imported" if uow.blocks.by_key(key) else "offered"
        else:
            result = hours.top_up(
                ctx,
                actor,
                TopUp(
                    handle,
                    offer.minutes,
                    expires_on=offer.expires_on,
                    starts_on=offer.starts_on if offer.starts_on and offer.starts_on <= today else None,
                    price=Decimal(offer.price) if offer.price else None,
                    currency=ctx.settings.currency if offer.price else None,
                    reference=f"{psa.name} {offer.source}"[:100],
                    note=offer.description[:200],
                    confirmed=True,
                    paid=offer.paid is not False,
                ),
                idempotency_key=key,
                psa_id=offer.source,
            )
            row["status"] = "imported before" if result.duplicate else "imported"
            row["block_id"] = result.block_id
            row["block_number"] = result.block_number
        data.append(row)
        lines.append(f"  {offer.source}: {size}, {offer.description} [{row['status']}]")
    if not confirmed and any(r["status"] == "offered" for r in data):
        lines.append(f"Add them as top-ups: blocktime psa import-blocks {handle} confirm")
    return Message("\n".join(lines), {"client": handle, "blocks": data})


def backfill(ctx: Context, actor: Actor, handle: str, period: Period) -> Message:
    """``psa sync acme last month``: queue the client's entries of ``period`` that were never queued
    (logged before the PSA was connected); entries already queued are left as they are."""
    with ctx.db.unit_of_work() as uow:
        require(ctx.role(uow, actor), Role.MANAGER, "send entries to the PSA")
        label = psa_label(ctx.settings)
        if label is None:
            raise Refused("No PSA is connected (PSA in the environment).", "PSA=connectwise")
        client = client_named(uow, handle, lock=True)  # orders this with edits and voids
        entries = [e for e in uow.entries.in_period(client.id, period.start, period.end) if not e.voided_at]
        queued = uow.psa.sync_rows(uow.psa.chain_root(e) for e in entries)
        fresh = [e for e in entries if uow.psa.chain_root(e) not in queued]
        for entry in fresh:
            queue_chain(uow, ctx, entry)
        uow.commit()
    return Message(
        f"{len(fresh)} entries of {client.display_name} queued for {label}"
        + (f"; {len(entries) - len(fresh)} were queued already." if len(entries) > len(fresh) else "."),
        {"client": client.handle, "queued": len(fresh), "already": len(entries) - len(fresh)},
    )


def retry(ctx: Context, actor: Actor, handle: str | None) -> Message:
    return retry_failed(ctx, actor, handle=handle)


__all__ = ["Checked", "backfill", "check", "import_blocks", "link", "member", "reconcile", "retry", "work_type"]
