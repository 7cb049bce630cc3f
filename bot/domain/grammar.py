"""The command grammar shared by Slack and the CLI: text in, a frozen command value out.

``parse_command("logtime acme 1h30m yesterday printer fix #1234", today)`` returns a :class:`LogTime`.
Nothing here touches the database; clients are named by handle and resolved by the services.

Each command is declared once, on its parser (``@declare``): its words, its usage line, and the
commands the parser makes with their :class:`Facts` (role, whether it writes, refreshes App Home, is
slow). The help, the word table and ``facts_of`` are read from these declarations."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta

from bot.domain.allotments import ALLOTMENT_KEYS, allotment_setting
from bot.domain.commands import (
    MOVES_HOURS,
    READS,
    SLOW_READ,
    WRITES,
    ApproveOverage,
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
    EmailStatement,
    Entries,
    Facts,
    Help,
    Insights,
    Link,
    LogTime,
    MarkPaid,
    MarkUnpaid,
    NudgesSet,
    PreviewStatement,
    Report,
    SetRole,
    ShareCreate,
    ShareList,
    ShareRevoke,
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
from bot.domain.dates import DatePhrase, add_months, date_phrase_at, parse_iso_date, parse_period
from bot.domain.durations import (
    DEFAULT_MAX_MINUTES,
    format_duration,
    looks_like_duration,
    parse_duration,
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
    parse_statement_emails,
    parse_timezone,
    parse_url,
    parse_user,
    validate_handle,
)
from bot.domain.followups import parse_psa_alert
from bot.domain.holds import parse_approval, parse_hold_at
from bot.domain.offers import EXAMPLE as OFFERS_EXAMPLE
from bot.domain.offers import parse_offer_words
from bot.domain.payments import read_payment_words
from bot.domain.refills import parse_refill
from bot.domain.roles import Role
from bot.domain.thresholds import format_thresholds, parse_thresholds
from bot.domain.workhours import parse_work_hours
from bot.domain.worktypes import parse_multiplier, parse_work_type

Parser = Callable[[list[str], date, int], Command]


@dataclass(frozen=True)
class Verb:
    """A command line's first word, declared once on its parser: the usage line ``help`` shows, the
    commands the parser makes with their facts, and other words that say the same (``log``;
    ``clients`` is ``client list``)."""

    name: str
    usage: str
    parse: Parser
    makes: Mapping[type[Command], Facts]
    also: Mapping[str, str] = field(default_factory=dict)  # another first word -> the words it stands for

    @property
    def example(self) -> str:
        """The usage line's example (after ``e.g.``), or the whole line where it gives none."""
        return self.usage.split("   e.g. ")[-1]


VERBS: dict[str, Verb] = {}  # by name, in the order declared: the order ``help`` lists them in
_FIRST_WORDS: dict[str, tuple[Verb, list[str]]] = {}  # every first word: its verb, and the words it adds
_FACTS: dict[type[Command], Facts] = {}


def declare(
    name: str, *, usage: str, makes: Mapping[type[Command], Facts], also: Mapping[str, str] | None = None
) -> Callable[[Parser], Parser]:
    """Declare the verb ``name`` on its parser (see :class:`Verb`). Each word and each command is
    declared once."""

    def register(parse: Parser) -> Parser:
        verb = Verb(name, usage, parse, dict(makes), dict(also or {}))
        for word, stands_for in {name: "", **verb.also}.items():
            assert word not in _FIRST_WORDS, f"`{word}` is declared twice"
            _FIRST_WORDS[word] = (verb, stands_for.split())
        for kind, facts in verb.makes.items():
            assert kind not in _FACTS, f"{kind.__name__} is declared twice"
            _FACTS[kind] = facts
        VERBS[name] = verb
        return parse

    return register


def facts_of(command: Command | type[Command]) -> Facts:
    """What is declared of a command (or of a command type)."""
    return _FACTS[command if isinstance(command, type) else type(command)]


