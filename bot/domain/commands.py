"""The command grammar shared by Slack and the CLI: text in, a frozen command value out.

``parse_command("logtime acme 1h30m yesterday printer fix #1234", today)`` returns a :class:`LogTime`.
Nothing here touches the database; clients are named by handle and resolved by the services."""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.dates import Period, add_months, parse_iso_date, parse_period, parse_work_date, take_work_date
from bot.domain.durations import (
    DEFAULT_MAX_MINUTES,
    format_duration,
    looks_like_duration,
    parse_duration,
    take_duration,
)
from bot.domain.errors import ParseError
from bot.domain.roles import Role
from bot.domain.thresholds import format_thresholds, parse_thresholds
from bot.domain.workhours import parse_work_hours
from bot.domain.worktypes import parse_multiplier, parse_work_type

HANDLE = re.compile(r"^[a-z][a-z0-9._-]{0,31}$")
NON_BILLABLE_FLAGS = {"--nb", "non-billable", "nonbillable", "--non-billable"}
BILLABLE_FLAGS = {"--billable", "billable"}  # an edit that makes a non-billable entry billable again
_TICKET = re.compile(r"(?<![\w&])#(\d{1,10})\b", re.ASCII)
_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL_MENTION = re.compile(r"^<#([CGD][A-Z0-9]+)(?:\|[^>]*)?>$")
_SLACK_ID = re.compile(r"^[UWCGD][A-Z0-9]{2,}$")
_UNLIMITED_HOURS = 10**7
_DECIMAL = re.compile(r"^\d+(?:\.\d+)?$", re.ASCII)


@dataclass(frozen=True)
class LogTime:
    client: str | None
    minutes: int
    typed: str
    when: str | None  # a date word as typed (``yesterday``); None = today in the client's timezone
    note: str
    non_billable: bool = False
    ticket: str | None = None
    work_type: str | None = None  # ``as onsite``; None = standard
    started_at: datetime | None = None  # a timer's start, kept on the entry it becomes
    at: time | None = None  # ``at 22:00``: the time of day the work was done (client's clock)
    moment: datetime | None = None  # when the work happened, as Slack knows it (a message's timestamp)

    def work_date(self, today: date) -> date:
        return resolve_when(self.when, today)


@dataclass(frozen=True)
class Balance:
    client: str | None
    public: bool = False


@dataclass(frozen=True)
class TopUp:
    client: str
    minutes: int
    expires_on: date | None = None
    starts_on: date | None = None
    price: Decimal | None = None
    currency: str | None = None
    reference: str | None = None
    renew_months: int | None = None
    note: str = ""
    confirmed: bool = False  # ``confirm``: an amount above BLOCKTIME_MAX_TOPUP is meant


@dataclass(frozen=True)
class Blocks:
    client: str


@dataclass(frozen=True)
class Entries:
    client: str
    period: Period


@dataclass(frozen=True)
class VoidEntry:
    entry_id: int
    reason: str = ""


@dataclass(frozen=True)
class VoidTopUp:
    block_id: int  # the block's id; with ``client``, the client's own block number
    reason: str = ""
    client: str | None = None


@dataclass(frozen=True)
class EditEntry:
    """A correction: what it names changes, everything else is kept (``None`` = keep)."""

    entry_id: int
    minutes: int
    typed: str
    when: str | None  # None = keep the entry's work date
    note: str | None
    non_billable: bool | None = None
    work_type: str | None = None  # None = keep the entry's work type


@dataclass(frozen=True)
class ClientAdd:
    handle: str
    name: str


@dataclass(frozen=True)
class ClientAlias:
    handle: str
    alias: str


@dataclass(frozen=True)
class ClientRename:
    handle: str
    name: str


@dataclass(frozen=True)
class ClientArchive:
    handle: str
    archived: bool = True


@dataclass(frozen=True)
class ClientSet:
    """Validated settings: keys are the storage field names, values already normalised."""

    handle: str
    changes: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ClientShow:
    handle: str


@dataclass(frozen=True)
class ClientList:
    include_archived: bool = False


@dataclass(frozen=True)
class SetRole:
    user: str
    role: Role


@dataclass(frozen=True)
class Link:
    client: str | None  # None = unlink
    public_replies: bool | None = None  # ``replies public|private``; None = leave as it is


@dataclass(frozen=True)
class Snooze:
    client: str
    days: int = 7


@dataclass(frozen=True)
class Report:
    client: str | None  # None = every client (one CSV for invoicing)
    period: Period


@dataclass(frozen=True)
class Insights:
    pass


@dataclass(frozen=True)
class Help:
    topic: str = ""


@dataclass(frozen=True)
class TimerStart:
    client: str | None  # None: the linked channel's client
    note: str = ""
    work_type: str | None = None


