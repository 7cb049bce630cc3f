"""Modal submissions: top up, log time, edit an entry, the real time of a timer left running. Field
errors go back in the ack (``response_action: errors``) so Slack shows them next to the fields; the
modal's view id is the idempotency key, so a double submission records once."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError

from bot.domain.commands import TimerStop
from bot.domain.durations import format_duration, parse_duration
from bot.domain.errors import NeedsConfirmation, ParseError
from bot.domain.forms import FieldErrors, edit_from_form, field_error, logtime_from_form, topup_from_form
from bot.services import Actor, hours
from bot.services.channels import message_ref
from bot.services.refills import draft_of, submit_edited_refill
from bot.services.results import LogResult, TopUpResult
from bot.services.timers import stop_timer
from handlers.deps import Deps
from handlers.outcome import attempt
from handlers.views.modals import EDIT_CALLBACK, LOG_CALLBACK, TIMER_FIX_CALLBACK, TOPUP_CALLBACK, field_values
from handlers.views.replies import render_log, render_topup

log = logging.getLogger("blocktime.modals")


def on_topup_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    user_id = body["user"]["id"]
    submit = partial(_top_up, deps, deps.people.actor(user_id), field_values(view), view)
    _finish(deps, ack, user_id, view, submit, render_topup, "client")


def on_log_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    user_id = body["user"]["id"]
    submit = partial(_log_time, deps, deps.people.actor(user_id), field_values(view), view)
    _finish(deps, ack, user_id, view, submit, render_log, "duration")


def on_edit_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    user_id = body["user"]["id"]
    submit = partial(_edit, deps, deps.people.actor(user_id), field_values(view), view)
    _finish(deps, ack, user_id, view, submit, partial(render_log, undo=False), "duration")


def on_timer_fix_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    """The real time of a timer left running (its Fix button's form)."""
    user_id = body["user"]["id"]
    actor = deps.people.actor(user_id)
    fields = field_values(view)
    started = datetime.fromisoformat(str(_metadata(view).get("started_at")))
    _finish(deps, ack, user_id, view, partial(_fix_timer, deps, actor, fields, started), render_log, "duration")


def _top_up(deps: Deps, actor: Actor, fields: dict[str, Any], view: dict[str, Any]) -> TopUpResult:
    command = topup_from_form(
        fields.get("client"),
        fields.get("hours"),
        fields.get("expires"),
        fields.get("price"),
        fields.get("reference"),
        fields.get("note"),
        deps.ctx.today(),
        paid=fields.get("paid"),
    )
    draft = draft_of(str(_metadata(view).get("refill") or ""))
    if draft is not None and command.client == draft.client.lower():  # ``refill_edit``'s form: that refill, once
        return submit_edited_refill(deps.ctx, actor, draft, command)
    return hours.top_up(deps.ctx, actor, command, idempotency_key=f"view:{view['id']}")


def _log_time(deps: Deps, actor: Actor, fields: dict[str, Any], view: dict[str, Any]) -> LogResult:
    metadata = _metadata(view)
    channel, thread_ts, moment = metadata.get("channel"), metadata.get("thread_ts"), metadata.get("moment")
    command = logtime_from_form(
        fields.get("client"),
        fields.get("duration"),
        fields.get("work_date"),
        fields.get("note"),
        "nb" in (fields.get("non_billable") or []),
        deps.ctx.today(),
        deps.ctx.settings.max_entry_minutes,
        ticket=fields.get("ticket"),
        work_type=fields.get("work_type"),
    )
    if moment and metadata.get("day") == command.when:  # a message's time is the work's, on its day
        at = datetime.fromtimestamp(float(moment), UTC)
        command = replace(command, moment=at)
    return hours.log_time(
        deps.ctx,
        actor,
        command,
        source="slack",
        idempotency_key=f"view:{view['id']}",
        thread_ref=message_ref(str(channel), str(thread_ts)) if channel and thread_ts else None,
    )


def _edit(deps: Deps, actor: Actor, fields: dict[str, Any], view: dict[str, Any]) -> LogResult:
    metadata = _metadata(view)
    command = edit_from_form(
        int(metadata["entry_id"]),
        fields.get("duration"),
        fields.get("work_date"),
        metadata.get("work_date"),
        fields.get("note"),
        fields.get("work_type"),
        deps.ctx.today(),
        deps.ctx.settings.max_entry_minutes,
    )
    return hours.edit_entry(deps.ctx, actor, command, idempotency_key=f"view:{view['id']}")


def _fix_timer(deps: Deps, actor: Actor, fields: dict[str, Any], started: datetime) -> LogResult:
    text = (fields.get("duration") or "").strip()
    try:
        minutes = parse_duration(text, deps.ctx.settings.max_entry_minutes)
    except ParseError as error:
        raise FieldErrors({"duration": field_error(error.message)}) from None
    note = fields.get("note") or None
    return stop_timer(deps.ctx, actor, TimerStop(note, minutes=minutes, started_at=started))


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _finish(
    deps: Deps, ack: Ack, user_id: str, view: dict[str, Any], submit: Any, render: Any, main_field: str
) -> None:
    outcome = attempt(submit, view.get("callback_id", "modal"))
    if outcome.result is None:
        if isinstance(outcome.problem, FieldErrors):
            errors = outcome.problem.errors
        else:  # a rule refusal (no hours left, not allowed, database down) shows on the main field
            said = outcome.problem.message if outcome.problem is not None else outcome.error or ""
            field = "hours" if isinstance(outcome.problem, NeedsConfirmation) else main_field
            errors = {field: field_error(said)}
        ack(response_action="errors", errors=errors)
        return
    ack()
    text, blocks = render(outcome.result)
    metadata = _metadata(view)
    channel, alert_ts, thread_ts = metadata.get("channel"), metadata.get("alert_ts"), metadata.get("thread_ts")
    if alert_ts and channel and isinstance(outcome.result, TopUpResult) and not outcome.result.duplicate:
        added = f":moneybag: {format_duration(outcome.result.minutes)} added by <@{user_id}>."
        deps.later("alert thread note", _note_in_alert_thread, deps, channel, alert_ts, added)
    deps.later("modal confirmation", _confirm, deps, user_id, channel, thread_ts, text, blocks)
    deps.home_changed(user_id)


def _note_in_alert_thread(deps: Deps, channel: str, alert_ts: str, note: str) -> None:
    deps.client.chat_postMessage(channel=channel, thread_ts=alert_ts, text=note)


def _confirm(
    deps: Deps, user_id: str, channel: str | None, thread_ts: str | None, text: str, blocks: list[dict[str, Any]]
) -> None:
    """Where the form was opened: the message's thread, the channel, else (App Home, a DM's button, a
    channel the bot is not in) a DM."""
    if channel:
        try:
            deps.client.chat_postEphemeral(
                channel=channel, user=user_id, text=text, blocks=blocks, thread_ts=thread_ts or None
            )
            return
        except SlackApiError as error:
            log.info("confirmation by DM instead (%s)", error.response.get("error"))
    deps.client.chat_postMessage(channel=user_id, text=text, blocks=blocks)


def register(app: App) -> None:
    app.view(TOPUP_CALLBACK)(on_topup_submitted)
    app.view(LOG_CALLBACK)(on_log_submitted)
    app.view(EDIT_CALLBACK)(on_edit_submitted)
    app.view(TIMER_FIX_CALLBACK)(on_timer_fix_submitted)