def verb_named(word: str) -> Verb | None:
    """The verb a first word starts (``log`` and ``logtime`` both start ``logtime``)."""
    found = _FIRST_WORDS.get(word.lower())
    return found[0] if found else None


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
    word = tokens[0].lower().lstrip("/")
    found = _FIRST_WORDS.get(word)
    if found is None:
        close = difflib.get_close_matches(word, list(_FIRST_WORDS), n=1, cutoff=0.7)
        hint = f" Did you mean `{close[0]}`?" if close else " Try `help`."
        example = VERBS[close[0]].example if close and close[0] in VERBS else VERBS["logtime"].example
        raise ParseError(f"`{tokens[0]}` is not a command I know.{hint}", example)
    verb, stands_for = found
    rest = stands_for + tokens[1:]
    if verb.name == "logtime":
        timer = parse_timer(rest, today, client_known, max_minutes)
        if timer is not None:
            return timer
        if client_known:
            return parse_logtime(rest, today, max_minutes, client_required=False)
    return verb.parse(rest, today, max_minutes)


TIMER_WORDS = ("start", "stop", "timer", "discard")


def parse_timer(tokens: list[str], today: date, client_known: bool, max_minutes: int) -> Command | None:
    """``logtime start [client] [as <type>] [note...]``, ``logtime stop [keep|<duration>] [note...]``,
    ``logtime timer``, ``logtime discard``; None when the words are an ordinary entry (``logtime start
    15m``: a client called ``start``; where there is none, the services say how a timer is started)."""
    if not tokens or tokens[0].lower() not in TIMER_WORDS:
        return None
    word, rest = tokens[0].lower(), tokens[1:]
    if rest and looks_like_duration(rest[0]) and word == "start":
        return None
    if word == "timer":
        return TimerShow()
    if word == "discard":
        return TimerDiscard()
    # A timer is dated by its start: a date or a time of day among its words is refused, never kept as note.
    if word == "stop":
        keep = bool(rest) and rest[0].lower() == "keep"
        parts = read_entry_words(rest[1:] if keep else rest, today, max_minutes, "logtime stop 2h printer fix")
        _no_date_for_a_timer(parts, "stop")
        if parts.work_type is not None:
            raise ParseError(
                "A timer's work type is named when it starts; to change it afterwards, edit the entry.",
                "logtime start acme as onsite printer fix",
            )
        if keep and parts.minutes is not None:
            raise ParseError(
                "`keep` logs the time as the timer ran: give either `keep` or the real time.", "logtime stop 2h"
            )
        return TimerStop(parts.note or None, minutes=parts.minutes, keep=keep)
    client = None
    if not client_known:
        if not rest:
            raise ParseError("Say which client the timer is for.", "logtime start acme printer fix")
        client, rest = rest[0].lower(), rest[1:]
    parts = read_entry_words(rest, today, max_minutes, f"logtime start {client or 'acme'} as onsite printer fix")
    if parts.typed is not None:
        raise timer_takes_no_duration(parts.typed, client)
    _no_date_for_a_timer(parts, "start")
    return TimerStart(client, parts.note, parts.work_type)


def timer_takes_no_duration(typed: str, client: str | None) -> ParseError:
    """``logtime start 2h acme``: a timer runs until it is stopped; time already worked is an entry."""
    handle = client or "acme"
    return ParseError(
        f"A timer takes no duration: `logtime start {handle}` runs until `logtime stop`. To log {typed} "
        "already worked, give the client, then the duration.",
        f"logtime {handle} {typed} printer fix  or  logtime start {handle} printer fix",
    )


def timer_misread(command: LogTime) -> ParseError | None:
    """``logtime start 2h acme`` reads as an entry for a client called ``start``; where there is no such
    client, this is the error to give instead of "I don't know a client called start"."""
    if command.client != "start":
        return None
    words = command.note.split()
    return timer_takes_no_duration(command.typed, words[0].lower() if words else None)


def _no_date_for_a_timer(parts: EntryWords, verb: str) -> None:
    if parts.when is not None or parts.at is not None:
        said = parts.when if parts.when is not None else f"at {parts.at:%H:%M}"
        raise ParseError(
            f"A timer is dated by its start, so `{said}` can't go with `logtime {verb}`. To log past work, "
            "give its duration and date.",
            "logtime acme 1h yesterday printer fix",
        )


