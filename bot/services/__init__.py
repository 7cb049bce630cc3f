"""Use cases. ``run`` dispatches a parsed command to its service; interfaces call it (or the single
functions) and render the result. Every write is one unit of work; roles are checked here."""

from __future__ import annotations

from bot.domain import commands as c
from bot.services import clients, ledger, queries
from bot.services.context import Actor, Context
from bot.services.results import (
    BalancesResult,
    BlocksResult,
    ClientsResult,
    EntriesResult,
    Message,
    Result,
)

__all__ = ["Actor", "Context", "run"]


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
    """Carry out ``command`` for ``actor``. ``client_id`` is the client of a linked channel, used when
    a command names none."""
    match command:
        case c.LogTime():
            return ledger.log_time(
                ctx, actor, command, source=source, idempotency_key=idempotency_key, client_id=client_id, ticket=ticket
            )
        case c.Balance():
            return BalancesResult(queries.balance(ctx, actor, command, client_id))
        case c.TopUp():
            return ledger.top_up(ctx, actor, command, idempotency_key)
        case c.Blocks():
            return BlocksResult(*queries.blocks(ctx, actor, command))
        case c.Entries():
            handle, period, rows = queries.entries(ctx, actor, command)
            return EntriesResult(handle, period.label, period.start, period.end, rows)
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
        case c.Help():
            return Message(c.help_text(command.topic))
        case c.Link():
            return Message("Linking a channel works in Slack: run /blocktime link <client> in the channel.")
    raise AssertionError(f"no service for {command!r}")  # pragma: no cover
