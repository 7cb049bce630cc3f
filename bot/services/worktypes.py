"""Work types and their multipliers: defined by admins, overridden per client, looked up when an entry
is logged (the entry keeps the multiplier it was logged with, whatever the rate becomes later)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from bot.domain.commands import WorkTypeAdd, WorkTypeArchive, WorkTypeList
from bot.domain.errors import NotFound, Refused
from bot.domain.roles import Role, require
from bot.domain.worktypes import STANDARD, multiplier_label, plain
from bot.services.context import Actor, Context, audit
from bot.services.dispatch import serves
from bot.services.results import Message, Result
from storage import repositories
from storage.models import ClientWorkType, WorkType


@dataclass(frozen=True)
class WorkTypeView(Result):
    name: str
    multiplier: Decimal
    archived: bool


@dataclass(frozen=True)
class WorkTypesResult(Result):
    work_types: list[WorkTypeView]


def multiplier_for(session: Session, client_id: int, name: str) -> Decimal:
    """The client's own rate for ``name``, else the work type's; ``standard`` is x1."""
    if name == STANDARD:
        return Decimal(1)
    own = session.get(ClientWorkType, (client_id, name))
    if own is not None:
        return own.multiplier
    found = session.get(WorkType, name)
    if found is None or found.archived:
        known = ", ".join(w.name for w in repositories.work_types(session))
        raise NotFound(
            f"There is no work type `{name}` (`as <word>` names a work type, wherever it stands). "
            f"Work types: {known or 'none yet'} (and standard).",
            "logtime acme 1h as onsite printer fix",
        )
    return found.multiplier


def known_work_type(session: Session, name: str) -> None:
    if name != STANDARD and session.get(WorkType, name) is None:
        raise NotFound(f"There is no work type `{name}`; add it first.", f"worktype add {name} 1.5")


@serves(WorkTypeAdd)
def add_work_type(ctx: Context, actor: Actor, command: WorkTypeAdd) -> Message:
    with ctx.db.unit_of_work() as uow:
        session = uow.session
        require(ctx.role_of(session, actor), Role.ADMIN, "define work types")
        if command.name == STANDARD:
            raise Refused("`standard` is always x1; name the new work type otherwise.", "worktype add onsite 1.5")
        row = session.get(WorkType, command.name, with_for_update=True)
        before = None if row is None else {"multiplier": str(row.multiplier), "archived": row.archived}
        if row is None:
            session.add(
                WorkType(name=command.name, multiplier=command.multiplier, archived=False, created_at=ctx.now())
            )
        else:  # a new rate applies to new entries only: each entry keeps the multiplier it was logged with
            row.multiplier, row.archived = command.multiplier, False
        audit(
            session,
            ctx,
            actor,
            "worktype",
            f"worktype:{command.name}",
            None,
            before,
            {"multiplier": str(command.multiplier)},
        )
        uow.commit()
    return Message(
        f"Work type `{command.name}` is {multiplier_label(command.multiplier)}: `logtime acme 1h as {command.name}` "
        f"deducts {multiplier_label(command.multiplier)} of the time worked. Entries already logged keep their rate.",
        {"work_type": command.name, "multiplier": str(command.multiplier)},
    )


@serves(WorkTypeList)
def list_work_types(ctx: Context, actor: Actor, command: WorkTypeList) -> WorkTypesResult:
    with ctx.db.unit_of_work(read_only=True) as uow:
        require(ctx.role_of(uow.session, actor), Role.TECHNICIAN, "see work types")
        rows = [
            WorkTypeView(w.name, plain(w.multiplier), w.archived)
            for w in repositories.work_types(uow.session, command.include_archived)
        ]
    return WorkTypesResult([WorkTypeView(STANDARD, Decimal(1), False), *rows])


@serves(WorkTypeArchive)
def archive_work_type(ctx: Context, actor: Actor, command: WorkTypeArchive) -> Message:
    with ctx.db.unit_of_work() as uow:
        session = uow.session
        require(ctx.role_of(session, actor), Role.ADMIN, "archive work types")
        row = session.get(WorkType, command.name, with_for_update=True)
        if row is None:
            raise NotFound(f"There is no work type `{command.name}`.", "worktype list")
        row.archived = True
        audit(session, ctx, actor, "worktype_archive", f"worktype:{command.name}", None, None, {"archived": True})
        uow.commit()
    return Message(f"Work type `{command.name}` is archived: new entries can't use it; old ones keep it.")


def set_client_rates(session: Session, client_id: int, rates: dict[str, Decimal | None]) -> None:
    """``client set acme worktype onsite 2`` (``none`` goes back to the work type's own rate)."""
    for name, rate in rates.items():
        if name == STANDARD:
            raise Refused("`standard` is always x1 for every client.", "client set acme worktype onsite 2")
        known_work_type(session, name)
        own = session.get(ClientWorkType, (client_id, name))
        if rate is None:
            if own is not None:
                session.delete(own)
        elif own is None:
            session.add(ClientWorkType(client_id=client_id, work_type=name, multiplier=rate))
        else:
            own.multiplier = rate