def parse_logtime(tokens: list[str], today: date, max_minutes: int, client_required: bool = True) -> LogTime:
    """``<client> <duration> [when] [at HH:MM] [as <type>] [note...]``: after the client, the duration,
    the date, the time of day and the work type may stand anywhere among the note words. The client may
    be left out where the caller knows it (a channel linked to a client)."""
    example = "logtime acme 15m laptop advice"
    non_billable = any(t.lower() in NON_BILLABLE_FLAGS for t in tokens)
    words = [t for t in tokens if t.lower() not in NON_BILLABLE_FLAGS]
    if not words:
        raise ParseError("Say which client and how long.", example)
    client: str | None = None
    if not (looks_like_duration(words[0]) or is_number(words[0]) or _names_no_client(words, today)):
        client, words = words[0].lower(), words[1:]
    elif client_required:
        raise ParseError("Say which client the time is for, before the duration.", example)
    if not words:
        raise ParseError(f"Say how long you worked for {client}.", example)
    parts = read_entry_words(words, today, max_minutes, f"logtime {client or 'acme'} 1h yesterday printer fix")
    minutes, typed = _duration_of(parts, words, max_minutes)
    note = parts.note
    return LogTime(
        client, minutes, typed, parts.when, note, non_billable, find_ticket(note), parts.work_type, at=parts.at
    )


def _names_no_client(words: list[str], today: date) -> bool:
    """The first word is a key (``as``, ``at``, ``on``), a negative duration or a date: no client."""
    first = words[0].lower()
    return (
        first in ("as", "at", "on")
        or looks_like_duration(first.removeprefix("-"))
        or date_phrase_at(words, today) is not None
    )


def _duration_of(parts: EntryWords, words: list[str], max_minutes: int) -> tuple[int, str]:
    """The entry's duration; without one, what is wrong with the words where it was expected."""
    if parts.minutes is None or parts.typed is None:
        first = words[0]
        if is_number(first):
            parse_duration(first, max_minutes)  # says what is wrong: no unit, negative
        raise ParseError(
            f"There is no duration in `{' '.join(words)}`: say how long you worked.",
            "logtime acme 1h30m yesterday printer fix #1234",
        )
    return parts.minutes, parts.typed


@dataclass(frozen=True)
class EntryWords:
    """What the words after the client say: each key at most once; the other words are the note."""

    minutes: int | None
    typed: str | None
    when: str | None  # a date as ``parse_work_date`` reads it again (the client's today decides)
    at: time | None
    work_type: str | None
    note: str


def read_entry_words(words: list[str], today: date, max_minutes: int, example: str) -> EntryWords:
    """Read a duration, a date (``yesterday``, ``on friday``, ``2026-11-27``), ``at <time>`` and ``as
    <type>`` wherever they stand among ``words``; the other words, in their order, are the note.

    Each is given at most once: a second one with another value is refused, and so is a second duration
    ("two durations: 1h and 30m") or a negative one, so nothing is billed but what was meant. A date
    that lies ahead or reads two ways is refused wherever it stands (``dates.date_phrase_at``)."""
    minutes: int | None = None
    typed: str | None = None
    when: DatePhrase | None = None
    at: time | None = None
    work_type: str | None = None
    note: list[str] = []
    i = 0
    while i < len(words):
        word, following = words[i].lower(), (words[i + 1] if i + 1 < len(words) else None)
        clock = parse_clock(following) if word == "at" and following is not None else None
        if clock is not None:
            if at is not None and clock != at:
                raise ParseError(f"Two times of day: `at {at:%H:%M}` and `at {following}`; give one.", example)
            at, i = clock, i + 2
            continue
        if word == "as" and following is not None:
            kind = parse_work_type(following)
            if work_type is not None and kind != work_type:
                raise ParseError(f"Two work types: `as {work_type}` and `as {kind}`; give one.", example)
            work_type, i = kind, i + 2
            continue
        phrase = date_phrase_at(words[i:], today, after_note=bool(note))
        if phrase is not None:
            if when is not None and phrase.day != when.day:
                raise ParseError(f"Two dates: `{when.typed}` and `{phrase.typed}`; give one.", example)
            when, i = when or phrase, i + phrase.width
            continue
        width = _duration_width(words, i)
        if width:
            text = " ".join(words[i : i + width])
            if text.startswith("-"):
                raise ParseError(
                    f"`{text}`: an entry has one duration, more than zero. To correct an entry, edit it.",
                    "edit 42 30m",
                )
            if typed is not None:
                raise _two_durations(typed, text, example)
            minutes, typed, i = parse_duration(text, max_minutes), text, i + width
            continue
        note.append(words[i])
        i += 1
    return EntryWords(minutes, typed, when.typed if when else None, at, work_type, clean_note(" ".join(note)))


