"""The read model of a client's private page (issue 27): what ``/c/<token>`` shows, as plain
dataclasses the web edge renders (``handlers.web``). Only the client's own, client-safe facts: no
other client, no staff roles, no internal notes, no alert text."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.commands import Balance
from bot.services.context import Actor, Context
from bot.services.queries import balance
from bot.services.shares import PAGE_VIEWER, SharedClient

PAGE_ACTOR = Actor(PAGE_VIEWER, "client page")


@dataclass(frozen=True)
class ClientPage:
    handle: str
    display_name: str
    timezone: str
    remaining_minutes: int
    percent_left: int | None


def client_page(ctx: Context, shared: SharedClient) -> ClientPage:
    """The page of the client a live link opened (``bot.services.shares.resolve_share``)."""
    view = balance(ctx, PAGE_ACTOR, Balance(shared.handle))[0]
    return ClientPage(
        handle=shared.handle,
        display_name=shared.display_name,
        timezone=shared.timezone,
        remaining_minutes=view.remaining_minutes,
        percent_left=view.percent_left,
    )