@dataclass(frozen=True)
class TimerStop:
    note: str | None = None  # None: the note given at start
    minutes: int | None = None  # the real duration, for a timer left running
    keep: bool = False  # a long timer's time is right as it ran
    started_at: datetime | None = None  # from a button: only the timer that started then


@dataclass(frozen=True)
class TimerShow:
    pass


@dataclass(frozen=True)
class TimerDiscard:
    started_at: datetime | None = None  # from a button: only the timer that started then


@dataclass(frozen=True)
class NudgesSet:
    on: bool  # /blocktime nudges on|off: DMs about ticket threads without time


@dataclass(frozen=True)
class WorkTypeAdd:
    name: str
    multiplier: Decimal


@dataclass(frozen=True)
class WorkTypeList:
    include_archived: bool = False


@dataclass(frozen=True)
class WorkTypeArchive:
    name: str


Command = (
    LogTime
    | Balance
    | TopUp
    | Blocks
    | Entries
    | VoidEntry
    | VoidTopUp
    | EditEntry
    | ClientAdd
    | ClientAlias
    | ClientRename
    | ClientArchive
    | ClientSet
    | ClientShow
    | ClientList
    | SetRole
    | Link
    | Snooze
    | Report
    | Insights
    | Help
    | WorkTypeAdd
    | WorkTypeList
    | WorkTypeArchive
    | TimerStart
    | TimerStop
    | TimerShow
    | TimerDiscard
    | NudgesSet
)

USAGE = {
    "logtime": "logtime <client> <duration> [when] [at HH:MM] [as <type>] [note...]   e.g. logtime acme 1h30m yesterday printer fix #1234"
    "  |  timers: logtime start <client> [note...], logtime stop [note...], logtime timer, logtime discard",
    "balance": "balance [client]   e.g. balance acme",
    "topup": "topup <client> <hours> [expires YYYY-MM-DD|never] [price 1500] [ref INV-1001] [note...]"
    "   e.g. topup acme 10 expires 2027-06-30 price 1500 ref INV-1001",
    "blocks": "blocks <client>   e.g. blocks acme",
    "entries": "entries <client> [this month|last month|YYYY-MM]   e.g. entries acme last month",
    "void": "void <entry-id> [reason...]  or  void topup <client> <block number>   e.g. void 42 wrong client",
    "edit": "edit <entry-id> <duration> [when] [note...]   e.g. edit 42 45m laptop setup",
    "client": "client add <handle> <name...> | client alias <handle> <alias> | client rename <handle> <name...>"
    " | client archive|unarchive <handle> | client set <handle> <key> <value> ... | client show <handle>"
    " | clients",
    "role": "role <@user> admin|manager|technician   e.g. role @sam manager",
    "link": "link <client> [replies public|private]  (in a channel)  or  link none",
    "snooze": "snooze <client> [days]   e.g. snooze acme 7  (low-balance alerts)",
    "report": "report <client>|--all [this month|last month|YYYY-MM|YYYY-MM..YYYY-MM]   e.g. report acme last month",
    "insights": "insights   (clients for whom a flat-fee agreement makes most sense)",
    "worktype": "worktype add <name> <multiplier> | worktype list | worktype archive <name>"
    "   e.g. worktype add onsite 1.5  (then: logtime acme 1h as onsite printer fix)",
    "nudges": "nudges off|on   (a DM on workdays about ticket threads you replied in without logging time)",
    "help": "help [command]",
}
CLIENT_SET_KEYS = (
    "name, rounding (15m|none), minimum (15m|none), overdraft (2h|none|unlimited), overage (carry|bill), "
    "grace (7d: days after expiry that late work may still draw from a block), "
    "client-view (on|off: the client's people may see their card with /balance in their channel), "
    "client-notes (on|off: notes shown on the client card), statement-to (#channel|none: the client-safe "
    "monthly statement), "
    "manager (@user|none), channel (#channel|none), timezone (Europe/Berlin), thresholds (50%,25%,2h,0), "
    "email (address|none), webhook (URL|none), hours (mon-fri 08:00-18:00|none: working hours; work outside "
    "them is billed as BLOCKTIME_AFTER_HOURS_TYPE), worktype (onsite 2|onsite none: this client's rate)"
)


def help_text(topic: str = "") -> str:
    if topic in USAGE:
        return USAGE[topic]
    if topic in ("clients",):
        return USAGE["client"]
    if topic:
        raise ParseError(f"There is no command `{topic}`. Commands: {', '.join(USAGE)}.", "help logtime")
    lines = ["blocktime commands:"] + [f"• {usage}" for usage in USAGE.values()]
    lines.append(f"client set keys: {CLIENT_SET_KEYS}")
    lines.append("Durations: 15m, 45 minutes, 1h, 1.5h, 1h30m, 1 hr 15 mins, 1:30. Add --nb for non-billable.")
    return "\n".join(lines)