def _duration_width(words: list[str], i: int) -> int:
    """How many words from ``i`` make one duration (``1 hr 15 mins`` is four; ``-30m`` counts), else 0."""
    for width in range(min(4, len(words) - i), 0, -1):
        if looks_like_duration(" ".join(words[i : i + width]).removeprefix("-")):
            return width
    return 0


def _two_durations(first: str, second: str, example: str) -> ParseError:
    try:
        total = format_duration(parse_duration(first, 10**7) + parse_duration(second, 10**7)).replace(" ", "")
    except ParseError:  # one of them is no duration at all (0m): no sum to offer
        total = "1h30m"
    return ParseError(
        f"Two durations: {first} and {second}. Write the time worked once ({total} if both are meant).",
        example.replace(" 1h ", f" {total} ", 1),
    )


@declare(
    "logtime",
    usage="logtime <client> <duration> [when] [at HH:MM] [as <type>] [note...]   e.g. logtime acme 1h30m yesterday printer fix #1234"
    "  (after the client, the date, `at`, `as` and --nb may stand anywhere, each once)"
    "  |  timers: logtime start <client> [as <type>] [note...], logtime stop [keep|<duration>] [note...],"
    " logtime timer, logtime discard",
    makes={LogTime: MOVES_HOURS, TimerStart: WRITES, TimerStop: MOVES_HOURS, TimerShow: READS, TimerDiscard: WRITES},
    also={"log": ""},
)
def _logtime(tokens: list[str], today: date, max_minutes: int) -> Command:
    return parse_logtime(tokens, today, max_minutes)


@declare(
    "balance",
    usage="balance [client]   e.g. balance acme",
    makes={Balance: Facts(writes=False, role=Role.CLIENT)},
)
def _balance(tokens: list[str], today: date, max_minutes: int) -> Command:
    words = [t.lower() for t in tokens]
    public = "public" in words
    words = [w for w in words if w != "public"]
    if len(words) > 1:
        raise ParseError("`balance` takes one client at most.", VERBS["balance"].usage)
    return Balance(words[0] if words else None, public)


_TOPUP_KEYS = {
    **dict.fromkeys(("expires", "expiry", "exp", "expiring"), "expires"),
    **dict.fromkeys(("starts", "start", "from"), "starts"),
    "price": "price",
    "currency": "currency",
    **dict.fromkeys(("ref", "reference", "invoice", "po"), "ref"),
    **dict.fromkeys(("renew", "renews", "every"), "renew"),
}


@declare(
    "topup",
    usage="topup <client> <hours> [paid|unpaid] [expires YYYY-MM-DD|never] [starts YYYY-MM-DD] [price 1500]"
    " [ref|invoice INV-1001] [renew monthly|quarterly|yearly|6months] [note...]"
    "   e.g. topup acme 10 expires 2027-06-30 price 1500 ref INV-1001",
    makes={TopUp: MOVES_HOURS},
)
def _topup(tokens: list[str], today: date, max_minutes: int) -> Command:
    usage = VERBS["topup"].example
    if len(tokens) < 2:
        raise ParseError("Say which client and how many hours.", usage)
    client = tokens[0].lower()
    minutes = parse_hours(tokens[1])
    paid, words = read_payment_words(tokens[2:])
    values: dict[str, object] = {} if paid is None else {"paid": paid}
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


@declare(
    "blocks",
    usage="blocks <client>   e.g. blocks acme",
    makes={Blocks: READS},
)
def _blocks(tokens: list[str], today: date, max_minutes: int) -> Command:
    if len(tokens) != 1:
        raise ParseError("`blocks` takes one client.", "blocks acme")
    return Blocks(tokens[0].lower())


@declare(
    "block",
    usage="block paid <client> <block number> | block unpaid <client> <block number> <reason...>"
    "   e.g. block paid acme 3  (managers; unpaid: admins, with a reason)",
    makes={
        MarkPaid: Facts(writes=True, refreshes_home=True, role=Role.MANAGER),
        MarkUnpaid: Facts(writes=True, refreshes_home=True, role=Role.ADMIN),
    },
)
def _block(tokens: list[str], today: date, max_minutes: int) -> Command:
    example = VERBS["block"].example
    sub = tokens[0].lower() if tokens else ""
    if sub not in ("paid", "unpaid"):
        raise ParseError("`block` takes paid or unpaid, the client and its block number.", example)
    if len(tokens) < 3:
        raise ParseError("Say which block: the client and its block number (see `blocks acme`).", f"block {sub} acme 3")
    client, number = tokens[1].lower(), parse_id(tokens[2], "a block", f"block {sub} acme 3")
    if sub == "paid":
        if len(tokens) > 3:
            raise ParseError("`block paid` takes the client and a block number only.", "block paid acme 3")
        return MarkPaid(client, number)
    reason = clean_note(" ".join(tokens[3:]))
    if not reason:
        raise ParseError(
            "Say why the block is unpaid again: a reason is required.", "block unpaid acme 3 card charge reversed"
        )
    return MarkUnpaid(client, number, reason[:200])


