"""Modal forms (top-up, log time) checked field by field, so Slack can show each error next to its
field (``response_action: errors``). Values arrive as the strings Slack sends."""

from __future__ import annotations

import re
from datetime import date

from bot.domain.commands import EditEntry, LogTime, TopUp
from bot.domain.durations import parse_duration
from bot.domain.errors import DomainError, ParseError
from bot.domain.fields import clean_note, find_ticket, parse_hours, parse_price
from bot.domain.worktypes import parse_work_type


class FieldErrors(DomainError):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))


FIELD_ERROR_LIMIT = 300
TICKET_LIMIT = 500  # the entries.ticket column


def field_error(message: str, limit: int = FIELD_ERROR_LIMIT) -> str:
    """A refusal as a form field shows it: whole sentences only (never cut mid-word), no markup, no
    command-line example."""
    text = " ".join(message.replace("*", "").replace(":warning:", "").split())
    if len(text) <= limit:
        return text
    kept = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if len(kept) + len(sentence) + 1 > limit:
            break
        kept = f"{kept} {sentence}".strip()
    return kept or text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _check(errors: dict[str, str], name: str, parse):  # type: ignore[no-untyped-def]
    try:
        return parse()
    except ParseError as error:
        errors[name] = field_error(error.message)
        return None


def topup_from_form(
    client: str | None,
    hours: str | None,
    expires: str | None,
    price: str | None,
    reference: str | None,
    note: str | None,
    today: date,
    paid: str | None = None,
) -> TopUp:
    """``paid``: the form's payment choice (``paid`` or ``unpaid``); no choice is paid."""
    errors: dict[str, str] = {}
    if not client:
        errors["client"] = "Pick a client."
    words = (hours or "").split()
    confirmed = bool(words) and words[-1].lower() == "confirm"  # "1500 confirm": a large top-up is meant
    amount_text = " ".join(words[:-1] if confirmed else words)
    minutes = _check(errors, "hours", lambda: parse_hours(amount_text or "missing"))
    expires_on = date.fromisoformat(expires) if expires else None
    if expires_on is not None and expires_on < today:
        errors["expires"] = f"{expires_on} is in the past; pick a later date or leave it empty (never expires)."
    amount = _check(errors, "price", lambda: parse_price(price.strip())) if price and price.strip() else None
    if errors:
        raise FieldErrors(errors)
    return TopUp(
        client=str(client).lower(),
        minutes=int(minutes),
        expires_on=expires_on,
        price=amount[0] if amount else None,
        currency=amount[1] if amount else None,
        reference=(reference or "").strip()[:100] or None,
        note=clean_note(note or ""),
        confirmed=confirmed,
        paid=paid != "unpaid",
    )


def logtime_from_form(
    client: str | None,
    duration: str | None,
    work_date: str | None,
    note: str | None,
    non_billable: bool,
    today: date,
    max_minutes: int,
    ticket: str | None = None,
    work_type: str | None = None,
) -> LogTime:
    errors: dict[str, str] = {}
    if not client:
        errors["client"] = "Pick a client."
    text = (duration or "").strip()
    minutes = _check(errors, "duration", lambda: parse_duration(text, max_minutes))
    day = date.fromisoformat(work_date) if work_date else today
    if day > today:
        errors["work_date"] = "Time is logged for work already done; pick today or earlier."
    cleaned = _check(errors, "note", lambda: clean_note(note or ""))
    kind = _check(errors, "work_type", lambda: parse_work_type(work_type)) if work_type else None
    reference = " ".join((ticket or "").split())
    if len(reference) > TICKET_LIMIT:
        errors["ticket"] = f"A ticket is at most {TICKET_LIMIT} characters: a number (#1234) or a link."
    if errors:
        raise FieldErrors(errors)
    return LogTime(
        str(client).lower(),
        int(minutes),
        text,
        day.isoformat(),
        cleaned,
        non_billable,
        reference or find_ticket(cleaned),
        kind,
    )


def edit_from_form(
    entry_id: int,
    duration: str | None,
    work_date: str | None,
    logged_on: str | None,
    note: str | None,
    work_type: str | None,
    today: date,
    max_minutes: int,
) -> EditEntry:
    """An entry's Edit form: what is unchanged is kept as it was (``None``)."""
    errors: dict[str, str] = {}
    text = (duration or "").strip()
    minutes = _check(errors, "duration", lambda: parse_duration(text, max_minutes))
    day = date.fromisoformat(work_date) if work_date else None
    if day is not None and day > today:
        errors["work_date"] = "Time is logged for work already done; pick today or earlier."
    cleaned = _check(errors, "note", lambda: clean_note(note or ""))
    kind = _check(errors, "work_type", lambda: parse_work_type(work_type)) if work_type else None
    if errors:
        raise FieldErrors(errors)
    when = day.isoformat() if day is not None and day.isoformat() != logged_on else None
    return EditEntry(entry_id, int(minutes), text, when, cleaned, None, kind)
