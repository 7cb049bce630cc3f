"""What a time entry becomes in the MSP's PSA, and how our entries and the PSA's compare.

Pure rules, shared by every PSA: the vendor modules (``bot.psa``) only translate these values to their
API's fields. Minutes stay whole numbers here; hours appear only at the vendor's edge."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from bot.domain.dates import add_months
from bot.domain.fields import find_ticket

DEFAULT_START = time(9, 0)  # an entry with no time of day starts at 09:00 on the client's clock
_TICKET = re.compile(r"^#?(\d{1,10}|T\d{8}\.\d{4})$")


@dataclass(frozen=True)
class PsaTime:
    """One time record as the PSA should hold it."""

    reference: str  # ours, stored in the PSA's record, so a retry finds a record it already created
    company_id: str
    agreement_id: str
    member_id: str
    ticket_id: str | None  # a service ticket; None: charged to the company
    work_type_id: str | None
    work_role_id: str | None
    start: datetime  # UTC
    minutes: int
    billable: bool
    notes: str
    work_date: date | None = None  # the day the work was done, on the client's clock

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class TheirTime:
    """A time record read back from the PSA."""

    psa_id: str
    reference: str | None
    start: datetime
    minutes: int
    member: str
    notes: str


@dataclass(frozen=True)
class OurTime:
    entry_id: int
    psa_id: str | None
    reference: str | None
    work_date: date
    minutes: int
    user: str
    note: str


@dataclass(frozen=True)
class Difference:
    kind: str  # missing (ours, not in the PSA), extra (the PSA's, not ours), hours (both, other minutes)
    entry_id: int | None
    psa_id: str | None
    day: date
    ours_minutes: int | None
    theirs_minutes: int | None
    text: str

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "entry_id": self.entry_id,
            "psa_id": self.psa_id,
            "date": self.day.isoformat(),
            "ours_minutes": self.ours_minutes,
            "theirs_minutes": self.theirs_minutes,
            "text": self.text,
        }


@dataclass(frozen=True)
class PrepaidBlock:
    """Prepaid hours the PSA's agreement holds, offered as a top-up."""

    source: str  # "agreement:30" or "addition:7": names the top-up, so importing twice adds it once
    minutes: int
    starts_on: date | None
    expires_on: date | None
    price: str | None  # as the PSA says it (a decimal string), never a float
    description: str
    paid: bool | None = None  # the PSA's paid flag (Autotask's isPaid); None: it gives none, the mark is ours
    ours: bool = False  # a block blocktime wrote there (it carries our reference): never imported back


# ConnectWise's applicationCycle: the period an agreement's hours limit applies to (its hours renew each)
CYCLE_MONTHS = {"CalendarMonth": 1, "CalendarQuarter": 3, "CalendarYear": 12, "ContractQuarter": 3, "ContractYear": 12}
CYCLE_DAYS = {"CalendarWeek": 7, "Contract2Weeks": 14, "Contract4Weeks": 28}
# the billing cycle (its name) whose amount pays for one application cycle; others: no price is said
BILLED_PER = {
    "CalendarMonth": "monthly",
    "CalendarQuarter": "quarterly",
    "ContractQuarter": "quarterly",
    "CalendarYear": "yearly",
    "ContractYear": "yearly",
    "CalendarWeek": "weekly",
    "Contract2Weeks": "biweekly",
}


