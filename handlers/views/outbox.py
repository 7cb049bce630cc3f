"""The outbox's Slack messages: facts -> ``(text, blocks)``, with the buttons of alerts, nudges and
timers. Pure (no I/O), so each is tested by calling it. The text is ``bot.phrasebook.summary`` (the
words an e-mail uses too); ``bot.bootstrap`` gives ``slack_message`` to the Slack transport."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.domain.durations import format_duration
from bot.phrasebook import limit_text, per_week, run_out, statement_lines, summary
from handlers.views.blockkit import (
    MESSAGE_BLOCKS,
    balance_line,
    context,
    escape,
    lines_as_sections,
    section,
    to_dicts,
)

THREADS_SHOWN = 20  # one section with a button per thread; a message holds 50 blocks

ADD_HOURS_ACTION = "alert_add_hours"
SNOOZE_ACTION = "alert_snooze"
ENTRIES_ACTION = "alert_entries"
CHART_ACTION = "alert_chart"
NUDGE_LOG_ACTION = "nudge_log_time"  # value: {"channel", "thread_ts", "date"} of the thread
TIMER_KEEP_ACTION = "timer_keep"  # value: the timer's start (ISO), so a newer timer is not the one logged
TIMER_FIX_ACTION = "timer_fix"
TIMER_STOP_ACTION = "timer_stop"
TIMER_DISCARD_ACTION = "timer_discard"
PSA_RETRY_ACTION = "psa_retry"  # the digest's Retry of entries that did not reach the PSA


def _who(facts: dict[str, Any]) -> str:
    manager = facts.get("account_manager")
    return f"<@{manager}>" if manager else "Account managers"


def _name(facts: dict[str, Any]) -> str:
    return escape(str(facts.get("display_name") or facts.get("client")))


def slack_message(facts: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """``(text, blocks)`` for any outbox kind; the text escaped as the blocks are (a notification
    shows it: a client named ``Acme <!channel>`` must not ping anyone)."""
    return escape(summary(facts)), to_dicts(LAYOUTS[facts["kind"]](facts))


def _threshold(facts: dict[str, Any]) -> list[Block]:
    remaining = int(facts["remaining_minutes"])
    icon = ":red_circle:" if remaining <= 0 else ":warning:"
    if remaining < 0:
        head = f"{icon} *{_name(facts)}* is overdrawn by *{format_duration(-remaining)}*{limit_text(facts)}"
    else:
        head = (
            f"{icon} *{_name(facts)}* crossed the *{facts['threshold']}* threshold: "
            f"{balance_line(remaining, facts.get('percent_left'))}"
        )
    burn = facts.get("burn_per_day_minutes") or "0"
    lines = [
        f"Used in the last 30 days: *{format_duration(int(facts['used_30d_minutes']))}*",
        f"Burn rate: {per_week(str(burn))} h/week",
        f"Projected run-out: *{run_out(facts)}*",
        f"Next block expiry: {facts.get('next_expiry') or 'none'}",
    ]
    return [
        section(head),
        section("\n".join(lines)),
        context(f"{_who(facts)}: time to talk to {_name(facts)} about more hours."),
        ActionsBlock(
            elements=[
                ButtonElement(text="Add hours", action_id=ADD_HOURS_ACTION, value=facts["client"], style="primary"),
                ButtonElement(text="Snooze 7 days", action_id=SNOOZE_ACTION, value=facts["client"]),
                ButtonElement(text="Entries", action_id=ENTRIES_ACTION, value=facts["client"]),
                ButtonElement(text="Burn-down chart", action_id=CHART_ACTION, value=facts["client"]),
            ]
        ),
    ]


def _expiry(facts: dict[str, Any]) -> list[Block]:
    return [
        section(
            f":hourglass: *{_name(facts)}*: {format_duration(int(facts['forfeited_minutes']))} unused of a "
            f"{format_duration(int(facts['block_minutes']))} block expired on {facts['expires_on']} and were "
            f"forfeited. Balance now {format_duration(int(facts['remaining_minutes']))}."
        ),
        context(f"{_who(facts)}: a reason to call."),
    ]


def _renewal(facts: dict[str, Any]) -> list[Block]:
    expires = f", expires {facts['expires_on']}" if facts.get("expires_on") else ""
    return [
        section(
            f":repeat: *{_name(facts)}* renewed: new block {facts.get('block_number') or facts['block_id']} of "
            f"{format_duration(int(facts['minutes']))} from {facts['start_on']}{expires}. "
            f"Balance now {format_duration(int(facts['remaining_minutes']))}."
        )
    ]


def _low(client: dict[str, Any]) -> str:
    """A low client's line: what is left and the threshold it is at or under (digests queued before
    the threshold was in their facts say what is left only)."""
    left = int(client["remaining_minutes"])
    if left == 0:
        return "hours used up"
    under = f" (at or under {client['threshold']})" if client.get("threshold") else ""
    return f"{format_duration(left)} left{under}"


def _digest(facts: dict[str, Any]) -> list[Block]:
    low = [f"• *{escape(c['display_name'])}*: {_low(c)}" for c in facts["low"]]
    over = [f"• *{escape(c['display_name'])}*: {format_duration(c['remaining_minutes'])}" for c in facts["overdrawn"]]
    expiring = [
        f"• *{escape(b['display_name'])}*: {format_duration(b['remaining_minutes'])} unused, block expires {b['expires_on']}"
        for b in facts["expiring"]
    ]
    lines = [f"*Daily digest for {facts['date']}*"]
    lines += ["*Low: at or under their lowest threshold above zero*", *(low or ["none"])]
    lines += ["*Overdrawn*", *(over or ["none"])]
    lines += ["*Expiring within 30 days with unused hours* (use them or lose them)", *(expiring or ["none"])]
    psa = facts.get("psa")
    if not psa or not psa["failed_count"]:
        return lines_as_sections(lines)
    lines.append(f"*Entries that did not reach {escape(psa['name'])}* ({psa['failed_count']})")
    lines += [
        f"• #{f['entry_id']} `{f['client']}` {escape(f['user_name'])}, {format_duration(f['minutes'])} on "
        f"{f['work_date']}: {escape(f['error'])}"
        for f in psa["failed"]
    ]
    if psa["failed_count"] > len(psa["failed"]):
        lines.append(f"…and {psa['failed_count'] - len(psa['failed'])} more (`blocktime psa retry`).")
    retry = ActionsBlock(
        block_id="psa_retry",
        elements=[ButtonElement(text="Retry", action_id=PSA_RETRY_ACTION, value="all", style="primary")],
    )
    return [*lines_as_sections(lines, MESSAGE_BLOCKS - 1), retry]


def _statement(facts: dict[str, Any]) -> list[Block]:
    lines = [f"*{escape(line)}*" if i == 0 else escape(line) for i, line in enumerate(statement_lines(facts))]
    return lines_as_sections(lines)


def _nudge(facts: dict[str, Any]) -> list[Block]:
    """A staff member's DM about ticket threads they replied in without logging time: one Log time
    button per thread, opening the form pre-filled for it."""
    threads, count = facts["threads"], int(facts["count"])
    blocks: list[Block] = [section(f":stopwatch: {escape(summary(facts))}")]
    for thread in threads[:THREADS_SHOWN]:
        value = json.dumps({"channel": thread["channel"], "thread_ts": thread["thread_ts"], "date": facts["date"]})
        blocks.append(
            section(
                f"*{escape(thread['display_name'])}* (`{thread['client']}`): thread of {thread['started']} in "
                f"<#{thread['channel']}>",
                accessory=ButtonElement(text="Log time", action_id=NUDGE_LOG_ACTION, value=value),
            )
        )
    if count > THREADS_SHOWN:
        blocks.append(context(f"…and {count - THREADS_SHOWN} more threads."))
    blocks.append(context("Not billable? Nothing to do. `/blocktime nudges off` stops these messages."))
    return blocks


def _timer_check(facts: dict[str, Any]) -> list[Block]:
    """A timer that ran past the limit asks its owner before it is logged."""
    ran = format_duration(int(facts["minutes"]))
    start = str(facts["started_at"])
    return [
        section(f":alarm_clock: {escape(summary(facts))}"),
        ActionsBlock(
            elements=[
                ButtonElement(text=f"Keep {ran}", action_id=TIMER_KEEP_ACTION, value=start),
                ButtonElement(text="Enter the real time", action_id=TIMER_FIX_ACTION, value=start, style="primary"),
                ButtonElement(text="Discard", action_id=TIMER_DISCARD_ACTION, value=start, style="danger"),
            ]
        ),
        context("Nothing is logged until you choose."),
    ]


LAYOUTS: dict[str, Callable[[dict[str, Any]], list[Block]]] = {
    "threshold": _threshold,
    "expiry": _expiry,
    "renewal": _renewal,
    "digest": _digest,
    "statement": _statement,
    "client_statement": _statement,  # its facts are already client-safe
    "nudge": _nudge,
    "timer_check": _timer_check,
}
