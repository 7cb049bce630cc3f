"""Modals: top up (``/topup`` without arguments, App Home, alerts) and log time (App Home)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.services.results import ClientView

TOPUP_CALLBACK = "topup_modal"
LOG_CALLBACK = "log_modal"
SELECT_LIMIT = 100  # Slack's limit on options in a static select


def _client_input(clients: list[ClientView], chosen: str | None) -> InputBlock:
    if not clients:  # a select with no options is not valid Block Kit: say why instead
        element: Any = PlainTextInputElement(
            action_id="value", placeholder="No clients yet: an admin adds one with /blocktime client add acme Acme"
        )
        return InputBlock(block_id="client", label="Client (no clients yet)", element=element, hint="No clients yet.")
    if len(clients) > SELECT_LIMIT:
        element = PlainTextInputElement(
            action_id="value", placeholder="client handle, e.g. acme", initial_value=chosen or None
        )
    else:
        options = [Option(value=c.handle, label=f"{c.display_name} ({c.handle})"[:75]) for c in clients]
        initial = next((o for o in options if o.value == chosen), None)
        element = StaticSelectElement(
            action_id="value", placeholder="Pick a client", options=options, initial_option=initial
        )
    return InputBlock(block_id="client", label="Client", element=element)


def _text(block_id: str, label: str, placeholder: str, optional: bool = False, multiline: bool = False) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        element=PlainTextInputElement(action_id="value", placeholder=placeholder, multiline=multiline),
    )


def topup_modal(clients: list[ClientView], metadata: dict[str, str], chosen: str | None = None) -> dict[str, Any]:
    blocks = [
        _client_input(clients, chosen),
        _text("hours", "Hours", "10 (or 7.5, 90m)"),
        InputBlock(
            block_id="expires",
            label="Expires on",
            optional=True,
            element=DatePickerElement(action_id="value", placeholder="never"),
        ),
        _text("price", "Price", "1500.00", optional=True),
        _text("reference", "Reference (invoice or PO)", "INV-1001", optional=True),
        _text("note", "Note", "", optional=True, multiline=True),
    ]
    return View(
        type="modal",
        callback_id=TOPUP_CALLBACK,
        title="Top up hours",
        submit="Add hours",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps(metadata),
    ).to_dict()


def log_modal(clients: list[ClientView], metadata: dict[str, str], today: date) -> dict[str, Any]:
    blocks = [
        _client_input(clients, None),
        _text("duration", "Time spent", "15m, 1h30m, 1:30"),
        InputBlock(
            block_id="work_date",
            label="Date",
            optional=True,
            element=DatePickerElement(action_id="value", initial_date=today.isoformat()),
        ),
        _text("note", "What was done", "laptop advice #1234", optional=True, multiline=True),
        InputBlock(
            block_id="non_billable",
            label="Billing",
            optional=True,
            element=CheckboxesElement(action_id="value", options=[Option(value="nb", label="Non-billable")]),
        ),
    ]
    return View(
        type="modal",
        callback_id=LOG_CALLBACK,
        title="Log time",
        submit="Log",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps(metadata),
    ).to_dict()


def field_values(view: dict[str, Any]) -> dict[str, Any]:
    """``{block_id: value}`` from a submitted view's state (text, selected option, date, checkboxes).
    Anything not shaped as Slack sends it is ignored, so a forged payload reads as empty fields."""
    values: dict[str, Any] = {}
    state_values = (view.get("state") or {}).get("values") if isinstance(view.get("state"), dict) else None
    if not isinstance(state_values, dict):
        return values
    for block_id, actions in state_values.items():
        if not isinstance(actions, dict):
            continue
        state = actions.get("value")
        if not isinstance(state, dict):
            state = next((a for a in actions.values() if isinstance(a, dict)), {})
        kind = state.get("type")
        if kind == "static_select":
            selected = state.get("selected_option")
            values[block_id] = selected.get("value") if isinstance(selected, dict) else None
        elif kind == "datepicker":
            values[block_id] = state.get("selected_date")
        elif kind == "checkboxes":
            options = state.get("selected_options")
            values[block_id] = (
                [o.get("value") for o in options if isinstance(o, dict)] if isinstance(options, list) else []
            )
        else:
            values[block_id] = state.get("value")
        if not isinstance(values[block_id], str | list | type(None)):
            values[block_id] = None
    return values