@declare(
    "entries",
    usage="entries <client> [this month|last month|YYYY-MM]   e.g. entries acme last month",
    makes={Entries: READS},
)
def _entries(tokens: list[str], today: date, max_minutes: int) -> Command:
    if not tokens:
        raise ParseError("`entries` needs a client.", "entries acme last month")
    return Entries(tokens[0].lower(), parse_period(" ".join(tokens[1:]), today))


@declare(
    "void",
    usage="void <entry-id> [reason...]  or  void topup <client> <block number>   e.g. void 42 wrong client",
    makes={VoidEntry: MOVES_HOURS, VoidTopUp: MOVES_HOURS},
)
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


@declare(
    "edit",
    usage="edit <entry-id> <duration> [when] [note...]   e.g. edit 42 45m laptop setup",
    makes={EditEntry: MOVES_HOURS},
)
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
    if not words:  # only a flag: the entry's duration is still needed (an edit restates it)
        raise ParseError(
            f"Say entry {entry_id}'s duration too: an edit restates it.",
            f"edit {entry_id} 45m {' '.join(tokens[1:])}",
        )
    parts = read_entry_words(words, today, max_minutes, f"edit {entry_id} 45m yesterday laptop setup")
    minutes, typed = _duration_of(parts, words, max_minutes)
    when, note, work_type, at = parts.when, parts.note, parts.work_type, parts.at
    if at is not None:
        raise ParseError(
            "`at` is for new entries; to bill an edited entry as after-hours work, name its type.",
            f"edit {entry_id} {typed} as afterhours",
        )
    return EditEntry(entry_id, minutes, typed, when, note or None, non_billable, work_type)


CLIENT_SET_KEYS = (
    "name, rounding (15m|none), minimum (15m|none), overdraft (2h|none|unlimited), overage (carry|bill), "
    "grace (7d: days after expiry that late work may still draw from a block), "
    "client-view (on|off: the client's people may see their card with /balance in their channel), "
    "client-notes (on|off: notes shown on the client card), statement-to (#channel|none: the client-safe "
    "monthly statement), statement-email (ap@acme.example,ceo@acme.example|none: the client-safe monthly "
    "statement by e-mail), "
    "manager (@user|none), channel (#channel|none), timezone (Europe/Berlin), thresholds (50%,25%,2h,0), "
    "email (address|none), webhook (URL|none), hours (mon-fri 08:00-18:00|none: working hours; work outside "
    "them is billed as BLOCKTIME_AFTER_HOURS_TYPE), worktype (onsite 2|onsite none: this client's rate), "
    "psa-company (250|none) and psa-agreement (30|none): the client's company and agreement in the PSA, "
    "psa-ticket (5678|none): the PSA ticket for time that names no #ticket (HaloPSA and Autotask need one), "
    "psa-alert (activity|ticket|off|default: the follow-up a low balance opens in the PSA), "
    "pay-first (on|off: time draws only from paid blocks, then overage), "
    "psa-product (12|none): the PSA product a block is sold as (ConnectWise's agreement additions), "
    "monthly|quarterly|yearly (10h: a recurring allotment, a block each period) with rollover (20h|0: unused "
    "hours carried into the next period), recurring off, "
    "refill (notify|draft 10h|auto 10h [paid] [max 2 per month]: what a fall through the lowest threshold does), "
    "hold-at (2h|25%|none: past this much overage, or this share of the last block, new time is refused "
    "until someone approves more), client-approves (on|off: the client card in the client's channel lets "
    "the client's own people approve more overage), "
    "buy (10h 950 USD, 20h 1800 USD|10h none|none: the blocks the client may buy on its page, by card through "
    "Stripe)"
)

