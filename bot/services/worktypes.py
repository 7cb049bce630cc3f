"""Work types and their multipliers: defined by admins, overridden per client, looked up when an entry
is logged (the entry keeps the multiplier it was logged with, whatever the rate becomes later)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.domain.commands import WorkTypeAdd, WorkTypeArchive, WorkTypeList
from bot.domain.errors import NotFound, Refused
from bot.domain.roles import Role, require
from bot.domain.worktypes import STANDARD, multiplier_label, plain
from bot.services.context import Actor, Context, record_audit
from bot.services.dispatch import serves
from bot.services.results import Message, Result
from storage.db import UnitOfWork


@dataclass(frozen=True)
class WorkTypeView(Result):
    name: str
    multiplier: Decimal
    archived: bool


@dataclass(frozen=True)
class WorkTypesResult(Result):
    work_types: list[WorkTypeView]


def rate_for(uow: UnitOfWork, client_id: int, name: str) -> Decimal:
    """The client's own rate for ``name``, else the work type's; ``standard`` is x1."""
    if name == STANDARD:
        return Decimal(1)
    own = uow.worktypes.client_rate(client_id, name)
    if own is not None:
        return own
    found = uow.worktypes.get(name)
    if found is None or found.archived:
        known = ", ".join(w.name for w in uow.worktypes.all())
        raise NotFound(
            f"There is no work type `{name}` (`as <word>` names a work type, wherever it stands). "
            f"Work types: {known or 'none yet'} (and standard).",
            "logtime acme 1h as onsite printer fix",
        )
    return found.multiplier


def known_work_type(uow: UnitOfWork, name: str) -> None:
    if name != STANDARD and uow.worktypes.get(name) is None:
        raise NotFound(f"There is no work type `{name}`; add it first.", f"worktype add {name} 1.5")


@serves(WorkTypeAdd)
def add_work_type(ctx: Context, actor: Actor, command: WorkTypeAdd) -> Message:
    with ctx.db.unit_of_work() as uow:
        require(ctx.role(uow, actor), Role.ADMIN, "define work types")
        if command.name == STANDARD:
            raise Refused("`standard` is always x1; name the new work type otherwise.", "worktype add onsite 1.5")
        row = uow.worktypes.get(command.name, lock=True)
        before = None if row is None else {"multiplier": str(row.multiplier), "archived": row.archived}
        # a new rate applies to new entries only: each entry keeps the multiplier it was logged with
        uow.worktypes.define(command.name, command.multiplier, ctx.now())
        record_audit(
            uow,
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
        require(ctx.role(uow, actor), Role.TECHNICIAN, "see work types")
        rows = [
            WorkTypeView(w.name, plain(w.multiplier), w.archived) for w in uow.worktypes.all(command.include_archived)
        ]
    return WorkTypesResult([WorkTypeView(STANDARD, Decimal(1), False), *rows])


@serves(WorkTypeArchive)
def archive_work_type(ctx: Context, actor: Actor, command: WorkTypeArchive) -> Message:
    with ctx.db.unit_of_work() as uow:
        require(ctx.role(uow, actor), Role.ADMIN, "archive work types")
        if uow.worktypes.get(command.name, lock=True) is None:
            raise NotFound(f"There is no work type `{command.name}`.", "worktype list")
        uow.worktypes.archive(command.name)
        record_audit(uow, ctx, actor, "worktype_archive", f"worktype:{command.name}", None, None, {"archived": True})
        uow.commit()
    return Message(f"Work type `{command.name}` is archived: new entries can't use it; old ones keep it.")


def set_client_rates(uow: UnitOfWork, client_id: int, rates: dict[str, Decimal | None]) -> None:
    """``client set acme worktype onsite 2`` (``none`` goes back to the work type's own rate)."""
    for name, rate in rates.items():
        if name == STANDARD:
            raise Refused("`standard` is always x1 for every client.", "client set acme worktype onsite 2")
        known_work_type(uow, name)
        uow.worktypes.set_client_rate(client_id, name, rate)