def parse_command(
    text: str, today: date, max_minutes: int = DEFAULT_MAX_MINUTES, client_known: bool = False
) -> Command:
    """Parse one command line. A leading ``/`` and ``/blocktime`` are accepted (console and Slack).
    ``client_known``: the caller knows the client (a linked channel), so ``logtime`` may omit it."""
    tokens = text.strip().split()
    if tokens and tokens[0].lower() in ("/blocktime", "blocktime"):
        tokens = tokens[1:]
    if not tokens:
        return Help()
    verb = tokens[0].lower().lstrip("/")
    rest = tokens[1:]
    if verb in ("logtime", "log"):
        timer = parse_timer(rest, client_known, max_minutes)
        if timer is not None:
            return timer
    if verb in ("logtime", "log") and client_known:
        return parse_logtime(rest, today, max_minutes, client_required=False)
    parser = _PARSERS.get(verb)
    if parser is None:
        close = difflib.get_close_matches(verb, list(_PARSERS), n=1, cutoff=0.7)
        hint = f" Did you mean `{close[0]}`?" if close else " Try `help`."
        example = (
            USAGE[close[0]].split("   e.g. ")[-1]
            if close and close[0] in USAGE
            else USAGE["logtime"].split("   e.g. ")[1]
        )
        raise ParseError(f"`{tokens[0]}` is not a command I know.{hint}", example)
    return parser(rest, today, max_minutes)


TIMER_WORDS = ("start", "stop", "timer", "discard")


def parse_timer(tokens: list[str], client_known: bool, max_minutes: int) -> Command | None:
    """``logtime start [client] [as <type>] [note...]``, ``logtime stop [keep|<duration>] [note...]``,
    ``logtime timer``, ``logtime discard``; None when the words are an ordinary entry (a client
    called ``start`` followed by a duration)."""
    if not tokens or tokens[0].lower() not in TIMER_WORDS:
        return None
    word, rest = tokens[0].lower(), tokens[1:]
    if rest and looks_like_duration(rest[0]) and word == "start":
        return None  # logtime start 15m: a client called "start"
    if word == "timer":
        return TimerShow()
    if word == "discard":
        return TimerDiscard()
    if word == "stop":
        if rest and rest[0].lower() == "keep":
            return TimerStop(clean_note(" ".join(rest[1:])) or None, keep=True)
        if rest and looks_like_duration(rest[0]):
            minutes, _, rest = take_duration(rest, max_minutes)
            return TimerStop(clean_note(" ".join(rest)) or None, minutes=minutes)
        return TimerStop(clean_note(" ".join(rest)) or None)
    client = None
    if not client_known:
        if not rest:
            raise ParseError("Say which client the timer is for.", "logtime start acme printer fix")
        client, rest = rest[0].lower(), rest[1:]
    work_type = None
    if len(rest) >= 2 and rest[0].lower() == "as":
        work_type, rest = parse_work_type(rest[1]), rest[2:]
    return TimerStart(client, clean_note(" ".join(rest)), work_type)


def parse_logtime(tokens: list[str], today: date, max_minutes: int, client_required: bool = True) -> LogTime:
    """``<client> <duration> [when] [note...]``; the client may be left out where the caller knows it
    (a channel linked to a client), in which case the first word is the duration."""
    example = "logtime acme 15m laptop advice"
    non_billable = any(t.lower() in NON_BILLABLE_FLAGS for t in tokens)
    words = [t for t in tokens if t.lower() not in NON_BILLABLE_FLAGS]
    if not words:
        raise ParseError("Say which client and how long.", example)
    client: str | None = None
    if not looks_like_duration(words[0]) and not _is_number(words[0]):
        client, words = words[0].lower(), words[1:]
    elif client_required:
        raise ParseError("Say which client the time is for, before the duration.", example)
    if not words:
        raise ParseError(f"Say how long you worked for {client}.", example)
    minutes, typed, when, note, work_type, at = _duration_when_note(words, today, max_minutes)
    return LogTime(client, minutes, typed, when, note, non_billable, find_ticket(note), work_type, at=at)


def _duration_when_note(
    words: list[str], today: date, max_minutes: int
) -> tuple[int, str, str | None, str, str | None, time | None]:
    """``<duration> [when] [at HH:MM] [as <work type>] [note...]`` (the three in any order)."""
    minutes, typed, words = take_duration(words, max_minutes)
    when: str | None = None
    work_type: str | None = None
    at: time | None = None
    while words:
        if when is None:
            _, when, rest = take_work_date(words, today)
            if rest is not words:
                words = rest
                continue
        if at is None and len(words) >= 2 and words[0].lower() == "at" and parse_clock(words[1]) is not None:
            at, words = parse_clock(words[1]), words[2:]
            continue
        if work_type is None and len(words) >= 2 and words[0].lower() == "as":
            work_type, words = parse_work_type(words[1]), words[2:]
            continue
        break
    return minutes, typed, when, clean_note(" ".join(words)), work_type, at