_SETTERS = {
    "overdraft": ("overdraft_minutes", parse_overdraft),
    "client-notes": ("client_notes", parse_on_off),
    "client-view": ("client_view", parse_on_off),
    "statement-to": ("statement_channel", lambda v: None if v.lower() in ("none", "off") else parse_channel(v)),
    "statement-email": ("statement_emails", parse_statement_emails),
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
    "psa-alert": ("psa_alert", parse_psa_alert),
    "pay-first": ("pay_first", parse_on_off),
    "psa-product": ("psa_product_id", lambda v: parse_psa_id(v, "psa-product")),
    "client-approves": ("client_approves", parse_on_off),
}

# settings whose one word sets several columns: the parser returns them (field name -> value)
_MULTI_SETTERS: dict[str, Callable[[str], dict[str, object]]] = {
    "hold-at": parse_hold_at,
}


@declare(
    "client",
    usage="client add <handle> <name...> | client alias <handle> <alias> | client rename <handle> <name...>"
    " | client archive|unarchive <handle> | client set <handle> <key> <value> ... | client show <handle>"
    " | clients",
    makes={
        ClientAdd: WRITES,
        ClientAlias: WRITES,
        ClientRename: WRITES,
        ClientArchive: WRITES,
        ClientSet: WRITES,
        ClientShow: READS,
        ClientList: READS,
    },
    also={"clients": "list"},
)
def _client(tokens: list[str], today: date, max_minutes: int) -> Command:
    example = VERBS["client"].usage
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
        if key in ALLOTMENT_KEYS:  # client set acme monthly 10h rollover 20h | rollover 0 | recurring off
            for name, setting in allotment_setting(key, words[i + 1] if i + 1 < len(words) else None).items():
                if name in changes and changes[name] != setting:
                    raise ParseError(f"`{key}` is given twice with different values; give it once.", example)
                changes[name] = setting
            i += 2
            continue
        if key == "refill":  # client set acme refill auto 10h [paid] [max 2 per month] (bot.domain.refills)
            refill, used = parse_refill(words[i + 1 :])
            changes.update(refill)
            i += 1 + used
            continue
        if key == "buy":  # client set acme buy 10h 950 USD, 20h 1800 USD | buy 10h none | buy none (bot.domain.offers)
            if "buy_offers" in changes:
                raise ParseError("`buy` is given twice; give every offer after one `buy`.", OFFERS_EXAMPLE)
            offers, used = parse_offer_words(words[i + 1 :])
            changes["buy_offers"] = offers
            i += 1 + used
            continue
        if key in _MULTI_SETTERS:
            if i + 1 >= len(words):
                raise ParseError(f"`{key}` needs a value.", example)
            changes.update(_MULTI_SETTERS[key](words[i + 1]))
            i += 2
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


@declare(
    "role",
    usage="role <@user> admin|manager|technician   e.g. role @sam manager",
    makes={SetRole: WRITES},
)
def _role(tokens: list[str], today: date, max_minutes: int) -> Command:
    if len(tokens) != 2:
        raise ParseError("`role` takes a user and a role.", VERBS["role"].example)
    return SetRole(parse_user(tokens[0]), Role.parse(tokens[1]))


@declare(
    "link",
    usage="link <client> [replies public|private]  (in a channel)  or  link none",
    makes={Link: WRITES},
)
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


@declare(
    "snooze",
    usage="snooze <client> [days]   e.g. snooze acme 7  (low-balance alerts)",
    makes={Snooze: WRITES},
)
def _snooze(tokens: list[str], today: date, max_minutes: int) -> Command:
    if not tokens or len(tokens) > 2:
        raise ParseError("`snooze` takes a client and, optionally, a number of days.", "snooze acme 7")
    days = tokens[1].lower().removesuffix("d") if len(tokens) == 2 else "7"
    if not (days.isascii() and days.isdigit() and 1 <= int(days) <= 90):
        raise ParseError(f"`{tokens[1]}` is not a number of days from 1 to 90.", "snooze acme 7")
    return Snooze(tokens[0].lower(), int(days))


@declare(
    "approve",
    usage="approve <client> <time>   e.g. approve acme 2h  (more overage past the client's hold; managers)",
    makes={ApproveOverage: WRITES},
)
def _approve(tokens: list[str], today: date, max_minutes: int) -> Command:
    if len(tokens) != 2:
        raise ParseError("`approve` takes a client and how much more overage to allow.", "approve acme 2h")
    return ApproveOverage(tokens[0].lower(), parse_approval(tokens[1]))


