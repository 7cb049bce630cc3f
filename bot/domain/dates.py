"""Work dates (``today``, ``yesterday``, ``monday``, ``2026-11-20``) and report periods (``this month``,
``last month``, ``2026-10``, ``2026-08..2026-10``). ``today`` is always passed in: the domain never
reads the clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

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
MONTHS = {
    name: index
    for index, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_NUMERIC_DATE = re.compile(r"^(\d{1,4})([/.-])(\d{1,2})(?:\2(\d{2}|\d{4}))?$", re.ASCII)
_DAY = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?,?$", re.ASCII)
_AGO = re.compile(r"^(\d{1,3}|a|an|one)$", re.ASCII)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
WHEN_EXAMPLE = "yesterday, last friday, mon, 27 nov, 3 days ago or 2026-11-27"
# Weekday abbreviations that are English words too ("sat with the user"), and numeric ranges ("ports
# 1-24"): dates where a date is expected (before any note word), note text after note words.
_WORD_WEEKDAYS = ("sat", "sun")
_RANGE = re.compile(r"^\d{1,2}-\d{1,2}$", re.ASCII)
_PERIOD_UNITS = ("week", "month", "year")
_PUNCTUATION = "(),;:!?"


@dataclass(frozen=True)
class DatePhrase:
    """A work date found among a command's words: the day, the words as ``parse_work_date`` reads them
    again (``when``), and how many words it took (a leading ``on`` included)."""

    day: date
    typed: str
    width: int


def date_phrase_at(words: list[str], today: date, after_note: bool = False) -> DatePhrase | None:
    """The work date that starts at the front of ``words`` (``yesterday``, ``on friday``, ``27 nov``,
    ``3 days ago``, ``2026-11-27``), or None. ``after_note``: note words come before it, where ``sat``,
    ``sun`` and ``1-24`` are words, not dates (``sat`` as the last word is refused: it reads both ways).
    A phrase that names no day, lies ahead or reads two ways is refused wherever it stands."""
    cleaned = [w.strip(_PUNCTUATION).rstrip(".").lower() for w in words]
    on = 1 if len(cleaned) > 1 and cleaned[0] == "on" else 0
    if after_note and not on and cleaned and (cleaned[0] in _WORD_WEEKDAYS or _RANGE.match(cleaned[0])):
        if cleaned[0] in _WORD_WEEKDAYS and len(cleaned) == 1:
            weekday = WEEKDAYS[cleaned[0]]
            full = next(name for name, index in WEEKDAYS.items() if index == weekday)
            raise ParseError(
                f"`{words[0]}` at the end could be {full.title()} or a word of the note: for the day, write "
                f"`{full}` or `on {cleaned[0]}`; for the word, put it inside the note.",
                f"logtime acme 1h {full} printer fix",
            )
        return None
    for width in (3, 2, 1):
        if len(cleaned) - on < width:
            continue
        typed = " ".join(cleaned[on : on + width])
        day = parse_work_date(typed, today)
        if day is not None:
            return DatePhrase(day, typed, on + width)
    first = cleaned[on] if len(cleaned) > on else ""
    if not after_note and _NUMERIC_DATE.match(first) and "." not in first:
        # where a date is expected, a date-shaped number that is no day either way (``99/99``) is a
        # mistyped date, never the note's first word
        raise ParseError(f"`{words[on]}` is not a real date.", WHEN_EXAMPLE)
    return None


def parse_work_date(text: str, today: date) -> date | None:
    """The work date ``text`` names, or ``None`` when it is not a date phrase at all.

    A weekday means the most recent one, today included; ``last <weekday>`` the one before today.
    A day and month without a year means the most recent such day. A date in the future is refused,
    and so is a numeric date that reads two ways (``11/12``)."""
    words = text.strip().lower().split()
    day = _date_of(words, today)
    if day is not None and day > today:
        raise ParseError(f"`{text.strip()}` is in the future; time is logged for work already done.", WHEN_EXAMPLE)
    return day


def _date_of(words: list[str], today: date) -> date | None:
    if len(words) == 1:
        return _one_word(words[0], today)
    if len(words) == 2:
        first, second = words
        if first in ("last", "this", "next") and second in _PERIOD_UNITS:
            raise ParseError(f"`{first} {second}` names no single day: give the day the work was done.", WHEN_EXAMPLE)
        if first == "next" and second in WEEKDAYS:
            raise ParseError(
                f"`{first} {second}` is in the future; time is logged for work already done.", WHEN_EXAMPLE
            )
        if first == "last" and second in WEEKDAYS:
            return today - timedelta(days=(today.weekday() - WEEKDAYS[second] - 1) % 7 + 1)
        if first in MONTHS and _DAY.match(second):
            return _day_of_month(MONTHS[first], int(_DAY.match(second)[1]), today, text=" ".join(words))  # type: ignore[index]
        if second in MONTHS and _DAY.match(first):
            return _day_of_month(MONTHS[second], int(_DAY.match(first)[1]), today, text=" ".join(words))  # type: ignore[index]
        return None
    if len(words) == 3 and words[2] == "ago" and _AGO.match(words[0]):
        count = 1 if words[0] in ("a", "an", "one") else int(words[0])
        unit = words[1]
        if unit in ("day", "days"):
            return today - timedelta(days=count)
        if unit in ("week", "weeks"):
            return today - timedelta(weeks=count)
    return None


def _one_word(word: str, today: date) -> date | None:
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    if word == "tomorrow":
        return today + timedelta(days=1)
    if word in WEEKDAYS:
        return today - timedelta(days=(today.weekday() - WEEKDAYS[word]) % 7)
    if _ISO_DATE.match(word):
        return parse_iso_date(word)
    numeric = _NUMERIC_DATE.match(word)
    if numeric and (numeric[2] != "." or numeric[4] is not None):  # ``1.5`` is a number, not 1 May
        return _numeric_date(word, numeric, today)
    return None


def _numeric_date(word: str, found: re.Match[str], today: date) -> date | None:
    """``11/29``, ``30/11/2026``, ``30.11.26``: accepted when only one reading is a real date. Numbers
    that cannot be a day and a month either way (``50/50``, ``0/1``) are no date at all."""
    first, second, year_text = found[1], found[3], found[4]
    if len(first) == 4:  # 2026/11/29, 2026.11.29
        if year_text is None:
            raise ParseError(f"`{word}` is not a date I understand.", WHEN_EXAMPLE)
        return _real_date(int(first), int(second), int(year_text), word)
    low, high = sorted((int(first), int(second)))
    if low < 1 or low > 12 or high > 31:
        return None
    year = today.year if year_text is None else int(year_text) + (2000 if len(year_text) == 2 else 0)
    readings = set()
    for month, day_of_month in ((int(first), int(second)), (int(second), int(first))):
        try:
            readings.add(date(year, month, day_of_month))
        except ValueError:
            continue
    if not readings:
        raise ParseError(f"`{word}` is not a real date.", WHEN_EXAMPLE)
    if len(readings) > 1:
        a, b = sorted(readings)
        raise ParseError(
            f"`{word}` could be {a:%-d %b} or {b:%-d %b}: use {a.isoformat()} or {b.isoformat()}.", a.isoformat()
        )
    (day,) = readings
    if year_text is None and day > today:
        day = day.replace(year=day.year - 1)
    return day


def _real_date(year: int, month: int, day: int, word: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ParseError(f"`{word}` is not a real date.", WHEN_EXAMPLE) from None


def _day_of_month(month: int, day: int, today: date, text: str) -> date:
    """The most recent ``day`` of ``month``: this year's, or an earlier year's when it is ahead."""
    for year in range(today.year, today.year - 8, -1):
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        if found <= today:
            return found
    raise ParseError(f"`{text}` is not a real date.", WHEN_EXAMPLE)


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


def long_day(day: date) -> str:
    """``2026-12-15`` -> ``15 Dec 2026``: a date in a sentence."""
    return f"{day.day} {day:%b %Y}"


def recorded_words(start: date, end: date) -> str:
    """How a statement's "used" is dated: ``recorded this month`` for one month, else
    ``recorded in the period`` (movements count by the day they were recorded, not the work date)."""
    one_month = start.day == 1 and add_months(start, 1) == end
    return "recorded this month" if one_month else "recorded in the period"


def recorded_day(moment: datetime, timezone: str, records_from: date | None = None) -> date:
    """The day a ledger line written at ``moment`` is recorded on: the client's calendar day then, but
    never before ``records_from`` (a time zone change that moved the calendar back), so a line never
    lands in a statement of a month that is over."""
    day = moment.astimezone(ZoneInfo(timezone)).date()
    return day if records_from is None else max(day, records_from)


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