_CLOCK_WORD = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$", re.ASCII)


def parse_clock(text: str) -> time | None:
    """``22:00``, ``9:30``, ``10pm``, ``7:15am`` -> a time of day; None for anything else (a bare
    number is not a time: ``at 5`` may be a note)."""
    match = _CLOCK_WORD.match(text.strip().lower())
    if match is None or (match.group(2) is None and match.group(3) is None):
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def resolve_when(when: str | None, today: date) -> date:
    """The work date for a date word checked at parse time, against the client's own today."""
    if when is None:
        return today
    day = parse_work_date(when, today)
    assert day is not None  # the parser only keeps words that name a date
    return day


NOTE_LIMIT = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_note(text: str) -> str:
    """A note as stored: control characters dropped (line breaks kept), at most ``NOTE_LIMIT`` characters."""
    cleaned = _CONTROL.sub("", text.replace("\t", " ")).strip()
    if len(cleaned) > NOTE_LIMIT:
        raise ParseError(
            f"The note has {len(cleaned):,} characters; a note is at most {NOTE_LIMIT:,}. Shorten it, or put the "
            "details in the ticket and name it (#1234).",
            "logtime acme 1h printer fix #1234",
        )
    return cleaned


def fingerprint(command: Command) -> str:
    """What a request asked for (its parsed command), so a request id reused for another is refused."""
    return hashlib.sha256(repr(command).encode()).hexdigest()


def find_ticket(note: str) -> str | None:
    found = _TICKET.search(note)
    return f"#{found[1]}" if found else None


def _is_number(text: str) -> bool:
    return bool(_DECIMAL.match(text.lstrip("+-")))


def _logtime(tokens: list[str], today: date, max_minutes: int) -> Command:
    return parse_logtime(tokens, today, max_minutes)


def _balance(tokens: list[str], today: date, max_minutes: int) -> Command:
    words = [t.lower() for t in tokens]
    public = "public" in words
    words = [w for w in words if w != "public"]
    if len(words) > 1:
        raise ParseError("`balance` takes one client at most.", USAGE["balance"])
    return Balance(words[0] if words else None, public)


def parse_hours(text: str) -> int:
    """Top-up size: ``10`` or ``7.5`` mean hours; a duration (``10h``, ``90m``) is read as typed."""
    if not _DECIMAL.match(text):
        try:
            return parse_duration(text, max_minutes=_UNLIMITED_HOURS)
        except ParseError as error:  # speak of top-ups, not of time logged
            if "zero" in error.message or "negative" in error.message:
                raise ParseError(f"`{text}`: hours to add must be more than zero.", "topup acme 10") from None
            raise ParseError(f"`{text}` is not a number of hours.", "topup acme 10 or topup acme 7.5") from None
    hours = Decimal(text)
    minutes = hours * 60
    if minutes > _UNLIMITED_HOURS:
        raise ParseError(f"`{text}` hours is more than any block could hold.", "topup acme 10")
    if hours <= 0:
        raise ParseError(f"`{text}` hours: a top-up must add more than zero hours.", "topup acme 10")
    if minutes != minutes.to_integral_value():
        raise ParseError(f"`{text}` hours is not a whole number of minutes.", "topup acme 7.5")
    return int(minutes)


def parse_price(text: str) -> tuple[Decimal, str | None]:
    """``1500``, ``1,500.00``, ``$1500``, ``€990`` -> (Decimal, currency or None)."""
    symbols = {"$": "USD", "€": "EUR", "£": "GBP"}
    currency = symbols.get(text[:1])
    number = (text[1:] if currency else text).replace(",", "")
    if not _DECIMAL.match(number) or len(number) > 13:
        raise ParseError(f"`{text}` is not a price.", "price 1500 or price 1500.00")
    price = Decimal(number)
    if price != price.quantize(Decimal("0.01")):
        raise ParseError(f"`{text}` is not a price: use a positive amount with at most two decimals.", "price 1500")
    return price.quantize(Decimal("0.01")), currency


_RENEWALS = {"monthly": 1, "quarterly": 3, "yearly": 12, "annually": 12, "annual": 12}


def parse_renewal(text: str) -> int:
    word = text.lower()
    if word in _RENEWALS:
        return _RENEWALS[word]
    digits = word.removesuffix("months").removesuffix("month").removesuffix("mo")
    if digits.isascii() and digits.isdigit() and 1 <= int(digits) <= 120:
        return int(digits)
    raise ParseError(f"`{text}` is not a renewal period.", "renew yearly, renew quarterly or renew 6months")


