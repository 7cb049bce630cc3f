"""Ticket threads: in a channel linked to a client, a thread reply such as ``+30m replaced toner`` or
``time: 1h15m rebuilt profile`` is logged, with the thread's permalink as the ticket. Editing the
message corrects the entry; deleting it voids the entry. Ordinary chat and bots are ignored.

Slack may deliver an event more than once (``X-Slack-Retry-Num``): the entry is keyed by the message,
and a repeat (``duplicate``) adds no second reaction or reply."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from bot.domain.durations import format_duration
from bot.phrasebook import log_notes
from bot.services.channels import (
    linked_client,
    log_thread_message,
    replies_in_public,
    thread_message_deleted,
    thread_message_edited,
)
from bot.services.nudges import note_reply
from bot.services.results import LogResult, VoidResult
from handlers.deps import Deps
from handlers.outcome import attempt
from handlers.views.blockkit import escape
from handlers.views.replies import render_log

log = logging.getLogger("blocktime.threads")
IGNORED_SUBTYPES = {"bot_message", "channel_join", "channel_leave", "channel_topic", "channel_purpose", "me_message"}


def on_thread_message(event: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    """A message in a channel: a thread line posted, edited or deleted. Bolt has already answered
    Slack; the entry and its reply (Web API calls) run after the ack."""
    subtype = event.get("subtype")
    bot_user = context.get("bot_user_id")
    if subtype == "message_changed":
        deps.later("thread edit", thread_line_edited, deps, event, bot_user, request=True)
    elif subtype == "message_deleted":
        deps.later("thread delete", thread_line_deleted, deps, event, bot_user, request=True)
    elif subtype in (None, "thread_broadcast", "file_share"):
        deps.later("thread message", thread_line_posted, deps, event, bot_user, request=True)


def register(app: App) -> None:
    app.event("message")(on_thread_message)


def _is_thread_reply(message: dict[str, Any]) -> bool:
    thread_ts = message.get("thread_ts")
    return bool(thread_ts) and thread_ts != message.get("ts")


def _from_a_person(message: dict[str, Any], bot_user: str | None) -> bool:
    return (
        bool(message.get("user"))
        and not message.get("bot_id")
        and message.get("subtype") not in IGNORED_SUBTYPES
        and message.get("user") != bot_user
    )


UNLINKED = (
    "Not logged: this channel is not linked to a client, so I don't know whose hours `+30m` lines are. "
    "An admin links it with `/blocktime link acme`; until then, use `/logtime acme 30m ...`."
)


def _team_of(message: dict[str, Any]) -> str | None:
    """The team a message's author belongs to, as the event says (Slack Connect: not ours)."""
    return message.get("user_team") or message.get("source_team")


def _tell(deps: Deps, channel: str, user: str, thread_ts: str, text: str) -> None:
    deps.client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, text=text)


def thread_line_posted(deps: Deps, event: dict[str, Any], bot_user: str | None) -> None:
    if not _is_thread_reply(event) or not _from_a_person(event, bot_user):
        return
    channel, ts, user = event["channel"], event["ts"], event["user"]
    link = attempt(lambda: linked_client(deps.ctx, channel), "thread link")
    if link.result is None:
        if _looks_like_time(event.get("text", "")):
            if link.unavailable:
                _tell(deps, channel, user, event["thread_ts"], link.error or "")
            elif deps.told.first(("unlinked", channel, user)):  # once, not on every line
                _tell(deps, channel, user, event["thread_ts"], UNLINKED)
        return
    client_id = link.result[0]
    actor = deps.people.actor(user, user_team=_team_of(event))
    # who replied where and when (never what), for the day's nudge about threads without time
    attempt(lambda: note_reply(deps.ctx, actor, channel, event["thread_ts"]), "thread activity")
    outcome = attempt(
        lambda: log_thread_message(
            deps.ctx,
            actor,
            client_id,
            channel,
            ts,
            event.get("text", ""),
            deps.permalink(channel, event["thread_ts"]),
            event["thread_ts"],
        ),
        "thread time line",
    )
    if outcome.error:
        _tell(deps, channel, user, event["thread_ts"], outcome.error)
        return
    result = outcome.result
    if result is None or result.duplicate:
        return
    deps.client.reactions_add(channel=channel, timestamp=ts, name="white_check_mark")
    if replies_in_public(deps.ctx, channel):  # an internal channel that asked for it
        deps.client.chat_postMessage(channel=channel, thread_ts=event["thread_ts"], text=_logged_reply(result))
    else:  # with Undo; only the technician sees it (the client may be here)
        text, blocks = render_log(result)
        deps.client.chat_postEphemeral(
            channel=channel, user=user, thread_ts=event["thread_ts"], text=text, blocks=blocks
        )
    deps.home_changed(user)


