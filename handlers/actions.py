"""Buttons: Undo on a /logtime confirmation, the App Home's Top up, and the alerts' buttons."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk.errors import SlackApiError

from bot.domain.durations import format_duration
from bot.domain.errors import ParseError
from bot.domain.fields import parse_id
from bot.domain.holds import approve_label
from bot.domain.roles import Standing
from bot.services import Actor, alerts, run_text
from bot.services.channels import undo_entry
from bot.services.overage import Contact, client_approve
from bot.services.psa_sync import retry_failed
from bot.services.refills import confirm_refill, draft_of, refill_note
from handlers.deps import Deps, ack_then
from handlers.outcome import attempt
from handlers.people import SLACK_CONNECT
from handlers.reports import chart_into_thread
from handlers.slash_commands import FORM_FAILED, form_or_apology, open_topup_modal, topup_refusal
from handlers.views.blockkit import escape
from handlers.views.home import OPEN_TOPUP_ACTION
from handlers.views.outbox import (
    ADD_HOURS_ACTION,
    CHART_ACTION,
    ENTRIES_ACTION,
    PSA_RETRY_ACTION,
    REFILL_CONFIRM_ACTION,
    REFILL_EDIT_ACTION,
    SNOOZE_ACTION,
)
from handlers.views.replies import CLIENT_APPROVE_ACTION, UNDO_ACTION, error_message, render, render_void

log = logging.getLogger("blocktime.actions")


def handled(respond: Respond, body: dict[str, Any], note: str) -> None:
    """Replace an alert's buttons with who handled it and how."""
    message = body.get("message") or {}
    kept = [b for b in message.get("blocks") or [] if b.get("type") != "actions"]
    kept.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    respond(text=message.get("text") or note, blocks=kept, replace_original=True)


