"""The outbox's words, for every channel: the plain-text summary of each kind of notice (the Slack
message's fallback text and an e-mail's subject), the e-mail, and the webhook body. Pure: no I/O.
The Slack layout (blocks, buttons) is the Slack edge's: ``handlers.views.outbox``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from bot.domain.dates import recorded_words
from bot.domain.durations import format_duration


def threshold_text(facts: dict[str, Any]) -> str:
    remaining = int(facts["remaining_minutes"])
    if remaining < 0:
        return f"{facts.get('display_name')} is overdrawn by {format_duration(-remaining)}{limit_text(facts)}."
    state = "has used up its hours" if remaining == 0 else "is running low"
    pct = f" ({facts['percent_left']}%)" if facts.get("percent_left") is not None else ""
    return f"{facts.get('display_name')} {state}: {format_duration(remaining)} left{pct}."


def limit_text(facts: dict[str, Any]) -> str:
    """`` (limit 2h)``: the client's overdraft, when the facts carry it (older alerts do not)."""
    if "overdraft_minutes" not in facts:
        return ""
    limit = facts["overdraft_minutes"]
    return " (no limit)" if limit is None else f" (limit {format_duration(int(limit))})"


def run_out(facts: dict[str, Any]) -> str:
    """A projected run-out date means nothing to a client already out of hours."""
    if int(facts["remaining_minutes"]) <= 0:
        return "hours used up"
    return str(facts.get("run_out_on") or "not at the current pace")


def _expiry_text(facts: dict[str, Any]) -> str:
    return (
        f"{facts.get('display_name')}: {format_duration(int(facts['forfeited_minutes']))} of block "
        f"{facts.get('block_number') or facts['block_id']} forfeited (expired {facts['expires_on']})."
    )


def _renewal_text(facts: dict[str, Any]) -> str:
    expires = f", expires {facts['expires_on']}" if facts.get("expires_on") else ""
    return f"{facts.get('display_name')}: renewed with {format_duration(int(facts['minutes']))}{expires}."


def _digest_text(facts: dict[str, Any]) -> str:
    soon = len(facts["expiring"])
    failed = (facts.get("psa") or {}).get("failed_count", 0)
    return (
        f"Daily digest: {len(facts['low'])} low, {len(facts['overdrawn'])} overdrawn, "
        f"{soon} block{'' if soon == 1 else 's'} expiring soon"
        + (f", {failed} {'entry' if failed == 1 else 'entries'} not in {facts['psa']['name']}." if failed else ".")
    )


def used_label(facts: dict[str, Any]) -> str:
    """``used (recorded this month)``: a statement counts work by the day it was recorded, not the
    work date (facts queued before they carried the period's bounds say "in the period")."""
    if "start" not in facts or "end" not in facts:
        return "used (recorded in the period)"
    return f"used ({recorded_words(date.fromisoformat(facts['start']), date.fromisoformat(facts['end']))})"


def _statement_text(facts: dict[str, Any]) -> str:
    return (
        f"Statement for {facts.get('display_name')}, {facts['period']}: "
        f"{used_label(facts)} {format_duration(facts['used_minutes'])}."
    )


def _nudge_text(facts: dict[str, Any]) -> str:
    threads, count = facts["threads"], int(facts["count"])
    named = ", ".join(f"{t['client']}: thread of {t['started']}" for t in threads[:3])
    more = "…" if count > 3 else ""
    return f"You replied in {count} ticket {'thread' if count == 1 else 'threads'} today ({named}{more}) and logged no time."


def _timer_check_text(facts: dict[str, Any]) -> str:
    ran = format_duration(int(facts["minutes"]))
    return (
        f"Your timer for {facts['display_name']} has been running {ran} (since {facts['since']}). Was it left running?"
    )


SUMMARIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "threshold": threshold_text,
    "expiry": _expiry_text,
    "renewal": _renewal_text,
    "digest": _digest_text,
    "statement": _statement_text,
    "client_statement": _statement_text,
    "nudge": _nudge_text,
    "timer_check": _timer_check_text,
}


def summary(facts: dict[str, Any]) -> str:
    """One line of plain text for any outbox kind."""
    return SUMMARIES[facts["kind"]](facts)


def email_message(facts: dict[str, Any]) -> tuple[str, str]:
    """``(subject, body)`` in plain text."""
    text = summary(facts)
    if facts["kind"] != "threshold":
        return f"[blocktime] {text}", text
    body = "\n".join(
        [
            threshold_text(facts),
            f"Threshold crossed: {facts['threshold']}",
            f"Used in the last 30 days: {format_duration(int(facts['used_30d_minutes']))}",
            f"Projected run-out: {run_out(facts)}",
            f"Next block expiry: {facts.get('next_expiry') or 'none'}",
            "",
            f"Top up in Slack: /topup {facts['client']} 10",
        ]
    )
    return f"[blocktime] {threshold_text(facts)}", body


def webhook_body(facts: dict[str, Any], outbox_id: int) -> bytes:
    """The JSON a PSA or automation receives; ``id`` lets the receiver drop a repeated delivery."""
    event = {"threshold": "blocktime.threshold_crossed"}.get(facts["kind"], f"blocktime.{facts['kind']}")
    return json.dumps({"id": outbox_id, "event": event, "data": facts}, sort_keys=True).encode()