def cycle_holding(cycle: str, starts_on: date, ends_on: date | None, today: date) -> tuple[date, date] | None:
    """The first and last day of the agreement's application ``cycle`` that holds ``today`` (its first
    cycle when it has not started), within the agreement's own dates; None for a cycle not known here.
    ``Calendar…`` cycles follow the calendar (weeks start on Monday), ``Contract…`` ones the agreement's
    start."""
    day = max(today, starts_on)
    if ends_on is not None and day > ends_on:
        day = ends_on
    if cycle in CYCLE_MONTHS:
        months = CYCLE_MONTHS[cycle]
        if cycle.startswith("Calendar"):
            first = date(day.year, (day.month - 1) // months * months + 1, 1)
            after = add_months(first, months)
        else:
            count = ((day.year - starts_on.year) * 12 + day.month - starts_on.month) // months
            while add_months(starts_on, count * months) > day:
                count -= 1
            first, after = add_months(starts_on, count * months), add_months(starts_on, (count + 1) * months)
    elif cycle in CYCLE_DAYS:
        days = CYCLE_DAYS[cycle]
        if cycle.startswith("Calendar"):
            first = day - timedelta(days=day.weekday())
        else:
            first = starts_on + timedelta(days=(day - starts_on).days // days * days)
        after = first + timedelta(days=days)
    else:
        return None
    last = after - timedelta(days=1)
    return max(first, starts_on), min(last, ends_on) if ends_on is not None else last


def ticket_id(ticket: str | None) -> str | None:
    """The service ticket a ``#1234`` (or ``1234``, or an Autotask ticket number ``T20261125.0042``, which
    the vendor module looks up) names; a permalink or nothing names none."""
    if not ticket:
        return None
    found = _TICKET.match(ticket.strip())
    return found.group(1) if found else None


def service_ticket(ticket: str | None, note: str, thread_notes: Iterable[str] = ()) -> str | None:
    """The service ticket an entry is charged to: its ticket when that is a ``#1234``; else a ``#1234``
    in its note (a thread line's ticket is the thread's permalink); else the first ``#1234`` logged in
    the same ticket thread (once a thread names its ticket, every line there goes to it)."""
    for text in (ticket, find_ticket(note), *(find_ticket(n) for n in thread_notes)):
        found = ticket_id(text)
        if found:
            return found
    return None


def start_of(work_date: date, started_at: datetime | None, timezone: str, untimed_before: int = 0) -> datetime:
    """When the work started, in UTC: the timer's (or typed) start when known, else 09:00 of the work
    date on the client's clock plus ``untimed_before``, the minutes of the technician's untimed
    entries logged before this one for that day: one after another, so a technician's records of a day
    do not overlap in the PSA (timed entries keep their start)."""
    if started_at is not None:
        return started_at.astimezone(UTC)
    start = datetime.combine(work_date, DEFAULT_START, tzinfo=ZoneInfo(timezone))
    return (start + timedelta(minutes=untimed_before)).astimezone(UTC)


def masked(email: str) -> str:
    """An e-mail address as a log or a status may show it: its first letter and its domain
    (``t…@msp.example``), enough to recognise whose it is, not to write to them."""
    name, at, domain = email.strip().partition("@")
    return f"{name[:1]}…@{domain}" if at else "…"


def minutes_of_hours(hours: object) -> int:
    """A PSA's decimal hours as whole minutes (0.25 -> 15; 0.17 -> 10: the PSA rounded 10 minutes)."""
    return int((Decimal(str(hours)) * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def compare(ours: Sequence[OurTime], theirs: Iterable[TheirTime], zone: ZoneInfo) -> list[Difference]:
    """Every difference between our entries and the PSA's records for one agreement and period: a
    record is ours when it carries our reference or the PSA id we stored. Sorted by day."""
    by_id = {t.psa_id: t for t in theirs}
    by_reference = {t.reference: t for t in by_id.values() if t.reference}
    matched: set[str] = set()
    found: list[Difference] = []
    for entry in ours:
        record = by_id.get(entry.psa_id or "") or by_reference.get(entry.reference or "")
        if record is None:
            found.append(
                Difference(
                    "missing",
                    entry.entry_id,
                    None,
                    entry.work_date,
                    entry.minutes,
                    None,
                    f"entry #{entry.entry_id} ({entry.user}, {entry.note or 'no note'}) is not in the PSA",
                )
            )
            continue
        matched.add(record.psa_id)
        if record.minutes != entry.minutes:
            found.append(
                Difference(
                    "hours",
                    entry.entry_id,
                    record.psa_id,
                    entry.work_date,
                    entry.minutes,
                    record.minutes,
                    f"entry #{entry.entry_id} has {entry.minutes} min here, {record.minutes} min in the PSA "
                    f"(record {record.psa_id})",
                )
            )
    for record in by_id.values():
        if record.psa_id not in matched:
            found.append(
                Difference(
                    "extra",
                    None,
                    record.psa_id,
                    record.start.astimezone(zone).date(),
                    None,
                    record.minutes,
                    f"PSA record {record.psa_id} ({record.member}, {record.notes or 'no notes'}) is not an entry here",
                )
            )
    return sorted(found, key=lambda d: (d.day, d.kind, d.entry_id or 0, d.psa_id or ""))


@dataclass(frozen=True)
class SyncState:
    """Whether an entry reached the PSA: queued, retrying (the PSA was out of reach), synced, removed
    (a voided entry's record deleted), failed (the PSA refused it, or a mapping is missing; ``error``
    says why in the PSA's words), or not queued (logged before the PSA was connected)."""

    status: str
    psa_id: str | None = None
    error: str | None = None

    @property
    def text(self) -> str:
        if self.status == "synced" and self.psa_id:
            return f"synced (#{self.psa_id})"
        if self.status in ("failed", "retrying") and self.error:
            return f"{self.status}: {self.error}"
        return self.status


def sync_state(status: str | None, error: str | None, voided: bool, psa_id: str | None) -> SyncState:
    """The state an outbox row's ``status`` (None: no row) and last error say."""
    if status is None:
        return SyncState("not queued")
    if status == "sent":
        return SyncState("removed" if voided else "synced", psa_id)
    if status == "failed":
        return SyncState("failed", psa_id, error)
    return SyncState("retrying" if error else "queued", psa_id, error)