_TOPUP_KEYS = {
    **dict.fromkeys(("expires", "expiry", "exp", "expiring"), "expires"),
    **dict.fromkeys(("starts", "start", "from"), "starts"),
    "price": "price",
    "currency": "currency",
    **dict.fromkeys(("ref", "reference", "invoice", "po"), "ref"),
    **dict.fromkeys(("renew", "renews", "every"), "renew"),
}


def _topup(tokens: list[str], today: date, max_minutes: int) -> Command:
    usage = USAGE["topup"].split("   e.g. ")[1]
    if len(tokens) < 2:
        raise ParseError("Say which client and how many hours.", usage)
    client = tokens[0].lower()
    minutes = parse_hours(tokens[1])
    words = tokens[2:]
    values: dict[str, object] = {}
    note: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(words):
        key = words[i].lower()
        value = words[i + 1] if i + 1 < len(words) else None
        canonical = _TOPUP_KEYS.get(key)
        if canonical is not None and canonical in seen:
            raise ParseError(f"`{key}` is given twice; give it once.", usage)
        if canonical is not None:
            seen.add(canonical)
        if key in ("expires", "expiry", "exp", "expiring"):
            text = _need(value, key, "expires 2027-06-30 or expires never")
            values["expires_on"] = None if text.lower() == "never" else parse_iso_date(text)
        elif key in ("starts", "start", "from"):
            values["starts_on"] = parse_iso_date(_need(value, key, "starts 2026-12-01"))
        elif key == "price":
            price, currency = parse_price(_need(value, key, "price 1500"))
            values["price"] = price
            if currency:
                values["currency"] = currency
            following = words[i + 2] if i + 2 < len(words) else ""
            if re.fullmatch(r"[A-Z]{3}", following):
                values["currency"] = following
                i += 1
        elif key == "currency":
            text = _need(value, key, "currency EUR")
            if not re.fullmatch(r"[A-Za-z]{3}", text):
                raise ParseError(f"`{text}` is not a currency code.", "currency EUR")
            values["currency"] = text.upper()
        elif key in ("ref", "reference", "invoice", "po"):
            values["reference"] = _need(value, key, "ref INV-1001")[:100]
        elif key in ("renew", "renews", "every"):
            values["renew_months"] = parse_renewal(_need(value, key, "renew yearly"))
        elif key == "confirm":
            values["confirmed"] = True
            i += 1
            continue
        else:
            note.append(words[i])
            i += 1
            continue
        i += 2
    top_up = TopUp(client, minutes, note=clean_note(" ".join(note)), **values)  # type: ignore[arg-type]
    start = top_up.starts_on or today
    if top_up.renew_months is not None and top_up.expires_on is None:
        if "expires_on" in values:
            raise ParseError("A block that renews needs an expiry: it renews when it ends.", usage)
        # renews every N months: this block runs for the first N months
        top_up = replace(top_up, expires_on=add_months(start, top_up.renew_months) - timedelta(days=1))
    if top_up.expires_on is not None and top_up.expires_on < start:
        raise ParseError(f"The block would expire ({top_up.expires_on}) before it starts ({start}).", usage)
    return top_up


def _need(value: str | None, key: str, example: str) -> str:
    if value is None:
        raise ParseError(f"`{key}` needs a value after it.", example)
    return value


def _blocks(tokens: list[str], today: date, max_minutes: int) -> Command:
    if len(tokens) != 1:
        raise ParseError("`blocks` takes one client.", "blocks acme")
    return Blocks(tokens[0].lower())


def _entries(tokens: list[str], today: date, max_minutes: int) -> Command:
    if not tokens:
        raise ParseError("`entries` needs a client.", "entries acme last month")
    return Entries(tokens[0].lower(), parse_period(" ".join(tokens[1:]), today))


def parse_id(text: str, what: str, example: str) -> int:
    cleaned = text.lstrip("#")
    if not (cleaned.isascii() and cleaned.isdigit()) or int(cleaned) == 0 or len(cleaned) > 12:
        raise ParseError(f"`{text}` is not {what} number.", example)
    return int(cleaned)


def _void(tokens: list[str], today: date, max_minutes: int) -> Command:
    example = "void 42 wrong client  or  void topup 7"
    if not tokens:
        raise ParseError("Say which entry to void.", example)
    if tokens[0].lower() in ("topup", "block", "top-up"):
        if len(tokens) < 2:
            raise ParseError(
                "Say which top-up to void: the client and its block number (see `blocks acme`).", "void topup acme 2"
            )
        if len(tokens) >= 3 and not tokens[1].lstrip("#").isdigit():  # void topup acme 2: the client's block 2
            number = parse_id(tokens[2], "a block", "void topup acme 2")
            return VoidTopUp(number, " ".join(tokens[3:]), client=tokens[1].lower())
        return VoidTopUp(parse_id(tokens[1], "a top-up", example), " ".join(tokens[2:]))
    if tokens[0].lower() == "entry" and len(tokens) >= 2:
        tokens = tokens[1:]
    return VoidEntry(parse_id(tokens[0], "an entry", example), " ".join(tokens[1:]))


