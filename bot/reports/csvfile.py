"""Entries as CSV for invoicing: one row per (non-voided) entry, minutes as integers and decimal hours."""

from __future__ import annotations

import csv
import io

from bot.domain.durations import format_hours
from bot.services.results import EntryView

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
]


def entries_csv(entries: list[EntryView]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for e in entries:
        writer.writerow(
            [
                e.client,
                e.id,
                e.work_date.isoformat(),
                e.user_name,
                e.user_id,
                e.typed,
                e.minutes,
                e.billable_minutes,
                format_hours(e.billable_minutes),
                "yes" if e.non_billable else "no",
                e.overage_minutes,
                e.ticket or "",
                _safe(e.note),
                e.source,
                e.created_at.isoformat(),
            ]
        )
    return out.getvalue().encode("utf-8")


def _safe(text: str) -> str:
    """Notes are user text: keep spreadsheets from running them as formulas."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
