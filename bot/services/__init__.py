"""Use cases. ``run`` dispatches a parsed command to the service that serves it (``@serves`` in each
service module; the ones below need more of the call); interfaces call it (or the single functions)
and render the result. Every write is one unit of work; roles are checked here."""

from __future__ import annotations

from bot.domain import commands as c
from bot.domain.errors import ParseError
from bot.domain.grammar import facts_of, parse_command
from bot.domain.helptext import help_text
from bot.domain.roles import Role, Standing, require
from bot.services import (  # noqa: F401 - they serve commands
    alerts,
    channels,
    clients,
    hours,
    nudges,
    overage,
    payments,
    queries,
    reports,
    shares,
    statement_mail,
    timers,
    worktypes,
)
from bot.services.context import Actor, Context
from bot.services.dispatch import Call, serves_call, service
from bot.services.reports import AllEntriesResult, InsightsResult, ReportResult
from bot.services.results import (
    BalancesResult,
    BlocksResult,
    ClientCard,
    ClientsResult,
    EntriesResult,
    LogResult,
    Message,
    Result,
    TopUpResult,
)
from storage.db import DatabaseUnavailable

__all__ = ["Actor", "Context", "run", "run_text", "read_text", "require_role", "role_of", "writes"]


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


def writes(command: c.Command) -> bool:
    """Whether ``command`` changes what is stored: when the database is out of reach, a change's reply
    says nothing was recorded, a read's that nothing could be shown."""
    return facts_of(command).writes


def read_text(ctx: Context, text: str) -> c.Command | None:
    """What a typed line asks for, read before it runs and without the database (a linked channel's
    client is taken as known); None when its words don't parse (running it says why)."""
    try:
        return parse_command(text, ctx.today(), ctx.settings.max_entry_minutes, client_known=True)
    except ParseError:
        return None


def _writes_text(ctx: Context, text: str) -> bool:
    command = read_text(ctx, text)
    return command is None or writes(command)


def role_of(ctx: Context, actor: Actor) -> Role:
    """The role ``actor`` acts with (for what the Slack edge shows them, never instead of a service's check)."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        return ctx.role(uow, actor)


def require_role(ctx: Context, actor: Actor, needed: Role, what: str) -> None:
    """Refuse early (before opening a modal) when the actor's role is too low."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        require(ctx.role(uow, actor), needed, what)


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
    """Carry out ``command`` for ``actor``: its service is the one that serves its type (``@serves``).
    ``client_id`` is the client of a linked channel, used when a command names none. Someone who is
    not staff may ask only what is declared open to client contacts (``/balance``: at most a client
    card). When the database is out of reach, the
    error says whether the command meant to change something."""
    try:
        needed = facts_of(command).role
        if not actor.msp_staff and needed > Role.CLIENT:
            require_role(ctx, actor, needed, "use blocktime")
        return service(command, Call(ctx, actor, source, idempotency_key, client_id, ticket))
    except DatabaseUnavailable as error:
        error.writing = writes(command)
        raise


@serves_call(c.LogTime)
def _(command: c.LogTime, call: Call) -> LogResult:
    return hours.log_time(
        call.ctx,
        call.actor,
        command,
        source=call.source,
        idempotency_key=call.idempotency_key,
        client_id=call.client_id,
        ticket=call.ticket,
    )


@serves_call(c.Balance)
def _(command: c.Balance, call: Call) -> BalancesResult | ClientCard:
    ctx, actor = call.ctx, call.actor
    role = role_of(ctx, actor) if command.public or actor.standing is not Standing.STAFF else Role.TECHNICIAN
    if command.public or role is Role.CLIENT:
        return queries.client_card(ctx, actor, command, call.client_id, role)
    return BalancesResult(queries.balance(ctx, actor, command, call.client_id))


@serves_call(c.TopUp)
def _(command: c.TopUp, call: Call) -> TopUpResult:
    return hours.top_up(call.ctx, call.actor, command, call.idempotency_key)


@serves_call(c.Blocks)
def _(command: c.Blocks, call: Call) -> BlocksResult:
    return BlocksResult(*queries.blocks(call.ctx, call.actor, command))


@serves_call(c.Entries)
def _(command: c.Entries, call: Call) -> EntriesResult:
    handle, name, period, rows = queries.entries(call.ctx, call.actor, command)
    return EntriesResult(handle, period.label, period.start, period.end, rows, name)


@serves_call(c.EditEntry)
def _(command: c.EditEntry, call: Call) -> LogResult:
    return hours.edit_entry(call.ctx, call.actor, command, call.idempotency_key)


@serves_call(c.ClientList)
def _(command: c.ClientList, call: Call) -> ClientsResult:
    return ClientsResult(clients.list_clients(call.ctx, call.actor, command))


@serves_call(c.Snooze)
def _(command: c.Snooze, call: Call) -> Message:
    return alerts.snooze(call.ctx, call.actor, command.client, command.days)


@serves_call(c.Report)
def _(command: c.Report, call: Call) -> ReportResult | AllEntriesResult:
    if command.client is None:
        return reports.all_entries(call.ctx, call.actor, command.period)
    return reports.report(call.ctx, call.actor, command.client, command.period)


@serves_call(c.Insights)
def _(command: c.Insights, call: Call) -> InsightsResult:
    return reports.insights(call.ctx, call.actor)


@serves_call(c.TimerStart)
def _(command: c.TimerStart, call: Call) -> Message:
    return timers.start_timer(call.ctx, call.actor, command, call.client_id, call.source)


@serves_call(c.TimerStop)
def _(command: c.TimerStop, call: Call) -> LogResult:
    return timers.stop_timer(call.ctx, call.actor, command, call.source)


@serves_call(c.Help)
def _(command: c.Help, call: Call) -> Message:
    return Message(help_text(command.topic))


@serves_call(c.Link)
def _(command: c.Link, call: Call) -> Message:
    return Message("Linking a channel works in Slack: run /blocktime link <client> in the channel.")