def undo_clicked(deps: Deps, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    user_id = body["user"]["id"]
    actor = deps.people.actor(user_id)
    try:  # our own button carries the entry's id; anything else is not one of ours
        entry_id = parse_id(str(action.get("value", "")), "an entry", "undo")
    except ParseError:
        return
    outcome = attempt(lambda: undo_entry(deps.ctx, actor, entry_id), "undo")
    if outcome.result is None:
        # The confirmation stays as it was; the refusal comes as a separate ephemeral note.
        text, blocks = error_message(outcome.error or "")
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        return
    text, blocks = render_void(outcome.result)
    respond(text=text, blocks=blocks, replace_original=True)
    deps.home_changed(user_id)


def _from_home(deps: Deps, user_id: str, open_form: Callable[[], object]) -> None:
    """A Home button has no reply URL: when Slack fails to open its form, say so by DM."""
    try:
        open_form()
    except SlackApiError as error:
        log.warning("views.open failed: %s", error.response.get("error"))
        deps.client.chat_postMessage(channel=user_id, text=FORM_FAILED)


def home_topup_clicked(deps: Deps, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    actor = deps.people.actor(body["user"]["id"])
    refusal = topup_refusal(deps, actor)
    if refusal:
        text, blocks = error_message(refusal)
        deps.client.chat_postMessage(channel=actor.user_id, text=text, blocks=blocks)
        return
    _from_home(deps, actor.user_id, lambda: open_topup_modal(deps, actor, body["trigger_id"], None))


def add_hours_clicked(deps: Deps, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    actor = deps.people.actor(body["user"]["id"])
    refusal = topup_refusal(deps, actor)
    if refusal:
        text, blocks = error_message(refusal)
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        return
    channel = (body.get("channel") or {}).get("id")
    alert_ts = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")
    form_or_apology(
        respond,
        lambda: open_topup_modal(
            deps, actor, body["trigger_id"], channel, chosen=action.get("value"), alert_ts=alert_ts
        ),
    )


def snooze_clicked(deps: Deps, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    actor = deps.people.actor(body["user"]["id"])
    outcome = attempt(lambda: alerts.snooze(deps.ctx, actor, str(action.get("value"))), "snooze")
    if outcome.result is None:
        text, blocks = error_message(outcome.error or "")
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        return
    if body.get("message"):  # the alert itself says it was handled, so colleagues don't act twice
        until = str(outcome.result.data.get("until", ""))[:10]
        handled(respond, body, f":zzz: Snoozed until {until} by <@{actor.user_id}>.")
        return
    text, blocks = render(outcome.result)
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


def entries_clicked(deps: Deps, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    actor = deps.people.actor(body["user"]["id"])
    outcome = attempt(lambda: run_text(deps.ctx, actor, f"entries {action.get('value')} this month"), "entries")
    text, blocks = render(outcome.result) if outcome.result else error_message(outcome.error or "")
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


def chart_clicked(deps: Deps, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    actor = deps.people.actor(body["user"]["id"])
    channel = (body.get("channel") or {}).get("id") or actor.user_id
    thread = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")
    try:
        refusal = chart_into_thread(deps, actor, str(action.get("value")), channel, thread)
    except SlackApiError as error:
        log.warning("chart upload failed: %s", error.response.get("error"))
        refusal = "Couldn't upload the chart: Slack didn't take the file. Please try again."
    if refusal:
        text, blocks = error_message(refusal)
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


def psa_retry_clicked(deps: Deps, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    """The digest's Retry: entries that did not reach the PSA go again (managers and admins)."""
    actor = deps.people.actor(body["user"]["id"])
    outcome = attempt(lambda: retry_failed(deps.ctx, actor), "psa retry")
    if outcome.result is None:
        text, blocks = error_message(outcome.error or "")
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        return
    if body.get("message") and outcome.result.data.get("requeued"):
        handled(respond, body, f":repeat: {escape(outcome.result.message)} (<@{actor.user_id}>)")
        return
    text, blocks = render(outcome.result)
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


def refill_confirm_clicked(deps: Deps, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    """A draft refill's one click: the service adds the block once (managers; a second click, here or
    in another process, finds the first's block) and the alert says who added it."""
    actor = deps.people.actor(body["user"]["id"])
    draft = draft_of(str(action.get("value", "")))
    if draft is None:  # not one of our buttons' values
        return
    outcome = attempt(lambda: confirm_refill(deps.ctx, actor, draft), "refill")
    result = outcome.result
    if result is None:  # refused (a technician, a guest, an archived client) or failed: said, never swallowed
        text, blocks = error_message(outcome.error or "")
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        return
    added = f"{format_duration(result.minutes)} as block {result.block_number or result.block_id}"
    if result.duplicate:
        note = f":information_source: Already added: {added}. Nothing was added twice."
        respond(text=note, response_type="ephemeral", replace_original=False)
        return
    note = f":white_check_mark: Refill added by <@{actor.user_id}>: {added}."
    if body.get("message"):  # the alert says it was handled, so colleagues don't add it twice
        handled(respond, body, note)
    else:
        respond(text=note, response_type="ephemeral", replace_original=False)
    deps.home_changed(actor.user_id)


def refill_edit_clicked(deps: Deps, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    """The draft refill in the top-up form, filled in, to change before adding (managers). The form
    carries the draft: its submission is that refill, under the same key as **Add 10h**."""
    actor = deps.people.actor(body["user"]["id"])
    refusal = topup_refusal(deps, actor)
    draft = draft_of(str(action.get("value", "")))
    if refusal or draft is None:
        text, blocks = error_message(refusal or "That button is not one of ours.")
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        return
    channel = (body.get("channel") or {}).get("id")
    alert_ts = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")
    prefill = {
        "hours": f"{draft.minutes / 60:g}",
        "note": refill_note(draft),
        "paid": "paid" if draft.paid else "unpaid",
    }
    form_or_apology(
        respond,
        lambda: open_topup_modal(
            deps,
            actor,
            body["trigger_id"],
            channel,
            chosen=draft.client,
            alert_ts=alert_ts,
            prefill=prefill,
            refill=str(action.get("value", "")),
        ),
    )


def client_approve_clicked(deps: Deps, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    """The client card's **Approve up to 2 more hours**: taken only from a Slack Connect member of the
    client's own linked channel (the service decides, on what Slack says of the user and the channel)."""
    user = body.get("user") or {}
    user_id = str(user.get("id", ""))
    person = deps.people.person(user_id, user_team=user.get("team_id"))
    channel = (body.get("channel") or {}).get("id")
    home = deps.people.home_team()
    external = person.standing is Standing.EXTERNAL
    # asked of Slack only for someone who may be the client's: staff are refused on their standing
    shared, teams = deps.people.channel_sharing(str(channel)) if external and channel else (None, None)
    contact = Contact(
        external=external,
        other_team=bool(person.team_id and home and person.team_id != home),
        channel_connect=shared == SLACK_CONNECT,
        member=external and bool(channel) and deps.people.is_member(str(channel), user_id),
        team_id=person.team_id,
        channel_teams=teams,
    )
    actor = Actor(user_id, person.name, standing=person.standing)
    value = str(action.get("value", ""))
    outcome = attempt(lambda: client_approve(deps.ctx, actor, channel, value, contact), "client approval")
    if outcome.result is None:
        text, blocks = error_message(outcome.error or "")
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        return
    minutes = int(outcome.result.data["approved_minutes"])
    # the card is in the client's channel: the note says who approved what, in the client's words
    offered = approve_label(minutes).removeprefix("Approve ")
    handled(respond, body, f":white_check_mark: Approved by {escape(person.name)}: {offered} of work.")


def on_undo(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, f"button {UNDO_ACTION}", undo_clicked, body, action, respond)


def on_psa_retry(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, f"button {PSA_RETRY_ACTION}", psa_retry_clicked, body, action, respond)


def on_home_topup(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, f"button {OPEN_TOPUP_ACTION}", home_topup_clicked, body, action, respond)


def on_add_hours(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, f"button {ADD_HOURS_ACTION}", add_hours_clicked, body, action, respond)


def on_snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, f"button {SNOOZE_ACTION}", snooze_clicked, body, action, respond)


def on_alert_entries(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, f"button {ENTRIES_ACTION}", entries_clicked, body, action, respond)


def on_alert_chart(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, f"button {CHART_ACTION}", chart_clicked, body, action, respond)


def on_refill_confirm(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, f"button {REFILL_CONFIRM_ACTION}", refill_confirm_clicked, body, action, respond)


def on_refill_edit(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, f"button {REFILL_EDIT_ACTION}", refill_edit_clicked, body, action, respond)


def on_client_approve(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, f"button {CLIENT_APPROVE_ACTION}", client_approve_clicked, body, action, respond)


def register(app: App) -> None:
    """Each button is acknowledged at once; its work (the database, then Web API calls and
    ``respond``) runs after the ack (``handlers.deps.ack_then``)."""
    app.action(UNDO_ACTION)(on_undo)
    app.action(PSA_RETRY_ACTION)(on_psa_retry)
    app.action(OPEN_TOPUP_ACTION)(on_home_topup)
    app.action(ADD_HOURS_ACTION)(on_add_hours)
    app.action(SNOOZE_ACTION)(on_snooze)
    app.action(ENTRIES_ACTION)(on_alert_entries)
    app.action(CHART_ACTION)(on_alert_chart)
    app.action(REFILL_CONFIRM_ACTION)(on_refill_confirm)
    app.action(REFILL_EDIT_ACTION)(on_refill_edit)
    app.action(CLIENT_APPROVE_ACTION)(on_client_approve)