def _edit(tokens: list[str], today: date, max_minutes: int) -> Command:
    example = "edit 42 45m laptop setup"
    if len(tokens) < 2:
        raise ParseError("Say which entry and its new duration.", example)
    entry_id = parse_id(tokens[0], "an entry", example)
    flags = {t.lower() for t in tokens[1:]}
    non_billable: bool | None = None
    if flags & NON_BILLABLE_FLAGS:
        non_billable = True
    elif flags & BILLABLE_FLAGS:
        non_billable = False
    words = [t for t in tokens[1:] if t.lower() not in NON_BILLABLE_FLAGS | BILLABLE_FLAGS]
    minutes, typed, when, note, work_type, at = _duration_when_note(words, today, max_minutes)
    if at is not None:
        raise ParseError(
            "`at` is for new entries; to bill an edited entry as after-hours work, name its type.",
            f"edit {entry_id} {typed} as afterhours",
        )
    return EditEntry(entry_id, minutes, typed, when, note or None, non_billable, work_type)


def validate_handle(text: str) -> str:
    handle = text.lower()
    if not HANDLE.match(handle) or looks_like_duration(handle):
        raise ParseError(
            f"`{text}` is not a usable handle: start with a letter; letters, digits, '-', '_' or '.'; "
            "at most 32 characters.",
            "client add acme Acme Corporation",
        )
    return handle


def parse_user(text: str) -> str:
    """A Slack user as typed in a command: ``<@U123|sam>`` or ``U123``."""
    found = _USER_MENTION.match(text)
    if found:
        return found[1]
    if _SLACK_ID.match(text) and text[0] in "UW":
        return text
    raise ParseError(
        f"`{text}` is not a Slack user ID. In Slack, mention them (@sam); from the CLI, give their user ID "
        "(in Slack: their profile → ⋮ → Copy member ID).",
        "role U012ABCDEF manager",
    )


def parse_channel(text: str) -> str:
    found = _CHANNEL_MENTION.match(text)
    if found:
        return found[1]
    if _SLACK_ID.match(text) and text[0] in "CGD":
        return text
    raise ParseError(f"`{text}` is not a Slack channel: pick it with #, or give its ID.", "#acme-tickets or C012ABCDEF")


def parse_timezone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ParseError(f"`{text}` is not a time zone I know.", "Europe/Berlin or America/New_York") from None
    return text


_OFF = ("none", "0", "off", "no")


def _setting_duration(key: str, text: str, example: str, longest: int = _UNLIMITED_HOURS) -> int:
    """A duration setting, by one rule for all of them: a unit is required (``15m``, ``2h``), and
    errors speak of the setting, with an example of it."""
    word = text.strip().lower()
    if _is_number(word):
        raise ParseError(f"`{key} {text}` has no unit: write {word}m or {word}h.", example)
    if word.startswith("-"):
        raise ParseError(f"`{key} {text}`: {key} can't be negative.", example)
    try:
        minutes = parse_duration(word, max_minutes=_UNLIMITED_HOURS)
    except ParseError:
        if looks_like_duration(word):  # 0m, 0h
            raise ParseError(f"`{key} {text}`: for no {key}, write `{key} none`.", f"{key} none") from None
        raise ParseError(f"`{text}` is not a {key} I understand.", example) from None
    if minutes > longest:
        raise ParseError(
            f"`{key} {text}` is longer than the longest entry ({format_duration(longest)}): every entry would "
            f"be billed at least {format_duration(minutes)}.",
            example,
        )
    return minutes


def parse_optional_minutes(text: str, key: str = "rounding", longest: int = _UNLIMITED_HOURS) -> int:
    """``15m``, or ``none`` for none (rounding, minimum, the overdraft alert step)."""
    if text.strip().lower() in _OFF:
        return 0
    return _setting_duration(key, text, f"{key} 15m or {key} none", longest)


def parse_overdraft(text: str) -> int | None:
    """``2h``, ``none`` or ``unlimited``."""
    word = text.strip().lower()
    if word in ("unlimited", "any", "always"):
        return None
    if word in _OFF:
        return 0
    return _setting_duration("overdraft", text, "overdraft 2h, overdraft none or overdraft unlimited")


def parse_grace(text: str) -> int:
    """Days of grace after a block's expiry: ``7d``, ``7 days``, ``7``, or ``none`` (0)."""
    word = text.strip().lower()
    if word in _OFF:
        return 0
    digits = word.removesuffix("days").removesuffix("day").removesuffix("d").strip()
    if not (digits.isascii() and digits.isdigit()) or int(digits) > 3650:
        raise ParseError(f"`grace {text}` is not a number of days.", "grace 7d")
    return int(digits)


