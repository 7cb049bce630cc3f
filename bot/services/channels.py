"""Slack channels linked to clients, and the ticket-thread time lines posted in them.

A thread message's entry is keyed by the message (``msg:<channel>:<ts>``), so Slack's retries of the
same event record it once, and editing or deleting the message finds the entry to correct."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from bot.domain.commands import EditEntry, Link, LogTime, VoidEntry
from bot.domain.errors import PermissionDenied, Refused
from bot.domain.roles import Role, require
from bot.domain.threads import parse_thread_line
from bot.services import hours
from bot.services.context import Actor, Context, client_named, record_audit
from bot.services.people import channel_shared
from bot.services.results import LogResult, Message, VoidResult

UNDO_WINDOW = timedelta(minutes=10)


def link_channel(ctx: Context, actor: Actor, channel_id: str, command: Link) -> Message:
    with ctx.db.unit_of_work() as uow:
        require(ctx.role(uow, actor), Role.ADMIN, "link channels")
        before = {"client_id": uow.channels.linked_client_id(channel_id, lock=True)}
        if command.client is None:
            uow.channels.unlink(channel_id)
            record_audit(uow, ctx, actor, "unlink", f"channel:{channel_id}", before["client_id"], before, None)
            uow.commit()
            forget_links(ctx)
            return Message(f"<#{channel_id}> is no longer linked to a client.", {"channel": channel_id})
        client = client_named(uow, command.client, allow_archived=False)
        shared = channel_shared(uow, channel_id)
        if command.public_replies and shared:
            raise Refused(f"This channel is {shared}: thread confirmations stay private here (the client reads it).")
        uow.channels.link(channel_id, client.id, actor.user_id, ctx.now(), command.public_replies)
        record_audit(uow, ctx, actor, "link", f"channel:{channel_id}", client.id, before, {"client_id": client.id})
        uow.commit()
        forget_links(ctx)
        text = (
            f"<#{channel_id}> is now linked to {client.display_name} (`{client.handle}`). Commands here may leave "
            "the client out, and thread replies such as `+30m replaced toner` are logged against it."
        )
        if command.public_replies is not None:
            text += (
                " Confirmations of thread lines are posted in the thread for everyone here."
                if command.public_replies
                else " Confirmations of thread lines go only to the technician who logged."
            )
        if shared:
            where = f"<#{ctx.settings.alert_channel}>" if ctx.settings.alert_channel else "the internal alert channel"
            text += (
                f"\n\nThis channel is {shared}: the client reads it. Low-balance alerts and statements for "
                f"{client.display_name} go to {where} instead, never here; client contacts here only see the "
                "client card (`/balance`, when `client set "
                f"{client.handle} client-view on`)."
            )
        return Message(text, {"channel": channel_id, "client": client.handle, "shared": bool(shared)})


def client_facing(ctx: Context, channel_id: str | None) -> str | None:
    """Why people outside the MSP may read ``channel_id`` (linked to a client, or shared), or None."""
    if not channel_id:
        return None
    if linked_client(ctx, channel_id) is not None:
        return "linked to a client"
    with ctx.db.unit_of_work(read_only=True) as uow:
        return channel_shared(uow, channel_id)


_LINKS_TTL = 10.0  # seconds a process trusts its copy of the links; changes made here apply at once


class LinkCache:
    """The (few) channel links, cached per context: every command asks for its channel's client."""

    def __init__(self) -> None:
        self.links: dict[str, tuple[int, str]] = {}
        self.public_replies: set[str] = set()
        self.loaded_at = -_LINKS_TTL
        self.lock = threading.Lock()


def _cache(ctx: Context) -> LinkCache:
    cache: LinkCache = ctx.caches.setdefault("channel_links", LinkCache())
    return cache


def linked_client(ctx: Context, channel_id: str | None) -> tuple[int, str] | None:
    """``(client id, handle)`` of the client linked to ``channel_id``, if any; a link made in another
    process is seen within 10 s."""
    if not channel_id:
        return None
    cache = _cache(ctx)
    with cache.lock:
        if time.monotonic() - cache.loaded_at > _LINKS_TTL:
            with ctx.db.unit_of_work(read_only=True) as uow:
                rows = uow.channels.links()
                cache.links = {channel: (client_id, handle) for channel, client_id, handle, _, _ in rows}
                cache.public_replies = {channel for channel, _, _, _, public in rows if public}
            cache.loaded_at = time.monotonic()
        return cache.links.get(channel_id)


def replies_in_public(ctx: Context, channel_id: str) -> bool:
    """Whether thread confirmations in ``channel_id`` are posted for all (``link acme replies public``)."""
    linked_client(ctx, channel_id)  # loads the cache when it is stale
    return channel_id in _cache(ctx).public_replies


