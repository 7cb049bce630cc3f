"""Field values as typed: handles, mentions, notes, tickets, hours, prices and the settings' words. Shared
by the command grammar, the modal forms and the configuration, each with a friendly error and an example."""

from __future__ import annotations

import re
import unicodedata
from datetime import time
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.durations import (
    format_duration,
    looks_like_duration,
    parse_duration,
)
from bot.domain.errors import ParseError

HANDLE = re.compile(r"^[a-z][a-z0-9._-]{0,31}$")


NON_BILLABLE_FLAGS = {"--nb", "non-billable", "nonbillable", "--non-billable"}


BILLABLE_FLAGS = {"--billable", "billable"}  # an edit that makes a non-billable entry billable again


_TICKET = re.compile(r"(?<![\w&])#(\d{1,10})\b", re.ASCII)
# an Autotask ticket number, as its technicians quote it (T20261125.0042), with or without a #
_TICKET_NUMBER = re.compile(r"(?<![\w&.])#?(T\d{8}\.\d{4})(?![\w.])", re.ASCII)


_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


_CHANNEL_MENTION = re.compile(r"^<#([CGD][A-Z0-9]+)(?:\|[^>]*)?>$")


_SLACK_ID = re.compile(r"^[UWCGD][A-Z0-9]{2,}$")


_UNLIMITED_HOURS = 10**7


_DECIMAL = re.compile(r"^\d+(?:\.\d+)?$", re.ASCII)


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


NOTE_LIMIT = 2000


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_JOINERS = "\u200c\u200d"  # ZWNJ, ZWJ
_BLACK_FLAG, _CANCEL_TAG = "\U0001f3f4", "\U000e007f"


def _joins(char: str) -> bool:
    """A visible character a joiner may sit next to: emoji, their modifiers and other scripts' letters."""
    return not char.isascii() and not char.isspace() and unicodedata.category(char)[0] not in "CZ"


def _drop_format_characters(text: str) -> str:
    """Unicode's invisible format characters (category Cf: U+202E and the other bidi overrides,
    U+200B zero width space, U+FEFF, U+2060...) dropped, but those that legitimate text needs:
    ZWJ and ZWNJ between two visible non-ASCII characters (emoji sequences such as woman + ZWJ +
    laptop, Indic and Persian spelling) and the tag characters of a subdivision flag (🏴 + tags + cancel tag)."""
    kept: list[str] = []
    for i, char in enumerate(text):
        if unicodedata.category(char) != "Cf":
            kept.append(char)
        elif char in _JOINERS:
            if 0 < i < len(text) - 1 and _joins(text[i - 1]) and _joins(text[i + 1]):
                kept.append(char)
        elif "\U000e0020" <= char <= _CANCEL_TAG and kept:
            before = kept[-1]
            if before == _BLACK_FLAG or ("\U000e0020" <= before < _CANCEL_TAG):
                kept.append(char)
    return "".join(kept)


def clean_note(text: str) -> str:
    """A note as stored: control characters and invisible format characters dropped (line breaks and
    the joiners of emoji kept), at most ``NOTE_LIMIT`` characters."""
    cleaned = _drop_format_characters(_CONTROL.sub("", text.replace("\t", " "))).strip()
    if len(cleaned) > NOTE_LIMIT:
        raise ParseError(
            f"The note has {len(cleaned):,} characters; a note is at most {NOTE_LIMIT:,}. Shorten it, or put the "
            "details in the ticket and name it (#1234).",
            "logtime acme 1h printer fix #1234",
        )
    return cleaned


# Slack's markup in the text it sends: <@U123>, <#C123|general>, <!here>, <https://x.example|label>
_MARKUP = re.compile(r"<([@#!][^<>|\s]+|[a-zA-Z][a-zA-Z0-9+.-]*:[^<>|\s]+)(?:\|([^<>]*))?>")


def _plain_link(found: re.Match[str]) -> str:
    target, label = found[1], (found[2] or "").strip()
    if target[0] in "@#":
        return target[0] + (label.lstrip("@#") or target[1:])
    if target[0] == "!":  # <!here>, <!subteam^S1|@oncall>, <!date^...|fallback>
        return label or "@" + target[1:].split("^")[0]
    shown = target.removeprefix("mailto:")
    same = {shown.rstrip("/"), shown.split("://", 1)[-1].rstrip("/")}
    return shown if not label or label.rstrip("/") in same else f"{label} ({shown})"


def plain_markup(text: str) -> str:
    """User text with Slack's markup as the plain words it stands for, for readers outside the MSP:
    ``<@U123|sam>`` is @sam, ``<#C1|general>`` #general, ``<!here>`` @here, and a link is its URL,
    after its label when that differs: a label never stands in for the URL it hides."""
    return _MARKUP.sub(_plain_link, text)


