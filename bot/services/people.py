"""What Slack said of people and channels, kept in the database: the Slack edge writes it when it asks
Slack (users.info, conversations.info), the services and the CLI read it. A person's standing decides
whether they are staff; a channel shared with another organisation or with guests never receives
alerts or sales talk."""

from __future__ import annotations

from bot.domain.roles import Standing
from bot.services.context import Context
from storage.db import UnitOfWork


def remember_person(
    ctx: Context, user_id: str, team_id: str | None, standing: Standing, name: str, email: str | None = None
) -> None:
    """What Slack said of a user; ``email`` (shared with the users:read.email scope) finds their PSA member."""
    with ctx.db.unit_of_work() as uow:
        uow.people.remember(user_id, team_id, standing.value, name, email, ctx.now())
        uow.commit()


def known_standing(ctx: Context, user_id: str) -> Standing | None:
    """What Slack last said of ``user_id`` (None: never asked): the CLI's ``--as`` acts with it."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        return person_standing(uow, user_id)


def remember_channel(ctx: Context, channel_id: str, shared: bool, reason: str) -> None:
    with ctx.db.unit_of_work() as uow:
        uow.channels.remember(channel_id, shared, reason, ctx.now())
        uow.commit()


def channel_shared(uow: UnitOfWork, channel_id: str | None) -> str | None:
    """Why ``channel_id`` is read by people outside the MSP (None when it is not known to be)."""
    return uow.channels.shared_reason(channel_id) if channel_id else None


def person_standing(uow: UnitOfWork, user_id: str) -> Standing | None:
    standing = uow.people.standing(user_id)
    return Standing(standing) if standing else None
