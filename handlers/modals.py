"""Modal submissions: top up and log time. Field errors go back in the ack (``response_action:
errors``) so Slack shows them next to the fields; the modal's view id is the idempotency key, so a
double submission records once."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App

from bot.domain.durations import format_duration
from bot.domain.errors import NeedsConfirmation
from bot.domain.forms import FieldErrors, field_error, logtime_from_form, topup_from_form
from bot.services import ledger
from bot.services.results import TopUpResult
from handlers.context import Deps
from handlers.outcome import attempt
from handlers.views.messages import render_log, render_topup
from handlers.views.modals import LOG_CALLBACK, TOPUP_CALLBACK, field_values


def register(app: App, deps: Deps) -> None:
    @app.view(TOPUP_CALLBACK)
    def topup_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        actor = deps.people.actor(user_id)
        fields = field_values(view)

        def submit() -> Any:
            command = topup_from_form(
                fields.get("client"),
                fields.get("hours"),
                fields.get("expires"),
                fields.get("price"),
                fields.get("reference"),
                fields.get("note"),
                deps.ctx.today(),
            )
            return ledger.top_up(deps.ctx, actor, command, idempotency_key=f"view:{view['id']}")

        _finish(deps, ack, user_id, view, submit, render_topup, "client")

    @app.view(LOG_CALLBACK)
    def log_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        actor = deps.people.actor(user_id)
        fields = field_values(view)

        def submit() -> Any:
            command = logtime_from_form(
                fields.get("client"),
                fields.get("duration"),
                fields.get("work_date"),
                fields.get("note"),
                "nb" in (fields.get("non_billable") or []),
                deps.ctx.today(),
                deps.ctx.settings.max_entry_minutes,
            )
            return ledger.log_time(deps.ctx, actor, command, source="slack", idempotency_key=f"view:{view['id']}")

        _finish(deps, ack, user_id, view, submit, lambda r: render_log(r, undo=False), "duration")


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
    metadata = json.loads(view.get("private_metadata") or "{}")
    channel, alert_ts = metadata.get("channel"), metadata.get("alert_ts")
    if alert_ts and channel and isinstance(outcome.result, TopUpResult) and not outcome.result.duplicate:
        added = f":moneybag: {format_duration(outcome.result.minutes)} added by <@{user_id}>."
        deps.later(
            "alert thread note",
            lambda: deps.client.chat_postMessage(channel=channel, thread_ts=alert_ts, text=added),
        )

    def confirm() -> None:
        if channel:
            deps.client.chat_postEphemeral(channel=channel, user=user_id, text=text, blocks=blocks)
        else:
            deps.client.chat_postMessage(channel=user_id, text=text, blocks=blocks)

    deps.later("modal confirmation", confirm)
    deps.home_changed(user_id)
