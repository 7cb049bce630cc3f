"""Modals: top up (``/topup`` without arguments, App Home, alerts); log time (App Home, the shortcuts,
nudges); edit an entry (App Home); the real time of a timer left running."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    DatePickerElement,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    OptionGroup,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.services.results import ClientView, EntryView

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


def _text(
    block_id: str, label: str, placeholder: str, optional: bool = False, multiline: bool = False, initial: str = ""
) -> InputBlock:
    element = PlainTextInputElement(
        action_id="value", placeholder=placeholder or None, multiline=multiline, initial_value=initial or None
    )
    return InputBlock(block_id=block_id, label=label, optional=optional, element=element)


PAYMENT_OPTIONS = (("paid", "Paid"), ("unpaid", "Unpaid: invoice to follow"))


def topup_modal(
    clients: list[ClientView],
    metadata: dict[str, str],
    chosen: str | None = None,
    prefill: dict[str, str] | None = None,
    paid: bool = True,
) -> dict[str, Any]:
    """The top-up form; ``prefill`` gives fields' first values by block id (a draft refill's hours and
    note; ``"paid": "unpaid"`` opens it unpaid, as ``paid=False`` does): a block is paid unless said."""
    first = prefill or {}
    options = [Option(value=value, label=label) for value, label in PAYMENT_OPTIONS]
    unpaid = not paid or first.get("paid") == "unpaid"
    blocks = [
        _client_input(clients, chosen),
        _text("hours", "Hours", "10 (or 7.5, 90m)", initial=first.get("hours", "")),
        InputBlock(
            block_id="paid",
            label="Payment",
            element=StaticSelectElement(
                action_id="value", options=options, initial_option=options[1] if unpaid else options[0]
            ),
            hint="Unpaid: `block paid <client> <number>` (or Mark paid in App Home) marks it paid later.",
        ),
        InputBlock(
            block_id="expires",
            label="Expires on",
            optional=True,
            element=DatePickerElement(action_id="value", placeholder="never"),
        ),
        _text("price", "Price", "1500.00", optional=True),
        _text("reference", "Reference (invoice or PO)", "INV-1001", optional=True),
        _text("note", "Note", "", optional=True, multiline=True, initial=first.get("note", "")),
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


CLIENT_SEARCH_ACTION = "client_search"  # the external select whose options come as the user types
EDIT_CALLBACK = "edit_entry_modal"
TIMER_FIX_CALLBACK = "timer_fix_modal"
NOTE_PREFILL = 150  # a message's first line, clipped, as the note


def client_option(handle: str, display_name: str) -> Option:
    return Option(value=handle, label=f"{display_name} ({handle})"[:75])


def client_options(clients: list[ClientView], recent: list[str]) -> dict[str, Any]:
    """A select's options, the user's recent clients first (their own group) when there are any."""
    first = [c for handle in recent for c in clients if c.handle == handle]
    rest = [c for c in clients if c.handle not in recent]
    if not first or not rest:
        return {"options": [client_option(c.handle, c.display_name) for c in first + rest]}
    return {
        "option_groups": [
            OptionGroup(label="Your recent clients", options=[client_option(c.handle, c.display_name) for c in first]),
            OptionGroup(label="All clients", options=[client_option(c.handle, c.display_name) for c in rest]),
        ]
    }


def _log_client_input(clients: list[ClientView] | None, recent: list[str], chosen: Option | None) -> InputBlock:
    """Our clients as a select: all of them when given (recent ones first), else searched as the
    user types (``external_select``, for any number of clients)."""
    if clients is not None and 0 < len(clients) <= SELECT_LIMIT:
        listed = [c for c in clients if chosen is None or c.handle == chosen.value]
        initial = client_option(listed[0].handle, listed[0].display_name) if chosen and listed else None
        element: Any = StaticSelectElement(
            action_id="value", placeholder="Pick a client", initial_option=initial, **client_options(clients, recent)
        )
        return InputBlock(block_id="client", label="Client", element=element)
    if clients is not None and not clients:
        return _client_input([], None)
    element = ExternalDataSelectElement(
        action_id=CLIENT_SEARCH_ACTION,
        placeholder="Type a client's name",
        min_query_length=0,
        initial_option=chosen,
    )
    return InputBlock(block_id="client", label="Client", element=element)


def _work_type_input(work_types: list[tuple[str, str]], chosen: str | None = None) -> InputBlock | None:
    """The work types to pick from (``standard`` first); left empty, the entry is standard work (or
    after-hours work, when its time is known to be outside the client's hours)."""
    if not work_types:
        return None
    options = [Option(value=name, label=label[:75]) for name, label in work_types]
    initial = next((o for o in options if o.value == chosen), None)
    return InputBlock(
        block_id="work_type",
        label="Work type",
        optional=True,
        element=StaticSelectElement(action_id="value", placeholder="standard", options=options, initial_option=initial),
    )


def log_modal(
    metadata: dict[str, str],
    today: date,
    *,
    clients: list[ClientView] | None = None,
    recent: list[str] | None = None,
    chosen: tuple[str, str] | None = None,
    work_types: list[tuple[str, str]] | None = None,
    note: str = "",
    ticket: str = "",
    work_date: date | None = None,
) -> dict[str, Any]:
    """The Log time form, from App Home, a shortcut, a message or a nudge: pre-filled with what the
    place it was opened from knows (the client, the ticket, the note, the day)."""
    picked = client_option(*chosen) if chosen else None
    blocks: list[Any] = [
        _log_client_input(clients, recent or [], picked),
        _text("duration", "Time spent", "15m, 1h30m, 1:30"),
        InputBlock(
            block_id="work_date",
            label="Date",
            optional=True,
            element=DatePickerElement(action_id="value", initial_date=(work_date or today).isoformat()),
        ),
        _text("note", "What was done", "laptop advice", optional=True, multiline=True, initial=note),
        _text("ticket", "Ticket", "#1234 or a link", optional=True, initial=ticket),
    ]
    types = _work_type_input(work_types or [])
    if types is not None:
        blocks.append(types)
    blocks.append(
        InputBlock(
            block_id="non_billable",
            label="Billing",
            optional=True,
            element=CheckboxesElement(action_id="value", options=[Option(value="nb", label="Non-billable")]),
        )
    )
    return View(
        type="modal",
        callback_id=LOG_CALLBACK,
        title="Log time",
        submit="Log",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps(metadata),
    ).to_dict()


def edit_modal(entry: EntryView, work_types: list[tuple[str, str]]) -> dict[str, Any]:
    """Edit one of your entries (App Home): its duration, day, note and type, as logged."""
    blocks: list[Any] = [
        _text("duration", "Time spent", "15m, 1h30m, 1:30", initial=entry.typed),
        InputBlock(
            block_id="work_date",
            label="Date",
            element=DatePickerElement(action_id="value", initial_date=entry.work_date.isoformat()),
        ),
        _text("note", "What was done", "laptop advice", optional=True, multiline=True, initial=entry.note),
    ]
    types = _work_type_input(work_types, entry.work_type)
    if types is not None:
        blocks.append(types)
    return View(
        type="modal",
        callback_id=EDIT_CALLBACK,
        title=f"Edit entry #{entry.id}"[:24],
        submit="Save",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"entry_id": entry.id, "work_date": entry.work_date.isoformat()}),
    ).to_dict()


def timer_fix_modal(display_name: str, started_at: str, ran: str) -> dict[str, Any]:
    """A timer left running: the real time worked, logged from the day it started."""
    return View(
        type="modal",
        callback_id=TIMER_FIX_CALLBACK,
        title="Log the real time",
        submit="Log",
        close="Cancel",
        blocks=[
            _text("duration", f"Time really spent for {display_name}"[:150], f"it ran {ran}; e.g. 2h"),
            _text("note", "What was done", "", optional=True, multiline=True),
        ],
        private_metadata=json.dumps({"started_at": started_at}),
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
        if kind in ("static_select", "external_select"):
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