@declare(
    "report",
    usage="report <client>|--all [this month|last month|YYYY-MM|YYYY-MM..YYYY-MM]   e.g. report acme last month",
    makes={Report: SLOW_READ},
)
def _report(tokens: list[str], today: date, max_minutes: int) -> Command:
    if not tokens:
        raise ParseError("Say which client, or --all.", "report acme last month  or  report --all 2026-10")
    first = tokens[0].lower()
    client = None if first in ("--all", "all") else first
    return Report(client, parse_period(" ".join(tokens[1:]), today))


@declare(
    "statement",
    usage="statement <client> [last month|YYYY-MM] [--email]   e.g. statement acme last month --email"
    "  (the client-safe statement to the client's statement-email addresses; without --email, a preview "
    "of it shown only to you; managers)",
    makes={
        EmailStatement: Facts(writes=True, role=Role.MANAGER),
        PreviewStatement: Facts(writes=False, role=Role.MANAGER),
    },
)
def _statement(tokens: list[str], today: date, max_minutes: int) -> Command:
    emailed = any(t.lower() == "--email" for t in tokens)
    example = "statement acme last month --email" if emailed else "statement acme last month"
    words = [t for t in tokens if t.lower() != "--email"]
    if not words or words[0].startswith("-"):
        raise ParseError(
            "Say which client's statement to e-mail." if emailed else "Say which client's statement.", example
        )
    period = parse_period(" ".join(words[1:]) or "last month", today)
    if add_months(period.start, 1) != period.end:
        raise ParseError("A statement is of one month; name one (several months: `report`).", example)
    if emailed:
        return EmailStatement(words[0].lower(), period)
    return PreviewStatement(words[0].lower(), period)


@declare(
    "insights",
    usage="insights   (clients for whom a flat-fee agreement makes most sense)",
    makes={Insights: SLOW_READ},
)
def _insights(tokens: list[str], today: date, max_minutes: int) -> Command:
    return Insights()


@declare(
    "worktype",
    usage="worktype add <name> <multiplier> | worktype list | worktype archive <name>"
    "   e.g. worktype add onsite 1.5  (then: logtime acme 1h as onsite printer fix)",
    makes={WorkTypeAdd: WRITES, WorkTypeList: READS, WorkTypeArchive: WRITES},
    also={"worktypes": ""},
)
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


@declare(
    "nudges",
    usage="nudges off|on   (a DM on workdays about ticket threads you replied in without logging time)",
    makes={NudgesSet: WRITES},
)
def _nudges(tokens: list[str], today: date, max_minutes: int) -> Command:
    words = [t.lower() for t in tokens]
    if words in (["on"], ["off"]):
        return NudgesSet(words[0] == "on")
    raise ParseError("`nudges` takes on or off.", "nudges off")


SHARE_WRITES = Facts(writes=True, role=Role.MANAGER)


@declare(
    "share",
    usage="share <client> [days] | share list | share revoke <client> [id]"
    "   e.g. share acme 90d  (a private page link for the client; managers)",
    makes={ShareCreate: SHARE_WRITES, ShareList: Facts(writes=False, role=Role.MANAGER), ShareRevoke: SHARE_WRITES},
)
def _share(tokens: list[str], today: date, max_minutes: int) -> Command:
    words = [t.lower() for t in tokens]
    if words == ["list"]:
        return ShareList()
    if words and words[0] == "revoke" and len(words) in (2, 3):
        return ShareRevoke(words[1], parse_id(words[2], "a link", "share revoke acme 3") if len(words) == 3 else None)
    if len(words) in (1, 2) and words[0] not in ("list", "revoke"):
        return ShareCreate(words[0], _share_days(words[1]) if len(words) == 2 else None)
    raise ParseError(
        "`share` takes a client and, optionally, how many days the link lasts; or list; or revoke <client> [id].",
        "share acme 90d",
    )


def _share_days(word: str) -> int:
    days = word.removesuffix("days").removesuffix("d")
    if not (days.isascii() and days.isdigit() and 1 <= int(days) <= 3650):
        raise ParseError(f"`{word}` is not a number of days from 1 to 3650.", "share acme 90d")
    return int(days)


@declare(
    "help",
    usage="help [command]",
    makes={Help: READS},
)
def _help(tokens: list[str], today: date, max_minutes: int) -> Command:
    return Help(tokens[0].lower() if tokens else "")
