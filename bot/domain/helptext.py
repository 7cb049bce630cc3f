"""The help: what `help` shows, read from each verb's declared usage line (``bot.domain.grammar``)."""

from __future__ import annotations

from bot.domain.errors import ParseError
from bot.domain.grammar import CLIENT_SET_KEYS, VERBS, verb_named


def help_text(topic: str = "") -> str:
    verb = verb_named(topic) if topic else None
    if verb is not None:
        return verb.usage
    if topic:
        raise ParseError(f"There is no command `{topic}`. Commands: {', '.join(VERBS)}.", "help logtime")
    lines = ["blocktime commands:"] + [f"• {verb.usage}" for verb in VERBS.values()]
    lines.append(f"client set keys: {CLIENT_SET_KEYS}")
    lines.append("Durations: 15m, 45 minutes, 1h, 1.5h, 1h30m, 1 hr 15 mins, 1:30. Add --nb for non-billable.")
    return "\n".join(lines)
