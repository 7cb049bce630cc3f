"""Buttons: Undo on a /logtime confirmation, and the App Home's Log time / Top up."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.commands import ClientList, parse_id
from bot.domain.errors import ParseError
from bot.jobs.messages import ADD_HOURS_ACTION, CHART_ACTION, ENTRIES_ACTION, SNOOZE_ACTION
from bot.services import alerts, run_text
from bot.services import clients as client_services
from bot.services.channels import undo_entry
from handlers.commands import open_topup_modal, topup_refusal
from handlers.context import Deps
from handlers.outcome import attempt
from handlers.reports import chart_into_thread
from handlers.views.home import OPEN_LOG_ACTION, OPEN_TOPUP_ACTION
from handlers.views.messages import UNDO_ACTION, error_message, render, render_void
from handlers.views.modals import log_modal


def register(app: App, deps: Deps) -> None:
    @app.action(UNDO_ACTION)
    def undo(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
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

    @app.action(OPEN_TOPUP_ACTION)
    def home_topup(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        actor = deps.people.actor(body["user"]["id"])
        refusal = topup_refusal(deps, actor)
        if refusal:
            text, blocks = error_message(refusal)
            deps.client.chat_postMessage(channel=actor.user_id, text=text, blocks=blocks)
            return
        open_topup_modal(deps, actor, body["trigger_id"], None)

    @app.action(ADD_HOURS_ACTION)
    def alert_add_hours(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        actor = deps.people.actor(body["user"]["id"])
        refusal = topup_refusal(deps, actor)
        if refusal:
            text, blocks = error_message(refusal)
            respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
            return
        channel = (body.get("channel") or {}).get("id")
        open_topup_modal(deps, actor, body["trigger_id"], channel, chosen=action.get("value"))

    @app.action(SNOOZE_ACTION)
    def alert_snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        actor = deps.people.actor(body["user"]["id"])
        outcome = attempt(lambda: alerts.snooze(deps.ctx, actor, str(action.get("value"))), "snooze")
        text, blocks = render(outcome.result) if outcome.result else error_message(outcome.error or "")
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    @app.action(ENTRIES_ACTION)
    def alert_entries(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        actor = deps.people.actor(body["user"]["id"])
        outcome = attempt(lambda: run_text(deps.ctx, actor, f"entries {action.get('value')} this month"), "entries")
        text, blocks = render(outcome.result) if outcome.result else error_message(outcome.error or "")
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    @app.action(CHART_ACTION)
    def alert_chart(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        actor = deps.people.actor(body["user"]["id"])
        channel = (body.get("channel") or {}).get("id") or actor.user_id
        thread = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")
        refusal = chart_into_thread(deps, actor, str(action.get("value")), channel, thread)
        if refusal:
            text, blocks = error_message(refusal)
            respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    @app.action(OPEN_LOG_ACTION)
    def home_log(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        actor = deps.people.actor(body["user"]["id"])
        listed = attempt(lambda: client_services.list_clients(deps.ctx, actor, ClientList()), "log modal")
        if listed.result is not None:
            view = log_modal(listed.result, {"channel": ""}, deps.ctx.today())
            deps.client.views_open(trigger_id=body["trigger_id"], view=view)