def find_ticket(note: str) -> str | None:
    """The ticket a note names: ``#1234``, else an Autotask ticket number ``T20261125.0042``."""
    found = _TICKET.search(note)
    if found:
        return f"#{found[1]}"
    number = _TICKET_NUMBER.search(note)
    return number[1] if number else None


def is_number(text: str) -> bool:
    return bool(_DECIMAL.match(text.lstrip("+-")))


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


def parse_id(text: str, what: str, example: str) -> int:
    cleaned = text.lstrip("#")
    if not (cleaned.isascii() and cleaned.isdigit()) or int(cleaned) == 0 or len(cleaned) > 12:
        raise ParseError(f"`{text}` is not {what} number.", example)
    return int(cleaned)


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


def _setting_duration(
    key: str, text: str, example: str, longest: int = _UNLIMITED_HOURS, no_limit: str | None = None
) -> int:
    """A duration setting, by one rule for all of them: a unit is required (``15m``, ``2h``), and
    errors speak of the setting, with an example of it. ``no_limit``: the word for no limit at all
    (``unlimited``), offered for a value above the largest one taken."""
    word = text.strip().lower()
    if is_number(word):
        raise ParseError(f"`{key} {text}` has no unit: write {word}m or {word}h.", example)
    if word.startswith("-"):
        raise ParseError(f"`{key} {text}`: {key} can't be negative.", example)
    try:
        minutes = parse_duration(word, max_minutes=_UNLIMITED_HOURS)
    except ParseError:
        if _too_large(word):
            raise ParseError(
                f"`{key} {text}` is more than the largest {key}, {format_duration(_UNLIMITED_HOURS)}"
                + (f"; for no limit at all, write `{key} {no_limit}`." if no_limit else "."),
                f"{key} {no_limit}" if no_limit else example,
            ) from None
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


def _too_large(word: str) -> bool:
    try:
        return parse_duration(word, max_minutes=10**18) > _UNLIMITED_HOURS
    except ParseError:  # zero, or no duration at all
        return False


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
    return _setting_duration(
        "overdraft", text, "overdraft 2h, overdraft none or overdraft unlimited", no_limit="unlimited"
    )


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


def parse_email(text: str) -> str:
    address = text.removeprefix("<mailto:").split("|")[0].rstrip(">")
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", address):
        raise ParseError(f"`{text}` is not an e-mail address.", "client set acme email am@msp.example")
    return address


STATEMENT_EMAIL_EXAMPLE = "client set acme statement-email ap@acme.example,ceo@acme.example"
MOST_STATEMENT_EMAILS = 10
LONGEST_ADDRESS = 150


def parse_statement_emails(text: str) -> str | None:
    """``ap@acme.example,ceo@acme.example`` (or ``none``/``off``: no e-mail): the addresses, each checked,
    lower-cased, without repeats, joined by commas as stored; a bad one is named in the error."""
    if text.lower() in ("none", "off"):
        return None
    found: list[str] = []
    for part in text.split(","):
        word = part.strip()
        address = word.removeprefix("<mailto:").split("|")[0].rstrip(">")
        if not word:
            raise ParseError("An address is missing between two commas.", STATEMENT_EMAIL_EXAMPLE)
        if not re.fullmatch(r"[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"'.]+", address):
            raise ParseError(f"`{word}` is not an e-mail address.", STATEMENT_EMAIL_EXAMPLE)
        if len(address) > LONGEST_ADDRESS:
            raise ParseError(f"`{address}` is longer than {LONGEST_ADDRESS} characters.", STATEMENT_EMAIL_EXAMPLE)
        if address.lower() not in found:
            found.append(address.lower())
    if len(found) > MOST_STATEMENT_EMAILS:
        raise ParseError(f"At most {MOST_STATEMENT_EMAILS} addresses get the statement.", STATEMENT_EMAIL_EXAMPLE)
    return ",".join(found)


def statement_emails_of(stored: str | None) -> list[str]:
    """The addresses a client's ``statement_emails`` column holds (none: an empty list)."""
    return [a for a in (stored or "").split(",") if a]


def parse_url(text: str) -> str:
    url = text.strip("<>").split("|")[0]
    if not re.fullmatch(r"https?://[^\s]+", url):
        raise ParseError(f"`{text}` is not an http(s) URL.", "client set acme webhook https://psa.example/hook")
    return url


def parse_psa_id(text: str, key: str) -> str | None:
    """A PSA record's id (a whole number, as ConnectWise's, Halo's and Autotask's are), or ``none``."""
    if text.lower() in ("none", "off"):
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 12):
        raise ParseError(
            f"`{key}` takes the PSA's id (a number) or none, not `{text}`.",
            "client set acme psa-company 250 psa-agreement 30",
        )
    return text
