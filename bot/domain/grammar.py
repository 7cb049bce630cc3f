"""The command grammar shared by Slack and the CLI: text in, a frozen command value out.

``parse_command("logtime acme 1h30m yesterday printer fix #1234", today)`` returns a :class:`LogTime`.
Nothing here touches the database; clients are named by handle and resolved by the services."""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from datetime import date, time, timedelta

from bot.domain.commands import (
    Balance,
    Blocks,
    ClientAdd,
    ClientAlias,
    ClientArchive,
    ClientList,
    ClientRename,
    ClientSet,
    ClientShow,
    Command,
    EditEntry,
    Entries,
    Help,
    Insights,
    Link,
    LogTime,
    NudgesSet,
    Report,
    SetRole,
    Snooze,
    TimerDiscard,
    TimerShow,
    TimerStart,
    TimerStop,
    TopUp,
    VoidEntry,
    VoidTopUp,
    WorkTypeAdd,
    WorkTypeArchive,
    WorkTypeList,
)
from bot.domain.dates import add_months, parse_iso_date, parse_period, take_work_date
from bot.domain.durations import (
    DEFAULT_MAX_MINUTES,
    looks_like_duration,
    take_duration,
)
from bot.domain.errors import ParseError
from bot.domain.fields import (
    BILLABLE_FLAGS,
    NON_BILLABLE_FLAGS,
    clean_note,
    find_ticket,
    is_number,
    parse_channel,
    parse_clock,
    parse_email,
    parse_grace,
    parse_hours,
    parse_id,
    parse_on_off,
    parse_optional_minutes,
    parse_overage_policy,
    parse_overdraft,
    parse_price,
    parse_psa_id,
    parse_renewal,
    parse_timezone,
    parse_url,
    parse_user,
    validate_handle,
)
from bot.domain.helptext import CLIENT_SET_KEYS, USAGE
from bot.domain.roles import Role
from bot.domain.thresholds import format_thresholds, parse_thresholds
from bot.domain.workhours import parse_work_hours
from bot.domain.worktypes import parse_multiplier, parse_work_type


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
    if not looks_like_duration(words[0]) and not is_number(words[0]):
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


def _logtime(tokens: list[str], today: date, max_minutes: int) -> Command:
    return parse_logtime(tokens, today, max_minutes)


def _balance(tokens: list[str], today: date, max_minutes: int) -> Command:
    words = [t.lower() for t in tokens]
    public = "public" in words
    words = [w for w in words if w != "public"]
    if len(words) > 1:
        raise ParseError("`balance` takes one client at most.", USAGE["balance"])
    return Balance(words[0] if words else None, public)


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
    "psa-company": ("psa_company_id", lambda v: parse_psa_id(v, "psa-company")),
    "psa-agreement": ("psa_agreement_id", lambda v: parse_psa_id(v, "psa-agreement")),
    "psa-ticket": ("psa_ticket_id", lambda v: parse_psa_id(v.lstrip("#"), "psa-ticket")),
}


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
