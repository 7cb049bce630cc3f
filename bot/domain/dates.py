"""Work dates (``today``, ``yesterday``, ``monday``, ``2026-11-20``) and report periods (``this month``,
``last month``, ``2026-10``, ``2026-08..2026-10``). ``today`` is always passed in: the domain never
reads the clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.errors import ParseError

WEEKDAYS = {
    name: index
    for index, names in enumerate(
        [
            ("monday", "mon"),
            ("tuesday", "tue", "tues"),
            ("wednesday", "wed"),
            ("thursday", "thu", "thur", "thurs"),
            ("friday", "fri"),
            ("saturday", "sat"),
            ("sunday", "sun"),
        ]
    )
    for name in names
}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)


def parse_work_date(token: str, today: date) -> date | None:
    """The work date ``token`` names, or ``None`` when it is not a date word at all.

    A weekday means the most recent one, today included. A date in the future is refused."""
    word = token.strip().lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    if word in WEEKDAYS:
        return today - timedelta(days=(today.weekday() - WEEKDAYS[word]) % 7)
    if _ISO_DATE.match(word):
        day = parse_iso_date(word)
        if day > today:
            raise ParseError(f"{word} is in the future; time is logged for work already done.", "yesterday")
        return day
    return None


def parse_iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ParseError(f"`{text}` is not a real date.", "2026-11-20") from None


@dataclass(frozen=True)
class Period:
    """A half-open range of days ``[start, end)`` with a label for headings."""

    start: date
    end: date
    label: str


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (Jan 31 + 1 month = Feb 28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def month_period(year: int, month: int) -> Period:
    start = date(year, month, 1)
    return Period(start, add_months(start, 1), start.strftime("%B %Y"))


def parse_period(text: str, today: date) -> Period:
    """``this month`` (default for empty text), ``last month``, ``YYYY-MM``, ``YYYY-MM..YYYY-MM``."""
    word = " ".join(text.lower().split())
    this = month_start(today)
    if word in ("", "this month", "month"):
        return month_period(this.year, this.month)
    if word == "last month":
        last = add_months(this, -1)
        return month_period(last.year, last.month)
    if ".." in word:
        first, _, last_text = word.partition("..")
        begin, end = _month(first.strip()), _month(last_text.strip())
        if end.start < begin.start:
            raise ParseError(f"`{text}` ends before it starts.", "2026-08..2026-10")
        return Period(begin.start, end.end, f"{begin.label} – {end.label}")
    return _month(word)


def _month(word: str) -> Period:
    found = _MONTH.match(word)
    if not found or not 1 <= int(found[2]) <= 12:
        raise ParseError(
            f"`{word}` is not a period I understand.", "this month, last month, 2026-10 or 2026-08..2026-10"
        )
    return month_period(int(found[1]), int(found[2]))
