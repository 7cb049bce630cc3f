"""What every use case shares: who is acting and with which role, finding clients by handle or alias
(with "did you mean" suggestions), the audit log, and the client's own calendar day."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import Settings
from bot.domain.charges import Policy
from bot.domain.errors import NotFound, Refused
from bot.domain.roles import Role, Standing, role_for
from storage.db import Database, UnitOfWork
from storage.repos import Client

LOCAL_ADMIN = "cli"


@dataclass(frozen=True)
class Actor:
    """Who asked. ``local`` is the CLI run without ``--as``: a local admin. ``standing`` is what Slack
    says of the user (staff, guest, another organisation's member, or not verifiable just now)."""

    user_id: str
    name: str = ""
    local: bool = False
    standing: Standing = Standing.STAFF

    @classmethod
    def local_admin(cls) -> Actor:
        return cls(LOCAL_ADMIN, "local admin", local=True)

    @property
    def label(self) -> str:
        return self.name or self.user_id

    @property
    def msp_staff(self) -> bool:
        """One of the MSP's own people (or the local CLI), not a guest or another organisation's member,
        whatever role they were given: only they share a client's page or choose where it is e-mailed."""
        return self.local or self.standing is Standing.STAFF


class Context:
    """The database, settings and clock that the services run against (one per process)."""

    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.caches: dict[str, Any] = {}  # per-process caches that belong to this database

    def now(self) -> datetime:
        return self.clock.now()

    def today(self, timezone: str | None = None) -> date:
        return self.now().astimezone(ZoneInfo(timezone or self.settings.timezone)).date()

    def role(self, uow: UnitOfWork, actor: Actor) -> Role:
        """The role ``actor`` acts with: admin locally or in ``BLOCKTIME_ADMINS``, else the stored one,
        as far as their standing in Slack allows."""
        if actor.local:
            return Role.ADMIN
        admin = actor.user_id in self.settings.admins
        stored = None if admin or actor.standing is Standing.EXTERNAL else uow.roles.stored(actor.user_id)
        return role_for(actor.standing, Role[stored.upper()] if stored else None, admin)


class BillingPolicyRow(Protocol):
    """What a client's billing policy is read from: the ORM ``Client`` or the bare unit of work's row (``storage.bare.ClientRow``)."""

    @property
    def rounding_minutes(self) -> int: ...

    @property
    def minimum_minutes(self) -> int: ...

    @property
    def overdraft_minutes(self) -> int | None: ...

    @property
    def expiry_grace_days(self) -> int | None: ...


def grace_days_of(client: BillingPolicyRow, settings: Settings) -> int:
    """Days after a block's expiry that late work may still draw from it (the client's, else the default)."""
    return settings.expiry_grace_days if client.expiry_grace_days is None else client.expiry_grace_days


def used_up_since(ctx: Context) -> date:
    """Which used-up blocks to read with the open ones: those that may still be current today in any
    client's time zone (a day either side of the workspace's), for the denominator of "% left"."""
    return ctx.now().date() - timedelta(days=1)


def policy_of(client: BillingPolicyRow, settings: Settings) -> Policy:
    """The client's billing policy, for ``bot.domain.charges.plan_entry`` (both writers read it here)."""
    return Policy(
        client.rounding_minutes, client.minimum_minutes, client.overdraft_minutes, grace_days_of(client, settings)
    )


def client_named(uow: UnitOfWork, handle: str, lock: bool = False, allow_archived: bool = True) -> Client:
    """The client called ``handle`` (or one of its aliases); ``lock`` takes its row lock for a write."""
    word = handle.lower().lstrip("@")
    client = uow.clients.get(word, lock)
    if client is None:
        client_id = uow.clients.id_by_alias(word)
        if client_id is None:
            raise NotFound(_unknown_client(word, uow.clients.names()))
        client = uow.clients.locked(client_id) if lock else uow.clients.by_id(client_id)
        if client is None:  # pragma: no cover - the id comes from a lookup in the same transaction
            raise NotFound(f"Client {client_id} no longer exists.")
    if client.archived and not allow_archived:
        raise Refused(
            f"{client.display_name} (`{client.handle}`) is archived; unarchive it first.",
            f"client unarchive {client.handle}",
        )
    return client


def _unknown_client(word: str, names: list[str]) -> str:
    close = difflib.get_close_matches(word, names, n=3, cutoff=0.5)
    close += [n for n in names if (n.startswith(word) or word.startswith(n)) and n not in close][:3]
    if close:
        guesses = " or ".join(f"`{n}`" for n in close[:3])
        return f"I don't know a client called `{word}`. Did you mean {guesses}?"
    if not names:
        return f"I don't know a client called `{word}`: there are no clients yet. Add one: client add {word} Name"
    return f"I don't know a client called `{word}`. See every client with `balance`."


def record_audit(
    uow: UnitOfWork,
    ctx: Context,
    actor: Actor,
    action: str,
    target: str,
    client_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Who changed what, with before and after, in the change's own transaction."""
    uow.audit.record(ctx.now(), actor.user_id, action, target, client_id, before, after)
