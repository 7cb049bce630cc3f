"""Time lines in ticket threads: ``+30m replaced toner`` or ``time: 1h15m rebuilt profile``.

``parse_thread_line`` returns ``None`` for ordinary chat (including a lone ``+1``), a
:class:`LogTime` without a client for a time line, and raises :class:`ParseError` for a line that
looks like time but cannot be read, so the author can be told why."""

from __future__ import annotations

import re
from datetime import date

from bot.domain.commands import LogTime
from bot.domain.durations import DEFAULT_MAX_MINUTES
from bot.domain.errors import ParseError
from bot.domain.grammar import parse_logtime

_PLUS = re.compile(r"^\+\s*(?=[\d.:])", re.ASCII)
_TIME_PREFIX = re.compile(r"^time\s*:\s*", re.IGNORECASE)
# "+1" and "+1 agreed" are chat, "+1 hr fixed" is time.
_AGREEMENT = re.compile(r"^\+1(?:[!.]*$|\s+(?!(?:h|hrs?|hours?|m|mins?|minutes?)\b)[^\d\s])", re.IGNORECASE)
EXAMPLE = "+30m replaced toner  or  time: 1h15m rebuilt profile"


def parse_thread_line(text: str, today: date, max_minutes: int = DEFAULT_MAX_MINUTES) -> LogTime | None:
    line = text.strip()
    if _AGREEMENT.match(line):
        return None
    plus = _PLUS.match(line)
    prefix = plus or _TIME_PREFIX.match(line)
    if prefix is None:
        return None
    words = line[prefix.end() :].split()
    if not words:
        raise ParseError("That looks like a time entry, but the duration is missing.", EXAMPLE)
    try:
        parsed = parse_logtime(words, today, max_minutes, client_required=False)
    except ParseError as error:
        raise ParseError(f"Not logged: {error.message}", EXAMPLE) from None
    if parsed.client is not None:
        raise ParseError("Not logged: start with the duration; this channel already names the client.", EXAMPLE)
    return parsed