def forget_links(ctx: Context) -> None:
    """Drop the cached links (after a change made in this process)."""
    _cache(ctx).loaded_at = -_LINKS_TTL


def message_ref(channel_id: str, ts: str) -> str:
    return f"{channel_id}:{ts}"


def log_thread_message(
    ctx: Context,
    actor: Actor,
    client_id: int,
    channel_id: str,
    ts: str,
    text: str,
    ticket: str | None,
    thread_ts: str | None = None,
) -> LogResult | None:
    """Log a thread reply that is a time line; ``None`` for ordinary chat."""
    parsed = parse_thread_line(text, ctx.today(), ctx.settings.max_entry_minutes)
    if parsed is None:
        return None
    return _log_line(ctx, actor, parsed, f"msg:{channel_id}:{ts}", client_id, channel_id, ts, ticket, thread_ts)


def _log_line(
    ctx: Context,
    actor: Actor,
    parsed: LogTime,
    key: str,
    client_id: int,
    channel_id: str,
    ts: str,
    ticket: str | None,
    thread_ts: str | None = None,
) -> LogResult:
    """The entry of a thread message, pointing back at the message so edits and deletes find it, and
    at its thread (the nudge asks only about threads without time). The message's time is when the
    work was done, unless the line names a day or a time of its own."""
    if parsed.when is None and parsed.at is None:
        parsed = replace(parsed, moment=datetime.fromtimestamp(float(ts), UTC))
    return hours.log_time(
        ctx,
        actor,
        parsed,
        source="thread",
        idempotency_key=key,
        client_id=client_id,
        ticket=ticket,
        source_ref=message_ref(channel_id, ts),
        thread_ref=message_ref(channel_id, thread_ts) if thread_ts else None,
    )


@dataclass(frozen=True)
class _Logged:
    """What a message's live entry says, read before it is corrected."""

    id: int
    minutes: int
    note: str
    non_billable: bool


def _live_entry(ctx: Context, ref: str) -> _Logged | None:
    with ctx.db.unit_of_work(read_only=True) as uow:
        entry = uow.entries.live_of_message(ref)
        return None if entry is None else _Logged(entry.id, entry.minutes, entry.note, entry.non_billable)


def thread_message_edited(
    ctx: Context,
    actor: Actor,
    client_id: int,
    channel_id: str,
    ts: str,
    text: str,
    edit_key: str,
    ticket: str | None,
    thread_ts: str | None = None,
) -> LogResult | VoidResult | None:
    """Correct the entry of an edited message: a new duration or note edits it (void + new entry),
    text that is no longer a time line voids it, a time line where there was none logs it."""
    entry = _live_entry(ctx, message_ref(channel_id, ts))
    parsed = parse_thread_line(text, ctx.today(), ctx.settings.max_entry_minutes)
    if entry is None:
        if parsed is None:
            return None
        return _log_line(ctx, actor, parsed, edit_key, client_id, channel_id, ts, ticket, thread_ts)
    if parsed is None:
        return hours.void_entry(ctx, actor, VoidEntry(entry.id, "thread message no longer logs time"))
    unchanged = (parsed.minutes, parsed.note, parsed.non_billable, parsed.when is None) == (
        entry.minutes,
        entry.note,
        entry.non_billable,
        True,
    )
    if unchanged:
        return None
    edit = EditEntry(entry.id, parsed.minutes, parsed.typed, parsed.when, parsed.note, parsed.non_billable)
    return hours.edit_entry(ctx, actor, edit, idempotency_key=edit_key)


def thread_message_deleted(ctx: Context, actor: Actor, channel_id: str, ts: str) -> VoidResult | None:
    entry = _live_entry(ctx, message_ref(channel_id, ts))
    if entry is None:
        return None
    try:
        return hours.void_entry(ctx, actor, VoidEntry(entry.id, "thread message deleted"))
    except Refused:
        return None  # voided meanwhile (a retried event)


def undo_entry(ctx: Context, actor: Actor, entry_id: int) -> VoidResult:
    """The Undo button: the author, within 10 minutes of logging."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        entry = uow.entries.get(entry_id)
        if entry is None:
            raise Refused(f"There is no entry {entry_id}.")
        author, created = entry.user_id, entry.created_at
        if entry.voided_at is not None:
            raise Refused(f"Entry {entry_id} is already undone.")
    if author != actor.user_id:
        raise PermissionDenied("Only the person who logged this entry can undo it.")
    if ctx.now() - created > UNDO_WINDOW:
        raise Refused(f"Undo works for 10 minutes. To remove it now: /blocktime void {entry_id}")
    return hours.void_entry(ctx, actor, VoidEntry(entry_id, "undo"))
