"""Slash commands: ``/logtime``, ``/balance``, ``/topup`` and ``/blocktime <subcommand>``.

Each listener runs the command (a few milliseconds of database work) and answers in the ack itself,
well inside Slack's 3 seconds; the App Home refresh runs afterwards. The idempotency key is the
command's ``trigger_id``, so a request that is sent again records once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk.errors import SlackApiError

from bot.domain.commands import Balance, ClientList, ClientSet, Command, Link
from bot.domain.grammar import facts_of
from bot.domain.roles import Role
from bot.services import Actor, read_text, run_text
from bot.services import clients as client_services
from bot.services.results import ClientCard, Result
from handlers.deps import Deps
from handlers.outcome import attempt, role_refusal
from handlers.reports import run_report
from handlers.views.modals import topup_modal
from handlers.views.replies import error_message, render

log = logging.getLogger("blocktime.commands")


def answer(deps: Deps, ack: Ack, command: dict[str, Any], text: str) -> None:
    """Run the command line ``text`` and answer in the ack itself."""
    user_id = command["user_id"]
    actor = deps.people.actor(user_id, command.get("user_name", ""))
    asked = read_text(deps.ctx, text)  # None: its words don't parse, and running it says why
    channels = channels_to_check(asked, command.get("channel_id"))
    for channel in channels:
        deps.people.check_channel(channel)  # the services refuse alerts to a shared channel
    key = f"cmd:{command['trigger_id']}" if command.get("trigger_id") else None
    outcome = attempt(
        lambda: run_text(deps.ctx, actor, text, channel_id=command.get("channel_id"), idempotency_key=key),
        text.split(" ", 1)[0],
    )
    if outcome.result is None:
        message, blocks = error_message(outcome.error or "")
        ack(text=message, blocks=blocks, response_type="ephemeral")
        return
    result: Result = outcome.result
    message, blocks = render(result)
    # only the client-safe card is ever posted in the channel (`/balance public`)
    public = isinstance(result, ClientCard) and isinstance(asked, Balance) and asked.public
    ack(text=message, blocks=blocks, response_type="in_channel" if public else "ephemeral")
    if isinstance(asked, Link):  # only to the admin whose link was made (a refusal says nothing more)
        for channel in channels:
            deps.later("guests in channel", _warn_of_guests, deps, channel, user_id)
    if asked is not None and facts_of(asked).refreshes_home:
        deps.home_changed(user_id)


def on_logtime_command(ack: Ack, command: dict[str, Any], deps: Deps) -> None:
    answer(deps, ack, command, "logtime " + command.get("text", ""))


def on_balance_command(ack: Ack, command: dict[str, Any], deps: Deps) -> None:
    answer(deps, ack, command, "balance " + command.get("text", ""))


def on_topup_command(ack: Ack, command: dict[str, Any], respond: Respond, deps: Deps) -> None:
    """``/topup acme 10`` runs as typed; a bare ``/topup`` opens the form (managers and admins)."""
    text = command.get("text", "").strip()
    if text:
        answer(deps, ack, command, "topup " + text)
        return
    actor = deps.people.actor(command["user_id"], command.get("user_name", ""))
    refusal = topup_refusal(deps, actor)
    if refusal:
        text, blocks = error_message(refusal)
        ack(text=text, blocks=blocks, response_type="ephemeral")
        return
    ack()
    deps.later("topup modal", _topup_form, deps, actor, command, respond, request=True)


def on_blocktime_command(ack: Ack, command: dict[str, Any], respond: Respond, deps: Deps) -> None:
    text = command.get("text", "").strip() or "help"
    asked = read_text(deps.ctx, text)
    if asked is not None and facts_of(asked).slow:
        ack(text=":hourglass_flowing_sand: Working on it…", response_type="ephemeral")
        actor = deps.people.actor(command["user_id"], command.get("user_name", ""))
        deps.later("report", run_report, deps, actor, text, command.get("channel_id", ""), respond)
        return
    answer(deps, ack, command, text)


def _topup_form(deps: Deps, actor: Actor, command: dict[str, Any], respond: Respond) -> None:
    form_or_apology(respond, lambda: open_topup_modal(deps, actor, command["trigger_id"], command.get("channel_id")))


def channels_to_check(asked: Command | None, here: str | None) -> list[str]:
    """Channels a command is about to make the client's: the one being linked, or one named as its
    alert channel."""
    if isinstance(asked, Link) and asked.client is not None and here:
        return [here]
    if isinstance(asked, ClientSet) and isinstance(asked.changes.get("alert_channel"), str):
        return [str(asked.changes["alert_channel"])]
    return []


def _warn_of_guests(deps: Deps, channel: str, user_id: str) -> None:
    reason = deps.people.guests_in(channel)
    if reason:
        deps.client.chat_postEphemeral(
            channel=channel,
            user=user_id,
            text=f"Note: this is {reason}. Low-balance alerts and sales talk never go here; they go to "
            "the internal alert channel (BLOCKTIME_ALERT_CHANNEL).",
        )


FORM_FAILED = (
    ":warning: Couldn't open the form: Slack didn't answer in time. Please try again, or type the "
    "command with its words (`/topup acme 10`)."
)


def form_or_apology(respond: Respond, open_form: Callable[[], None]) -> None:
    """Open a modal; when Slack fails to (a 5xx after the retries, an expired trigger), say so
    ephemerally instead of leaving the user with nothing."""
    try:
        open_form()
    except SlackApiError as error:
        log.warning("views.open failed: %s", error.response.get("error"))
        respond(text=FORM_FAILED, response_type="ephemeral", replace_original=False)


def topup_refusal(deps: Deps, actor: Actor) -> str | None:
    """Why ``actor`` may not top up (which role it needs), or None when they may."""
    return role_refusal(deps.ctx, actor, Role.MANAGER, "top up")


def open_topup_modal(
    deps: Deps,
    actor: Actor,
    trigger_id: str,
    channel_id: str | None,
    chosen: str | None = None,
    alert_ts: str | None = None,
    prefill: dict[str, str] | None = None,
    refill: str | None = None,
) -> None:
    """The top-up form; from an alert's Add hours button, ``alert_ts`` lets its confirmation go into
    the alert's thread ("10h added by @sam") so colleagues don't sell twice. ``prefill``: a draft
    refill's fields (``refill_edit``); ``refill``: the draft itself (its button's value), so the
    submission is that refill, added once (``bot.services.refills.submit_edited_refill``)."""
    listed = attempt(lambda: client_services.list_clients(deps.ctx, actor, ClientList()), "topup modal")
    if listed.result is not None:
        metadata = {
            "channel": channel_id or "",
            **({"alert_ts": alert_ts} if alert_ts else {}),
            **({"refill": refill} if refill else {}),
        }
        view = topup_modal(listed.result, metadata, chosen, prefill)
        deps.client.views_open(trigger_id=trigger_id, view=view)


def register(app: App) -> None:
    app.command("/logtime")(on_logtime_command)
    app.command("/balance")(on_balance_command)
    app.command("/topup")(on_topup_command)
    app.command("/blocktime")(on_blocktime_command)
