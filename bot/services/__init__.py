"""Use cases. ``run`` dispatches a parsed command to its service; interfaces call it (or the single
functions) and render the result. Every write is one unit of work; roles are checked here."""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

from bot.domain import commands as c
from bot.domain.errors import ParseError
from bot.domain.grammar import parse_command
from bot.domain.helptext import help_text
from bot.domain.roles import Role, Standing, require
from bot.services import alerts, channels, clients, ledger, nudges, queries, reports, timers, worktypes
from bot.services.context import Actor, Context
from bot.services.results import (
    BalancesResult,
    BlocksResult,
    ClientsResult,
    EntriesResult,
    Message,
    Result,
)
from storage.db import DatabaseUnavailable

__all__ = ["Actor", "Context", "run", "run_text", "require_role", "role_of"]


def run_text(
    ctx: Context,
    actor: Actor,
    text: str,
    *,
    channel_id: str | None = None,
    source: str = "slack",
    idempotency_key: str | None = None,
) -> Result:
    """Parse and run a command typed in Slack. In a channel linked to a client, ``logtime`` and
    ``balance`` may leave the client out."""
    try:
        link = channels.linked_client(ctx, channel_id)
    except DatabaseUnavailable as error:  # the reply says "not recorded" only of a change
        error.writing = _writes_text(ctx, text)
        raise
    command = parse_command(text, ctx.today(), ctx.settings.max_entry_minutes, client_known=link is not None)
    if isinstance(command, c.Link):
        if not channel_id:
            raise ParseError("Run `link` in the channel you want to link.", "/blocktime link acme")
        return channels.link_channel(ctx, actor, channel_id, command)
    return run(ctx, actor, command, source=source, idempotency_key=idempotency_key, client_id=link[0] if link else None)


# Commands that only read: when the database is out of reach, their reply says nothing could be shown
# (a change's says nothing was recorded).
READS = (
    c.Balance,
    c.Blocks,
    c.Entries,
    c.ClientShow,
    c.ClientList,
    c.Report,
    c.Insights,
    c.Help,
    c.TimerShow,
    c.WorkTypeList,
)


def writes(command: c.Command) -> bool:
    return not isinstance(command, READS)


def _writes_text(ctx: Context, text: str) -> bool:
    try:
        return writes(parse_command(text, ctx.today(), ctx.settings.max_entry_minutes, client_known=True))
    except ParseError:
        return True


def role_of(ctx: Context, actor: Actor) -> Role:
    """The role ``actor`` acts with (for what the Slack edge shows them, never instead of a service's check)."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        return ctx.role_of(uow.session, actor)


def require_role(ctx: Context, actor: Actor, needed: Role, what: str) -> None:
    """Refuse early (before opening a modal) when the actor's role is too low."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        require(ctx.role_of(uow.session, actor), needed, what)


def run(
    ctx: Context,
    actor: Actor,
    command: c.Command,
    *,
    source: str = "cli",
    idempotency_key: str | None = None,
    client_id: int | None = None,
    ticket: str | None = None,
) -> Result:
    """Carry out ``command`` for ``actor``: its service is the one registered for its type (below).
    ``client_id`` is the client of a linked channel, used when a command names none. Someone who is
    not staff may at most see a client card (``/balance``). When the database is out of reach, the
    error says whether the command meant to change something."""
    try:
        if actor.standing is not Standing.STAFF and not actor.local and not isinstance(command, c.Balance):
            require_role(ctx, actor, Role.TECHNICIAN, "use blocktime")
        return service(command, Call(ctx, actor, source, idempotency_key, client_id, ticket))
    except DatabaseUnavailable as error:
        error.writing = writes(command)
        raise


@dataclass(frozen=True)
class Call:
    """Who asks, and from where: what every service is carried out with besides the command."""

    ctx: Context
    actor: Actor
    source: str = "cli"
    idempotency_key: str | None = None
    client_id: int | None = None  # the client of a linked channel, for a command that names none
    ticket: str | None = None


@singledispatch
def service(command: c.Command, call: Call) -> Result:
    raise AssertionError(f"no service for {command!r}")  # pragma: no cover


@service.register
def _(command: c.LogTime, call: Call) -> Result:
    return ledger.log_time(
        call.ctx,
        call.actor,
        command,
        source=call.source,
        idempotency_key=call.idempotency_key,
        client_id=call.client_id,
        ticket=call.ticket,
    )


@service.register
def _(command: c.Balance, call: Call) -> Result:
    ctx, actor = call.ctx, call.actor
    role = role_of(ctx, actor) if command.public or actor.standing is not Standing.STAFF else Role.TECHNICIAN
    if command.public or role is Role.CLIENT:
        return queries.client_card(ctx, actor, command, call.client_id, role)
    return BalancesResult(queries.balance(ctx, actor, command, call.client_id))


@service.register
def _(command: c.TopUp, call: Call) -> Result:
    return ledger.top_up(call.ctx, call.actor, command, call.idempotency_key)


@service.register
def _(command: c.Blocks, call: Call) -> Result:
    return BlocksResult(*queries.blocks(call.ctx, call.actor, command))


@service.register
def _(command: c.Entries, call: Call) -> Result:
    handle, name, period, rows = queries.entries(call.ctx, call.actor, command)
    return EntriesResult(handle, period.label, period.start, period.end, rows, name)


@service.register
def _(command: c.EditEntry, call: Call) -> Result:
    return ledger.edit_entry(call.ctx, call.actor, command, call.idempotency_key)


@service.register
def _(command: c.ClientList, call: Call) -> Result:
    return ClientsResult(clients.list_clients(call.ctx, call.actor, command))


@service.register
def _(command: c.Snooze, call: Call) -> Result:
    return alerts.snooze(call.ctx, call.actor, command.client, command.days)


@service.register
def _(command: c.Report, call: Call) -> Result:
    if command.client is None:
        return reports.all_entries(call.ctx, call.actor, command.period)
    return reports.report(call.ctx, call.actor, command.client, command.period)


@service.register
def _(command: c.Insights, call: Call) -> Result:
    return reports.insights(call.ctx, call.actor)


@service.register
def _(command: c.TimerStart, call: Call) -> Result:
    return timers.start_timer(call.ctx, call.actor, command, call.client_id, call.source)


@service.register
def _(command: c.TimerStop, call: Call) -> Result:
    return timers.stop_timer(call.ctx, call.actor, command, call.source)


@service.register
def _(command: c.Help, call: Call) -> Result:
    return Message(help_text(command.topic))


@service.register
def _(command: c.Link, call: Call) -> Result:
    return Message("Linking a channel works in Slack: run /blocktime link <client> in the channel.")


# The services that take (ctx, actor, command) as they are.
for _command, _service in (
    (c.VoidEntry, ledger.void_entry),
    (c.VoidTopUp, ledger.void_top_up),
    (c.ClientAdd, clients.add_client),
    (c.ClientAlias, clients.alias_client),
    (c.ClientRename, clients.rename_client),
    (c.ClientArchive, clients.archive_client),
    (c.ClientSet, clients.set_client),
    (c.ClientShow, clients.show_client),
    (c.SetRole, clients.set_role),
    (c.TimerShow, timers.show_timer),
    (c.TimerDiscard, timers.discard_timer),
    (c.NudgesSet, nudges.set_nudges),
    (c.WorkTypeAdd, worktypes.add_work_type),
    (c.WorkTypeList, worktypes.list_work_types),
    (c.WorkTypeArchive, worktypes.archive_work_type),
):
    service.register(_command, lambda command, call, run=_service: run(call.ctx, call.actor, command))
