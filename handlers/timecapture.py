"""Capturing time from anywhere in Slack: the "Log time" shortcuts (global, and on any message), the
form's client search, the Log time buttons of App Home and of nudges, timers' buttons (Stop, Discard,
and the questions about a timer left running) and App Home's Edit and Void of today's entries.

Every form is the same Log time modal, pre-filled with what the place it was opened from knows; its
submission (``handlers.modals``) logs exactly as ``/logtime`` does."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk.errors import SlackApiError

from bot.domain.commands import ClientList, ClientShow, TimerDiscard, TimerStop, VoidEntry, WorkTypeList
from bot.domain.durations import format_duration
from bot.domain.errors import ParseError
from bot.domain.fields import clean_note, find_ticket, parse_id
from bot.domain.roles import Role
from bot.domain.worktypes import multiplier_label
from bot.services import Actor, Context, hours
from bot.services import clients as client_services
from bot.services.channels import linked_client
from bot.services.queries import entry_of, my_day, recent_clients
from bot.services.results import ClientView, LogResult, Message
from bot.services.timers import TimerGone, discard_timer, stop_timer
from bot.services.worktypes import list_work_types
from handlers.deps import Deps, ack_then
from handlers.outcome import attempt, role_refusal
from handlers.slash_commands import FORM_FAILED
from handlers.views.home import HOME_EDIT_ACTION, HOME_VOID_ACTION, OPEN_LOG_ACTION
from handlers.views.modals import CLIENT_SEARCH_ACTION, NOTE_PREFILL, edit_modal, log_modal, timer_fix_modal
from handlers.views.outbox import (
    NUDGE_LOG_ACTION,
    TIMER_DISCARD_ACTION,
    TIMER_FIX_ACTION,
    TIMER_KEEP_ACTION,
    TIMER_STOP_ACTION,
)
from handlers.views.replies import error_message, render, render_log, render_void

log = logging.getLogger("blocktime.timecapture")
GLOBAL_SHORTCUT = "log_time"
MESSAGE_SHORTCUT = "log_time_on_message"
OPTIONS_LIMIT = 100  # Slack's limit on options in an external select's answer


def work_type_choices(deps: Deps, actor: Actor) -> list[tuple[str, str]]:
    listed = attempt(lambda: list_work_types(deps.ctx, actor, WorkTypeList()), "work types")
    if listed.result is None or len(listed.result.work_types) < 2:
        return []  # only standard: no choice to offer
    return [(w.name, f"{w.name} {multiplier_label(w.multiplier)}") for w in listed.result.work_types]


def staff_refusal(deps: Deps, actor: Actor) -> str | None:
    return role_refusal(deps.ctx, actor, Role.TECHNICIAN, "log time")


def open_log_form(
    deps: Deps,
    actor: Actor,
    trigger_id: str,
    *,
    search: bool,
    channel: str = "",
    thread_ts: str = "",
    moment: str = "",
    chosen: tuple[str, str] | None = None,
    note: str = "",
    ticket: str = "",
    work_date: date | None = None,
) -> None:
    """Open the Log time form. ``search``: the client picker asks us as the user types (any number of
    clients); otherwise it lists every client, the user's recent ones first. ``channel``/``thread_ts``:
    where the confirmation goes (a linked channel's thread); ``moment``: the message's timestamp, the
    time of day of the work when its date is kept."""
    clients: list[ClientView] | None = None
    recent: list[str] = []
    if not search:
        listed = attempt(lambda: client_services.list_clients(deps.ctx, actor, ClientList()), "log form")
        if listed.result is None:
            raise _Refused(listed.error or "")
        clients = listed.result
        recent = attempt(lambda: recent_clients(deps.ctx, actor.user_id), "log form").result or []
    # the message's time of day counts only while its day is kept (``day``)
    metadata = {"channel": channel, "thread_ts": thread_ts, "moment": moment}
    if moment and work_date is not None:
        metadata["day"] = work_date.isoformat()
    view = log_modal(
        {k: v for k, v in metadata.items() if v},
        deps.ctx.today(),
        clients=clients,
        recent=recent,
        chosen=chosen,
        work_types=work_type_choices(deps, actor),
        note=note,
        ticket=ticket,
        work_date=work_date,
    )
    deps.client.views_open(trigger_id=trigger_id, view=view)


class _Refused(Exception):
    """Why a form is not opened (said to the user where they clicked)."""


def first_line(text: str) -> str:
    """A message's first non-empty line, clipped, as a note."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    if len(line) > NOTE_PREFILL:
        line = line[: NOTE_PREFILL - 1].rsplit(" ", 1)[0] + "…"
    try:
        return clean_note(line)
    except ParseError:
        return ""


def _local_date(deps: Deps, ts: str, zone: str | None) -> date:
    return datetime.fromtimestamp(float(ts), ZoneInfo(zone or deps.ctx.settings.timezone)).date()


def _linked(deps: Deps, actor: Actor, channel: str) -> tuple[tuple[str, str] | None, str | None]:
    """The linked client of ``channel`` as (handle, display name), and its time zone."""
    link = attempt(lambda: linked_client(deps.ctx, channel), "log form")
    if link.result is None:
        return None, None
    handle = link.result[1]
    found = attempt(lambda: client_services.show_client(deps.ctx, actor, ClientShow(handle)), "log form").result
    return ((found.handle, found.display_name), found.timezone) if found else (None, None)


def open_for_thread(
    deps: Deps,
    actor: Actor,
    trigger_id: str,
    channel: str,
    thread_ts: str,
    message: dict[str, Any] | None = None,
    day: date | None = None,
) -> None:
    """The form for a message (the shortcut) or a whole ticket thread (a nudge's button): the client of
    the linked channel, the ticket (``#1234`` in the text, else the message's permalink), the note
    (the message's first line) and the day: the message's in the client's time zone, or ``day`` (the
    day a nudge asked about)."""
    chosen, zone = _linked(deps, actor, channel)
    text = str((message or {}).get("text") or "")
    ts = str((message or {}).get("ts") or thread_ts)
    ticket = find_ticket(text) or deps.permalink(channel, ts) or ""
    open_log_form(
        deps,
        actor,
        trigger_id,
        search=True,
        channel=channel,
        thread_ts=thread_ts if chosen else "",
        moment=ts if message else "",
        chosen=chosen,
        note=first_line(text),
        ticket=ticket,
        work_date=day or _local_date(deps, ts, zone),
    )


# ----- answering where the click was made -----
def tell(
    deps: Deps, body: dict[str, Any], respond: Respond, text: str, blocks: list[dict[str, Any]] | None = None
) -> None:
    """Answer a click where it was made: the message (its reply URL), or by DM from App Home."""
    if body.get("response_url"):
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
    else:
        deps.client.chat_postMessage(channel=body["user"]["id"], text=text, blocks=blocks)


def refuse(deps: Deps, body: dict[str, Any], respond: Respond, refusal: str) -> None:
    text, blocks = error_message(refusal)
    tell(deps, body, respond, text, blocks)


def gone(deps: Deps, body: dict[str, Any], respond: Respond, refusal: str) -> None:
    """A timer's buttons clicked after the timer ended: the message with the buttons says so instead
    of offering them again (from App Home, a DM says it)."""
    if not body.get("response_url"):
        refuse(deps, body, respond, refusal)
        return
    text, blocks = error_message(refusal)
    respond(text=text, blocks=blocks, replace_original=True)


def form(deps: Deps, body: dict[str, Any], respond: Respond, open_it: Callable[[], object]) -> None:
    try:
        open_it()
    except _Refused as refusal:
        refuse(deps, body, respond, str(refusal))
    except SlackApiError as error:
        log.warning("views.open failed: %s", error.response.get("error"))
        tell(deps, body, respond, FORM_FAILED)


def staff_actor(deps: Deps, body: dict[str, Any], respond: Respond) -> Actor | None:
    """The clicking user, when staff: only staff get a Log time form (and with it, our clients'
    names); anyone else is told why not, and None is returned."""
    actor = deps.people.actor(body["user"]["id"])
    refusal = staff_refusal(deps, actor)
    if refusal:
        refuse(deps, body, respond, refusal)
        return None
    return actor


# ----- the Log time form, from anywhere (run after the ack) -----
def log_time_anywhere(deps: Deps, body: dict[str, Any], respond: Respond) -> None:
    actor = staff_actor(deps, body, respond)
    if actor is not None:
        form(deps, body, respond, partial(open_log_form, deps, actor, body["trigger_id"], search=True))


def log_time_on_message(deps: Deps, body: dict[str, Any], respond: Respond) -> None:
    actor = staff_actor(deps, body, respond)
    if actor is None:
        return
    message = body.get("message") or {}
    channel = str((body.get("channel") or {}).get("id") or "")
    root = str(message.get("thread_ts") or message.get("ts") or body.get("message_ts") or "")
    form(deps, body, respond, partial(open_for_thread, deps, actor, body["trigger_id"], channel, root, message))


def log_time_for_nudge(deps: Deps, body: dict[str, Any], respond: Respond) -> None:
    actor = staff_actor(deps, body, respond)
    if actor is None:
        return
    try:
        value = json.loads(body["actions"][0]["value"])
        channel, thread_ts = str(value["channel"]), str(value["thread_ts"])
        day = date.fromisoformat(str(value["date"])) if value.get("date") else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return  # not one of our buttons
    if day is not None and day > deps.ctx.today():
        day = None  # a forged date in the future: the form's own date rule would refuse it anyway
    form(deps, body, respond, partial(open_for_thread, deps, actor, body["trigger_id"], channel, thread_ts, day=day))


def log_time_from_home(deps: Deps, body: dict[str, Any], respond: Respond) -> None:
    actor = deps.people.actor(body["user"]["id"])
    form(deps, body, respond, partial(open_log_form, deps, actor, body["trigger_id"], search=False))


# ----- timers (run after the ack) -----
def _stop_timer(ctx: Context, actor: Actor, started: datetime) -> LogResult:
    return stop_timer(ctx, actor, TimerStop(started_at=started))


def _keep_timer(ctx: Context, actor: Actor, started: datetime) -> LogResult:
    """The timer left running is right: its time is logged as it ran."""
    return stop_timer(ctx, actor, TimerStop(keep=True, started_at=started))


def _discard_timer(ctx: Context, actor: Actor, started: datetime) -> Message:
    return discard_timer(ctx, actor, TimerDiscard(started_at=started))


def timer_clicked(
    deps: Deps, body: dict[str, Any], respond: Respond, what: str, call: Callable[[Context, Actor, datetime], Any]
) -> None:
    """A timer's Stop, Keep or Discard: ``call`` on the timer the button names (its start)."""
    actor = deps.people.actor(body["user"]["id"])
    try:
        started = datetime.fromisoformat(str(body["actions"][0]["value"]))
    except (ValueError, KeyError, IndexError):
        return  # not one of our buttons
    outcome = attempt(lambda: call(deps.ctx, actor, started), what)
    if isinstance(outcome.problem, TimerGone):
        gone(deps, body, respond, outcome.error or "")
        return
    if outcome.result is None:
        refuse(deps, body, respond, outcome.error or "")
        return
    result = outcome.result
    text, blocks = render_log(result) if isinstance(result, LogResult) else render(result)
    if body.get("response_url"):  # the message with the buttons becomes the answer
        respond(text=text, blocks=blocks, replace_original=True)
    else:
        deps.client.chat_postMessage(channel=actor.user_id, text=text, blocks=blocks)
    deps.home_changed(actor.user_id)


def timer_fix_form(deps: Deps, body: dict[str, Any], respond: Respond) -> None:
    """The form for the real time of a timer left running, while that timer still runs."""
    actor = deps.people.actor(body["user"]["id"])
    started = str(body["actions"][0].get("value") or "")
    running = attempt(lambda: my_day(deps.ctx, actor.user_id).timer, "timer fix")
    timer = running.result
    if running.result is None and running.error:
        refuse(deps, body, respond, running.error)
        return
    if timer is None or timer.started_at.isoformat() != started:
        gone(deps, body, respond, "That timer is no longer running: it was stopped or discarded already.")
        return
    view = timer_fix_modal(timer.display_name, started, format_duration(timer.minutes))
    form(deps, body, respond, partial(deps.client.views_open, trigger_id=body["trigger_id"], view=view))


# ----- App Home: today's entries (run after the ack) -----
def entry_clicked(deps: Deps, body: dict[str, Any]) -> tuple[Actor, int] | None:
    """Who clicked, and the entry id the button carries; None when it is not one of our buttons (an
    id as ours carry it: anything else, even 20 digits, is not)."""
    try:
        entry_id = parse_id(str(body["actions"][0]["value"]), "an entry", "void 42")
    except (ParseError, KeyError, IndexError):
        return None
    return deps.people.actor(body["user"]["id"]), entry_id


def edit_form(deps: Deps, body: dict[str, Any], respond: Respond) -> None:
    clicked = entry_clicked(deps, body)
    if clicked is None:
        return
    actor, entry_id = clicked
    found = attempt(lambda: entry_of(deps.ctx, actor, entry_id), "edit form")
    if found.result is None:
        refuse(deps, body, respond, found.error or "")
        return
    view = edit_modal(found.result, work_type_choices(deps, actor))
    form(deps, body, respond, partial(deps.client.views_open, trigger_id=body["trigger_id"], view=view))


def void_from_home(deps: Deps, body: dict[str, Any], respond: Respond) -> None:
    clicked = entry_clicked(deps, body)
    if clicked is None:
        return
    actor, entry_id = clicked
    command = VoidEntry(entry_id, "voided from App Home")
    outcome = attempt(lambda: hours.void_entry(deps.ctx, actor, command), "home void")
    if outcome.result is None:
        refuse(deps, body, respond, outcome.error or "")
        return
    text, blocks = render_void(outcome.result)
    tell(deps, body, respond, text, blocks)
    deps.home_changed(actor.user_id)


# ----- listeners: each answers at once; its work runs after the ack -----
def on_log_time_shortcut(ack: Ack, body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, "log time shortcut", log_time_anywhere, body, respond)


def on_log_time_on_message(ack: Ack, body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, "log time on a message", log_time_on_message, body, respond)


def on_nudge_log_time(ack: Ack, body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, "nudge log time", log_time_for_nudge, body, respond)


def on_home_log_time(ack: Ack, body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, "home log time", log_time_from_home, body, respond)


def on_client_search(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    """Our active clients matching what the user typed (handle, name or alias); staff only."""
    actor = deps.people.actor(body["user"]["id"])
    listed = attempt(lambda: client_services.list_clients(deps.ctx, actor, ClientList()), "client search")
    typed = str(body.get("value") or "").strip().lower()
    found = [
        c
        for c in listed.result or []
        if not typed
        or typed in c.handle
        or typed in c.display_name.lower()
        or any(typed in alias for alias in c.aliases)
    ]
    recent = (attempt(lambda: recent_clients(deps.ctx, actor.user_id), "client search").result or []) if found else []
    found.sort(key=lambda c: (c.handle not in recent, recent.index(c.handle) if c.handle in recent else 0))
    options = [
        {"text": {"type": "plain_text", "text": f"{c.display_name} ({c.handle})"[:75]}, "value": c.handle}
        for c in found[:OPTIONS_LIMIT]
    ]
    ack(options=options)


def on_timer_stop(ack: Ack, body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, "timer stop", timer_clicked, body, respond, "timer stop", _stop_timer)


def on_timer_keep(ack: Ack, body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, "timer keep", timer_clicked, body, respond, "timer keep", _keep_timer)


def on_timer_discard(ack: Ack, body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, "timer discard", timer_clicked, body, respond, "timer discard", _discard_timer)


def on_timer_fix(ack: Ack, body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, "timer fix", timer_fix_form, body, respond)


def on_home_edit(ack: Ack, body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, "home edit", edit_form, body, respond)


def on_home_void(ack: Ack, body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, "home void", void_from_home, body, respond)


def register(app: App) -> None:
    app.shortcut({"callback_id": GLOBAL_SHORTCUT, "type": "shortcut"})(on_log_time_shortcut)
    app.shortcut({"callback_id": MESSAGE_SHORTCUT, "type": "message_action"})(on_log_time_on_message)
    app.action(NUDGE_LOG_ACTION)(on_nudge_log_time)
    app.action(OPEN_LOG_ACTION)(on_home_log_time)
    app.options(CLIENT_SEARCH_ACTION)(on_client_search)
    app.action(TIMER_STOP_ACTION)(on_timer_stop)
    app.action(TIMER_KEEP_ACTION)(on_timer_keep)
    app.action(TIMER_DISCARD_ACTION)(on_timer_discard)
    app.action(TIMER_FIX_ACTION)(on_timer_fix)
    app.action(HOME_EDIT_ACTION)(on_home_edit)
    app.action(HOME_VOID_ACTION)(on_home_void)
