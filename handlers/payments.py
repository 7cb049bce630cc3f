"""The **Mark paid** button (``block_mark_paid``) on a block waiting for payment, in App Home and the
managers' digest (issue 26, part 1). Its value is what ``block paid`` takes, so the click runs that
command: the service checks the role again (managers; never a guest or a Slack Connect member) and
marks once (a second click says it is paid already). The answer goes where the click was made: the
message's reply URL, or by DM from App Home; the clicker's Home tab is published again."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.services import run_text
from handlers.deps import Deps, ack_then
from handlers.outcome import attempt
from handlers.timecapture import refuse, tell
from handlers.views.payments import MARK_PAID_ACTION
from handlers.views.replies import render


def mark_paid_clicked(deps: Deps, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    actor = deps.people.actor(body["user"]["id"])
    value = str(action.get("value") or "")
    # the grammar reads the value as typed words: anything but "<handle> <number>" is refused, not guessed
    outcome = attempt(lambda: run_text(deps.ctx, actor, f"block paid {value}"), "mark paid")
    if outcome.result is None:
        refuse(deps, body, respond, outcome.error or "")
        return
    text, blocks = render(outcome.result)
    tell(deps, body, respond, text, blocks)
    deps.home_changed(actor.user_id)


def on_mark_paid(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, deps: Deps) -> None:
    ack_then(ack, deps, f"button {MARK_PAID_ACTION}", mark_paid_clicked, body, action, respond)


def register(app: App) -> None:
    app.action(MARK_PAID_ACTION)(on_mark_paid)
