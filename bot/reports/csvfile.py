"""Statement lines as CSV for invoicing: one row per entry recorded in the period and one (negated) per
entry voided in it, so that every column that sums adds up to the statement's figures. Minutes are
exact integers; decimal hours are spread, client by client, so that each client's rows sum to its total's
hours, the same in its own file as in the file of every client."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from bot.domain.durations import hours_column
from bot.domain.worktypes import plain
from bot.services.page import PageLine
from bot.services.results import EntryView

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")  # OWASP's list of what a spreadsheet runs as a formula

COLUMNS = [
    "client",
    "entry_id",
    "work_date",
    "technician",
    "technician_id",
    "typed",
    "minutes",
    "billable_minutes",
    "billable_hours",
    "non_billable",
    "overage_minutes",
    "ticket",
    "note",
    "source",
    "logged_at",
    "movement",
    "recorded_on",
    "late",
    "work_type",
    "multiplier",
    "psa_status",  # where the entry stands in the PSA (empty when none is connected)
    "psa_id",
]


def entries_csv(entries: list[EntryView]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    hours = hours_column([e.billable_minutes for e in entries], [e.client for e in entries])
    for e, billable_hours in zip(entries, hours, strict=True):
        writer.writerow(
            [
                e.client,
                e.id,
                e.work_date.isoformat(),
                _safe(e.user_name),  # a Slack display name: anyone may name themselves "=HYPERLINK(...)"
                e.user_id,
                e.typed,
                e.minutes,
                e.billable_minutes,
                billable_hours,
                "yes" if e.non_billable else "no",
                e.overage_minutes,
                e.ticket or "",
                _safe(e.note),
                e.source,
                e.created_at.isoformat(),
                e.movement,
                e.recorded_on.isoformat() if e.recorded_on else "",
                "yes" if e.late else "no",
                e.work_type,
                format(plain(e.multiplier), "f"),
                e.psa or "",
                e.psa_id or "",
            ]
        )
    return out.getvalue().encode("utf-8")


def _safe(text: str) -> str:
    """Notes and names are user text: keep spreadsheets from running them as formulas (a tab or a line
    break first is read as one too). A bare carriage return becomes a newline: the writer quotes only
    fields with its own line terminator (``\n``) in them, and a reader would end the row at a lone CR."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "'" + text if text[:1] in FORMULA_STARTS else text


CLIENT_COLUMNS = [
    "recorded_on",
    "work_date",
    "technician",
    "ticket",
    "work_type",
    "minutes",
    "hours",
    "correction",
    "late",
    "non_billable",
    "note",
]


def client_statement_csv(lines: Sequence[PageLine]) -> bytes:
    """A month's client-safe statement lines (the client's page): the same rows as the page shows,
    technicians by first name, notes only where the page has them (``client-notes on``), no ids, no
    prices, no PSA. ``hours`` sum exactly to the month's hours used (``hours_column``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CLIENT_COLUMNS)
    hours = hours_column([line.minutes for line in lines])
    for line, line_hours in zip(lines, hours, strict=True):
        writer.writerow(
            [
                line.recorded_on.isoformat(),
                line.work_date.isoformat(),
                _safe(line.technician),
                _safe(line.ticket or ""),
                line.work_type,
                line.minutes,
                line_hours,
                "yes" if line.correction else "no",
                "yes" if line.late else "no",
                "yes" if line.non_billable else "no",
                _safe(line.note or ""),
            ]
        )
    return out.getvalue().encode("utf-8")
