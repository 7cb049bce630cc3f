"""A client's private page links (issue 27): ``share acme [90d]``, ``share list``, ``share revoke acme
[id]``, and :func:`resolve_share`, which the page asks which client a link opens.

A link is ``<BLOCKTIME_PUBLIC_URL>/c/<token>``: the token is shown once, in the reply to whoever made it,
and only its SHA-256 is stored, so neither the database, a backup nor the audit log holds a link that
works. Nothing here logs a token; the audit log names links by their id."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.commands import ShareCreate, ShareList, ShareRevoke
from bot.domain.errors import NotFound, PermissionDenied
from bot.domain.roles import Role, require
from bot.services.context import Actor, Context, client_named, record_audit
from bot.services.dispatch import serves
from bot.services.results import Message
from storage.db import UnitOfWork
from storage.models import ShareLink

TOKEN_BYTES = 32  # secrets.token_urlsafe(32): 256 random bits, 43 characters
LONGEST_TOKEN = 128  # anything longer was never ours: refused before it is hashed
PATH = "/c/"
PAGE_VIEWER = "page"  # the audit log's actor for a view of the page (a client contact, never named)


@dataclass(frozen=True)
class SharedClient:
    """The client a live link opens (what the page needs to find it), and which link it was."""

    client_id: int
    handle: str
    display_name: str
    timezone: str
    link_id: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_of(ctx: Context, token: str) -> str:
    """The address of the page a token opens; only its path while BLOCKTIME_PUBLIC_URL is unset."""
    return f"{ctx.settings.public_url or ''}{PATH}{token}"


@serves(ShareCreate)
def create_share(ctx: Context, actor: Actor, command: ShareCreate) -> Message:
    """1. Only account managers and admins share a client's page.
    2. A new random token; only its hash is stored, with who made it and when it expires.
    3. The audit log records the link by id; the reply shows the token, once."""
    days = command.days or ctx.settings.share_days
    now = ctx.now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with ctx.db.unit_of_work() as uow:
        require_staff_manager(ctx, uow, actor, "share a client's page")
        client = client_named(uow, command.client, lock=True, allow_archived=False)
        expires_at = now + timedelta(days=days)
        handle, name = client.handle, client.display_name
        link_id = uow.shares.add(client.id, token_hash(token), actor.user_id, now, expires_at)
        record_audit(
            uow,
            ctx,
            actor,
            "share",
            f"share:{link_id}",
            client.id,
            None,
            {"link_id": link_id, "expires_at": expires_at.isoformat()},
        )
        uow.commit()
    link = link_of(ctx, token)
    expires_on = expires_at.astimezone(ctx.settings.zone).date()
    lines = [
        f"A private page link for {name} (`{handle}`), link {link_id}, until {expires_on}:",
        link,
        "It is shown only now: copy it to the client. Anyone with it can see the client's hours; "
        f"`share revoke {handle} {link_id}` ends it at once.",
    ]
    if not ctx.settings.public_url:
        lines.append(
            "The link needs BLOCKTIME_PUBLIC_URL (the address clients reach blocktime at, e.g. "
            "https://hours.example.com) in front of this path; set it, and the page lives there."
        )
    data = {
        "client": handle,
        "id": link_id,
        "link": link,
        "expires": expires_at.isoformat(),
        "public_url_set": bool(ctx.settings.public_url),
    }
    return Message("\n".join(lines), data)


@serves(ShareList)
def list_shares(ctx: Context, actor: Actor, command: ShareList) -> Message:
    """Every client's live links: who made each, when, until when, when last viewed; never a token."""
    now = ctx.now()
    with ctx.db.unit_of_work(read_only=True) as uow:
        require_staff_manager(ctx, uow, actor, "see shared links")
        rows: list[dict[str, Any]] = [
            {
                "client": handle,
                "id": link.id,
                "created_by": link.created_by,
                "created": link.created_at.isoformat(),
                "expires": link.expires_at.isoformat(),
                "last_viewed": link.last_viewed_at.isoformat() if link.last_viewed_at else None,
            }
            for link, handle in uow.shares.live(now)
        ]
    if not rows:
        return Message("No live share links. Make one: `share acme`", {"links": []})
    lines = ["Live share links:"] + [
        f"• {row['client']} link {row['id']}: by {_who(row['created_by'])} on {_day(ctx, row['created'])}, "
        f"until {_day(ctx, row['expires'])}, "
        + (f"last viewed {_day(ctx, row['last_viewed'])}" if row["last_viewed"] else "never viewed")
        for row in rows
    ]
    return Message("\n".join(lines), {"links": rows})