def parse_overage_policy(text: str) -> str:
    if text.lower() not in ("carry", "bill"):
        raise ParseError(f"`{text}` is not an overage policy: use carry or bill.", "client set acme overage carry")
    return text.lower()


def parse_on_off(text: str) -> bool:
    word = text.strip().lower()
    if word in ("on", "yes", "true"):
        return True
    if word in ("off", "no", "false", "none"):
        return False
    raise ParseError(f"`{text}`: say on or off.", "client set acme client-view on")


_SETTERS = {
    "overdraft": ("overdraft_minutes", parse_overdraft),
    "client-notes": ("client_notes", parse_on_off),
    "client-view": ("client_view", parse_on_off),
    "statement-to": ("statement_channel", lambda v: None if v.lower() in ("none", "off") else parse_channel(v)),
    "grace": ("expiry_grace_days", parse_grace),
    "overage": ("overage_policy", parse_overage_policy),
    "manager": ("account_manager", lambda v: None if v.lower() == "none" else parse_user(v)),
    "am": ("account_manager", lambda v: None if v.lower() == "none" else parse_user(v)),
    "channel": ("alert_channel", lambda v: None if v.lower() == "none" else parse_channel(v)),
    "timezone": ("timezone", parse_timezone),
    "tz": ("timezone", parse_timezone),
    "thresholds": ("thresholds", lambda v: format_thresholds(parse_thresholds(v))),
    "email": ("alert_email", lambda v: None if v.lower() == "none" else parse_email(v)),
    "webhook": ("alert_webhook", lambda v: None if v.lower() == "none" else parse_url(v)),
}


def parse_email(text: str) -> str:
    address = text.removeprefix("<mailto:").split("|")[0].rstrip(">")
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", address):
        raise ParseError(f"`{text}` is not an e-mail address.", "client set acme email am@msp.example")
    return address


def parse_url(text: str) -> str:
    url = text.strip("<>").split("|")[0]
    if not re.fullmatch(r"https?://[^\s]+", url):
        raise ParseError(f"`{text}` is not an http(s) URL.", "client set acme webhook https://psa.example/hook")
    return url


def _client(tokens: list[str], today: date, max_minutes: int) -> Command:
    example = USAGE["client"]
    if not tokens:
        raise ParseError("`client` needs a subcommand.", example)
    sub, args = tokens[0].lower(), tokens[1:]
    if sub == "list":
        return ClientList(any(a.lower() in ("all", "--all") for a in args))
    if not args:
        raise ParseError(f"`client {sub}` needs a client handle.", example)
    handle = args[0].lower()
    if sub == "add":
        name = " ".join(args[1:]).strip()
        return ClientAdd(validate_handle(handle), name or handle)
    if sub == "alias":
        if len(args) != 2:
            raise ParseError("`client alias` takes a handle and one alias.", "client alias acme acme-corp")
        return ClientAlias(handle, validate_handle(args[1]))
    if sub == "rename":
        if len(args) < 2:
            raise ParseError("`client rename` needs the new display name.", "client rename acme Acme Corporation")
        return ClientRename(handle, " ".join(args[1:]))
    if sub in ("archive", "unarchive"):
        return ClientArchive(handle, sub == "archive")
    if sub == "show":
        return ClientShow(handle)
    if sub == "set":
        return ClientSet(handle, _client_settings(args[1:], max_minutes))
    raise ParseError(f"`client {sub}` is not a client subcommand.", example)


_LIMITED_BY_LONGEST_ENTRY = {
    "rounding": "rounding_minutes",
    "increment": "rounding_minutes",
    "minimum": "minimum_minutes",
    "min": "minimum_minutes",
}


