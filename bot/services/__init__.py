"""Use cases. ``run`` dispatches a parsed command to its service; interfaces call it (or the single
functions) and render the result. Every write is one unit of work; roles are checked here."""

from __future__ import annotations

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
    """Carry out ``command`` for ``actor`` (see ``_dispatch``); when the database is out of reach, the
    error says whether the command meant to change something."""
    try:
        return _dispatch(
            ctx, actor, command, source=source, idempotency_key=idempotency_key, client_id=client_id, ticket=ticket
        )
    except DatabaseUnavailable as error:
        error.writing = writes(command)
        raise


def _dispatch(
    ctx: Context,
    actor: Actor,
    command: c.Command,
    *,
    source: str = "cli",
    idempotency_key: str | None = None,
    client_id: int | None = None,
    ticket: str | None = None,
) -> Result:
    """Carry out ``command`` for ``actor``. ``client_id`` is the client of a linked channel, used when
    a command names none. Someone who is not staff may at most see a client card (``/balance``)."""
    if actor.standing is not Standing.STAFF and not actor.local and not isinstance(command, c.Balance):
        require_role(ctx, actor, Role.TECHNICIAN, "use blocktime")
    match command:
        case c.LogTime():
            return ledger.log_time(
                ctx, actor, command, source=source, idempotency_key=idempotency_key, client_id=client_id, ticket=ticket
            )
        case c.Balance():
            role = role_of(ctx, actor) if command.public or actor.standing is not Standing.STAFF else Role.TECHNICIAN
            if command.public or role is Role.CLIENT:
                return queries.client_card(ctx, actor, command, client_id, role)
            return BalancesResult(queries.balance(ctx, actor, command, client_id))
        case c.TopUp():
            return ledger.top_up(ctx, actor, command, idempotency_key)
        case c.Blocks():
            return BlocksResult(*queries.blocks(ctx, actor, command))
        case c.Entries():
            handle, name, period, rows = queries.entries(ctx, actor, command)
            return EntriesResult(handle, period.label, period.start, period.end, rows, name)
        case c.VoidEntry():
            return ledger.void_entry(ctx, actor, command)
        case c.VoidTopUp():
            return ledger.void_top_up(ctx, actor, command)
        case c.EditEntry():
            return ledger.edit_entry(ctx, actor, command, idempotency_key)
        case c.ClientAdd():
            return clients.add_client(ctx, actor, command)
        case c.ClientAlias():
            return clients.alias_client(ctx, actor, command)
        case c.ClientRename():
            return clients.rename_client(ctx, actor, command)
        case c.ClientArchive():
            return clients.archive_client(ctx, actor, command)
        case c.ClientSet():
            return clients.set_client(ctx, actor, command)
        case c.ClientShow():
            return clients.show_client(ctx, actor, command)
        case c.ClientList():
            return ClientsResult(clients.list_clients(ctx, actor, command))
        case c.SetRole():
            return clients.set_role(ctx, actor, command)
        case c.Snooze():
            return alerts.snooze(ctx, actor, command.client, command.days)
        case c.Report():
            if command.client is None:
                return reports.all_entries(ctx, actor, command.period)
            return reports.report(ctx, actor, command.client, command.period)
        case c.Insights():
            return reports.insights(ctx, actor)
        case c.TimerStart():
            return timers.start_timer(ctx, actor, command, client_id)
        case c.TimerStop():
            return timers.stop_timer(ctx, actor, command)
        case c.TimerShow():
            return timers.show_timer(ctx, actor, command)
        case c.TimerDiscard():
            return timers.discard_timer(ctx, actor, command)
        case c.NudgesSet():
            return nudges.set_nudges(ctx, actor, command)
        case c.WorkTypeAdd():
            return worktypes.add_work_type(ctx, actor, command)
        case c.WorkTypeList():
            return worktypes.list_work_types(ctx, actor, command)
        case c.WorkTypeArchive():
            return worktypes.archive_work_type(ctx, actor, command)
        case c.Help():
            return Message(help_text(command.topic))
        case c.Link():
            return Message("Linking a channel works in Slack: run /blocktime link <client> in the channel.")
    raise AssertionError(f"no service for {command!r}")  # pragma: no cover