@serves(ShareRevoke)
def revoke_shares(ctx: Context, actor: Actor, command: ShareRevoke) -> Message:
    """One live link of the client, or all of them; a revoked link opens nothing from this moment."""
    now = ctx.now()
    with ctx.db.unit_of_work() as uow:
        require_staff_manager(ctx, uow, actor, "revoke shared links")
        client = client_named(uow, command.client, lock=True)
        handle, name = client.handle, client.display_name
        links = _revocable(uow, client.id, command, now)
        for link in links:
            uow.shares.revoke(link, now, actor.user_id)
            record_audit(uow, ctx, actor, "share_revoke", f"share:{link.id}", client.id, None, {"link_id": link.id})
        uow.commit()
        ids = [link.id for link in links]
    if not ids:
        return Message(f"{name} has no live share links.", {"client": handle, "revoked": []})
    said = f"link {ids[0]}" if len(ids) == 1 else f"{len(ids)} links ({', '.join(str(i) for i in ids)})"
    return Message(
        f"Revoked {said} of {name}: {'it opens' if len(ids) == 1 else 'they open'} nothing from now on.",
        {"client": handle, "revoked": ids},
    )


def _revocable(uow: UnitOfWork, client_id: int, command: ShareRevoke, now: datetime) -> list[ShareLink]:
    live = [link for link, _ in uow.shares.live(now, client_id)]
    if command.link_id is None:
        return live
    chosen = [link for link in live if link.id == command.link_id]
    if not chosen:
        raise NotFound(
            f"{command.client} has no live share link {command.link_id}. See them with `share list`.",
            "share list",
        )
    return chosen


def require_staff_manager(ctx: Context, uow: UnitOfWork, actor: Actor, what: str) -> None:
    """Account managers and admins; never a guest, whatever role they were given (a link is a key to a
    client's figures, and guests are mostly client contacts or contractors)."""
    require(ctx.role(uow, actor), Role.MANAGER, what)
    if not actor.msp_staff:
        raise PermissionDenied(f"Only the MSP's own account managers and admins can {what}; guests can't.")


def resolve_share(ctx: Context, token: str, now: datetime) -> SharedClient | None:
    """The client a link's token opens, recording the view (its time, never who or from where); None
    for a wrong, revoked or expired token alike, so the page can give no hint which it was.

    The token is looked up by its SHA-256, not compared: the database finds the row by a hash an
    attacker cannot steer toward a stored one, so how long the lookup takes tells nothing about any
    token, and a constant-time compare (``hmac.compare_digest``) would add nothing.

    Anyone on the internet may ask, with any token: the link is looked up in a read-only unit of work
    first, so a wrong token never takes the write lock (SQLite has one writer; a flood of guesses would
    queue every Slack write behind it). Only a live link's view is written, the link read again there."""
    if not token or len(token) > LONGEST_TOKEN:
        return None
    digest = token_hash(token)
    with ctx.db.unit_of_work(read_only=True) as uow:
        if not _live(uow.shares.by_hash(digest), now):
            return None
    with ctx.db.unit_of_work() as uow:
        link = uow.shares.by_hash(digest, lock=True)
        if link is None or not _live(link, now):  # revoked in between
            return None
        client = uow.clients.by_id(link.client_id)
        if client is None:  # pragma: no cover - a link's client is never deleted
            return None
        uow.shares.viewed(link, now)
        uow.audit.record(now, PAGE_VIEWER, "share_view", f"share:{link.id}", client.id, None, {"link_id": link.id})
        shared = SharedClient(client.id, client.handle, client.display_name, client.timezone, link.id)
        uow.commit()
    return shared


def _live(link: ShareLink | None, now: datetime) -> bool:
    return link is not None and link.revoked_at is None and link.expires_at > now


def _day(ctx: Context, iso: str) -> str:
    return str(datetime.fromisoformat(iso).astimezone(ctx.settings.zone).date())


def _who(user_id: str) -> str:
    if user_id == "blocktime":  # the system actor: a statement e-mail's own link (bot.services.statement_mail)
        return "blocktime (a statement e-mail)"
    return "the CLI" if user_id == "cli" else f"<@{user_id}>"