def _looks_like_time(text: str) -> bool:
    stripped = text.strip().lower()
    return stripped.startswith("time:") or (stripped.startswith("+") and stripped[1:2].isdigit())


def _logged_reply(result: LogResult) -> str:
    """The thread's reply (public when the channel asked for it): escaped, a client may read it."""
    return escape(
        f"Logged {result.typed} ({_billable(result)}) for {result.display_name}, entry #{result.entry_id}. "
        f"{format_duration(result.remaining_minutes)} left."
    )


def _billable(result: LogResult) -> str:
    return "non-billable" if result.non_billable else f"{format_duration(result.billable_minutes)} billable"


def _corrected_reply(result: LogResult) -> str:
    """An edited line's reply (only its author sees it): what the entry now deducts and why (an
    after-hours or other work type's rate), as a new entry's reply says."""
    notes = [n for n in log_notes(result) if not n.startswith(f"#{result.entry_id} replaces")]
    return escape(
        " ".join(
            [
                f"Corrected: entry #{result.replaces_entry_id} is now #{result.entry_id}, {result.typed} "
                f"({_billable(result)}).",
                *notes,
                f"{format_duration(result.remaining_minutes)} left.",
            ]
        )
    )


def thread_line_edited(deps: Deps, event: dict[str, Any], bot_user: str | None) -> None:
    message = event.get("message") or {}
    if not _is_thread_reply(message) or not _from_a_person(message, bot_user):
        return
    channel, ts, user = event["channel"], message["ts"], message["user"]
    link = attempt(lambda: linked_client(deps.ctx, channel), "thread link")
    if link.result is None:
        return
    client_id = link.result[0]
    edited_at = (message.get("edited") or {}).get("ts") or event.get("event_ts") or event.get("ts")
    key = f"msg:{channel}:{ts}:edit:{edited_at}"
    actor = deps.people.actor(user, user_team=_team_of(message) or _team_of(event))
    outcome = attempt(
        lambda: thread_message_edited(
            deps.ctx,
            actor,
            client_id,
            channel,
            ts,
            message.get("text", ""),
            key,
            deps.permalink(channel, message["thread_ts"]),
            message["thread_ts"],
        ),
        "thread edit",
    )
    if outcome.error:
        _tell(deps, channel, user, message["thread_ts"], outcome.error)
        return
    result = outcome.result
    if result is None or (isinstance(result, LogResult) and result.duplicate):
        return
    if isinstance(result, VoidResult):
        text = f"Entry #{result.id} voided: the message no longer logs time. {format_duration(result.remaining_minutes)} left."
    elif result.replaces_entry_id:
        text = _corrected_reply(result)
    else:
        deps.client.reactions_add(channel=channel, timestamp=ts, name="white_check_mark")
        text = _logged_reply(result)
    _tell(deps, channel, user, message["thread_ts"], text)
    deps.home_changed(user)


def thread_line_deleted(deps: Deps, event: dict[str, Any], bot_user: str | None) -> None:
    previous = event.get("previous_message") or {}
    if not _is_thread_reply(previous) or not _from_a_person(previous, bot_user):
        return
    channel, ts, user = event["channel"], event.get("deleted_ts") or previous["ts"], previous["user"]
    actor = deps.people.actor(user, user_team=_team_of(previous))
    outcome = attempt(lambda: thread_message_deleted(deps.ctx, actor, channel, ts), "thread delete")
    if outcome.error:
        _tell(
            deps,
            channel,
            user,
            previous["thread_ts"],
            f"Your message was deleted, but its entry stays: {outcome.error}",
        )
        return
    if outcome.result is None:
        return
    _tell(
        deps,
        channel,
        user,
        previous["thread_ts"],
        f"Entry #{outcome.result.id} voided because its message was deleted. "
        f"{format_duration(outcome.result.remaining_minutes)} left.",
    )
    deps.home_changed(user)
