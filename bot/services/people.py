"""What Slack said of people and channels, kept in the database: the Slack edge writes it when it asks
Slack (users.info, conversations.info), the services and the CLI read it. A person's standing decides
whether they are staff; a channel shared with another organisation or with guests never receives
alerts or sales talk."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.domain.roles import Standing
from bot.services.context import Context
from storage.models import SlackChannel, SlackPerson


def remember_person(
    ctx: Context, user_id: str, team_id: str | None, standing: Standing, name: str, email: str | None = None
) -> None:
    """What Slack said of a user; ``email`` (shared with the users:read.email scope) finds their PSA member."""
    with ctx.db.unit_of_work() as uow:
        row = uow.session.get(SlackPerson, user_id)
        if row is None:
            row = SlackPerson(user_id=user_id)
            uow.session.add(row)
        row.team_id, row.standing, row.name, row.checked_at = team_id, standing.value, name, ctx.now()
        row.email = email or row.email
        uow.commit()


def known_standing(ctx: Context, user_id: str) -> Standing | None:
    """What Slack last said of ``user_id`` (None: never asked): the CLI's ``--as`` acts with it."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        row = uow.session.get(SlackPerson, user_id)
        return Standing(row.standing) if row else None


def remember_channel(ctx: Context, channel_id: str, shared: bool, reason: str) -> None:
    with ctx.db.unit_of_work() as uow:
        row = uow.session.get(SlackChannel, channel_id)
        if row is None:
            uow.session.add(SlackChannel(channel_id=channel_id, shared=shared, reason=reason, checked_at=ctx.now()))
        else:
            row.shared, row.reason, row.checked_at = shared, reason, ctx.now()
        uow.commit()


def shared_channel(session: Session, channel_id: str | None) -> str | None:
    """Why ``channel_id`` is read by people outside the MSP (None when it is not known to be)."""
    if not channel_id:
        return None
    row = session.get(SlackChannel, channel_id)
    return row.reason if row is not None and row.shared else None


def person_standing(session: Session, user_id: str) -> Standing | None:
    row = session.get(SlackPerson, user_id)
    return Standing(row.standing) if row else None