def _client_settings(words: list[str], longest: int = DEFAULT_MAX_MINUTES) -> dict[str, object]:
    example = "client set acme rounding 15m minimum 15m overdraft 2h"
    if not words:
        raise ParseError(f"Say what to set: {CLIENT_SET_KEYS}.", example)
    changes: dict[str, object] = {}
    i = 0
    while i < len(words):
        key = words[i].lower()
        if key == "name":
            changes["display_name"] = " ".join(words[i + 1 :])
            if not changes["display_name"]:
                raise ParseError("`name` needs a value.", "client set acme name Acme Corporation")
            break
        if key == "worktype":  # two values: client set acme worktype onsite 2 (or none: the default rate)
            if i + 2 >= len(words):
                raise ParseError(
                    "`worktype` needs a work type and its multiplier.", "client set acme worktype onsite 2"
                )
            rates = changes.setdefault("work_type_rates", {})
            assert isinstance(rates, dict)
            rate = None if words[i + 2].lower() in ("none", "default") else parse_multiplier(words[i + 2])
            rates[parse_work_type(words[i + 1])] = rate
            i += 3
            continue
        if key == "hours":  # client set acme hours mon-fri 08:00-18:00 (or none)
            if i + 1 < len(words) and words[i + 1].lower() in ("none", "off"):
                changes["work_hours"], i = None, i + 2
                continue
            if i + 2 >= len(words):
                raise ParseError(
                    "`hours` needs the days and the time range.", "client set acme hours mon-fri 08:00-18:00"
                )
            changes["work_hours"] = str(parse_work_hours(words[i + 1], words[i + 2]))
            i += 3
            continue
        if key not in _SETTERS and key not in _LIMITED_BY_LONGEST_ENTRY:
            raise ParseError(f"`{words[i]}` is not a client setting. Settings: {CLIENT_SET_KEYS}.", example)
        if i + 1 >= len(words):
            raise ParseError(f"`{key}` needs a value.", example)
        if key in _LIMITED_BY_LONGEST_ENTRY:
            field_name = _LIMITED_BY_LONGEST_ENTRY[key]
            value: object = parse_optional_minutes(words[i + 1], key, longest)
        else:
            field_name, convert = _SETTERS[key]
            value = convert(words[i + 1])
        if field_name in changes and changes[field_name] != value:
            raise ParseError(f"`{key}` is given twice with different values; give it once.", example)
        changes[field_name] = value
        i += 2
    return changes


def _clients(tokens: list[str], today: date, max_minutes: int) -> Command:
    return ClientList(any(t.lower() in ("all", "--all") for t in tokens))


def _role(tokens: list[str], today: date, max_minutes: int) -> Command:
    if len(tokens) != 2:
        raise ParseError("`role` takes a user and a role.", USAGE["role"].split("   e.g. ")[1])
    return SetRole(parse_user(tokens[0]), Role.parse(tokens[1]))


def _link(tokens: list[str], today: date, max_minutes: int) -> Command:
    words = [t.lower() for t in tokens]
    if len(words) == 3 and words[1] == "replies" and words[2] in ("public", "private"):
        return Link(words[0], words[2] == "public")
    if len(words) != 1:
        raise ParseError(
            "`link` takes one client (or `none` to unlink), and optionally `replies public|private`.",
            "link acme  or  link acme replies public",
        )
    return Link(None if words[0] in ("none", "off") else words[0])


def _snooze(tokens: list[str], today: date, max_minutes: int) -> Command:
    if not tokens or len(tokens) > 2:
        raise ParseError("`snooze` takes a client and, optionally, a number of days.", "snooze acme 7")
    days = tokens[1].lower().removesuffix("d") if len(tokens) == 2 else "7"
    if not (days.isascii() and days.isdigit() and 1 <= int(days) <= 90):
        raise ParseError(f"`{tokens[1]}` is not a number of days from 1 to 90.", "snooze acme 7")
    return Snooze(tokens[0].lower(), int(days))


def _report(tokens: list[str], today: date, max_minutes: int) -> Command:
    if not tokens:
        raise ParseError("Say which client, or --all.", "report acme last month  or  report --all 2026-10")
    first = tokens[0].lower()
    client = None if first in ("--all", "all") else first
    return Report(client, parse_period(" ".join(tokens[1:]), today))


def _insights(tokens: list[str], today: date, max_minutes: int) -> Command:
    return Insights()


def _worktype(tokens: list[str], today: date, max_minutes: int) -> Command:
    example = "worktype add onsite 1.5"
    words = [t.lower() for t in tokens]
    if not words or words[0] == "list":
        return WorkTypeList("all" in words or "--all" in words)
    if words[0] == "add" and len(words) == 3:
        return WorkTypeAdd(parse_work_type(words[1]), parse_multiplier(words[2]))
    if words[0] == "archive" and len(words) == 2:
        return WorkTypeArchive(parse_work_type(words[1]))
    raise ParseError("`worktype` takes add <name> <multiplier>, list, or archive <name>.", example)


def _nudges(tokens: list[str], today: date, max_minutes: int) -> Command:
    words = [t.lower() for t in tokens]
    if words in (["on"], ["off"]):
        return NudgesSet(words[0] == "on")
    raise ParseError("`nudges` takes on or off.", "nudges off")


def _help(tokens: list[str], today: date, max_minutes: int) -> Command:
    return Help(tokens[0].lower() if tokens else "")


_PARSERS = {
    "logtime": _logtime,
    "log": _logtime,
    "balance": _balance,
    "topup": _topup,
    "blocks": _blocks,
    "entries": _entries,
    "void": _void,
    "edit": _edit,
    "client": _client,
    "clients": _clients,
    "role": _role,
    "link": _link,
    "snooze": _snooze,
    "report": _report,
    "insights": _insights,
    "help": _help,
    "worktype": _worktype,
    "worktypes": _worktype,
    "nudges": _nudges,
}
