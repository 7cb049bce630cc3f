"""Pure payload builders: outbox facts -> a Slack message, an e-mail, a webhook body. No I/O here, so
each format is tested by calling the builder."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.blockkit import balance_line, context, escape, lines_as_sections, section, to_dicts
from bot.domain.durations import format_duration
from bot.render import per_week, statement_lines

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


def _who(facts: dict[str, Any]) -> str:
    manager = facts.get("account_manager")
    return f"<@{manager}>" if manager else "Account managers"


def _name(facts: dict[str, Any]) -> str:
    return escape(str(facts.get("display_name") or facts.get("client")))


def threshold_text(facts: dict[str, Any]) -> str:
    remaining = int(facts["remaining_minutes"])
    if remaining < 0:
        return f"{facts.get('display_name')} is overdrawn by {format_duration(-remaining)}{_limit(facts)}."
    state = "has used up its hours" if remaining == 0 else "is running low"
    pct = f" ({facts['percent_left']}%)" if facts.get("percent_left") is not None else ""
    return f"{facts.get('display_name')} {state}: {format_duration(remaining)} left{pct}."


def _limit(facts: dict[str, Any]) -> str:
    """`` (limit 2h)``: the client's overdraft, when the facts carry it (older alerts do not)."""
    if "overdraft_minutes" not in facts:
        return ""
    limit = facts["overdraft_minutes"]
    return " (no limit)" if limit is None else f" (limit {format_duration(int(limit))})"


def _run_out(facts: dict[str, Any]) -> str:
    """A projected run-out date means nothing to a client already out of hours."""
    if int(facts["remaining_minutes"]) <= 0:
        return "hours used up"
    return str(facts.get("run_out_on") or "not at the current pace")


def slack_message(facts: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """``(text, blocks)`` for any outbox kind."""
    kind = facts["kind"]
    builder = {
        "threshold": _threshold_blocks,
        "expiry": _expiry_blocks,
        "renewal": _renewal_blocks,
        "digest": _digest_blocks,
        "statement": _statement_blocks,
        "client_statement": _statement_blocks,  # its facts are already client-safe
        "nudge": _nudge_blocks,
        "timer_check": _timer_check_blocks,
    }[kind]
    text, blocks = builder(facts)
    return text, to_dicts(blocks)


def _threshold_blocks(facts: dict[str, Any]) -> tuple[str, list[Block]]:
    remaining = int(facts["remaining_minutes"])
    icon = ":red_circle:" if remaining <= 0 else ":warning:"
    if remaining < 0:
        head = f"{icon} *{_name(facts)}* is overdrawn by *{format_duration(-remaining)}*{_limit(facts)}"
    else:
        head = (
            f"{icon} *{_name(facts)}* crossed the *{facts['threshold']}* threshold: "
            f"{balance_line(remaining, facts.get('percent_left'))}"
        )
    burn = facts.get("burn_per_day_minutes") or "0"
    lines = [
        f"Used in the last 30 days: *{format_duration(int(facts['used_30d_minutes']))}*",
        f"Burn rate: {per_week(str(burn))} h/week",
        f"Projected run-out: *{_run_out(facts)}*",
        f"Next block expiry: {facts.get('next_expiry') or 'none'}",
    ]
    blocks: list[Block] = [
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
    return threshold_text(facts), blocks


def _expiry_blocks(facts: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (
        f"{facts.get('display_name')}: {format_duration(int(facts['forfeited_minutes']))} of block "
        f"{facts.get('block_number') or facts['block_id']} forfeited (expired {facts['expires_on']})."
    )
    return text, [
        section(
            f":hourglass: *{_name(facts)}*: {format_duration(int(facts['forfeited_minutes']))} unused of a "
            f"{format_duration(int(facts['block_minutes']))} block expired on {facts['expires_on']} and were "
            f"forfeited. Balance now {format_duration(int(facts['remaining_minutes']))}."
        ),
        context(f"{_who(facts)}: a reason to call."),
    ]


def _renewal_blocks(facts: dict[str, Any]) -> tuple[str, list[Block]]:
    expires = f", expires {facts['expires_on']}" if facts.get("expires_on") else ""
    text = f"{facts.get('display_name')}: renewed with {format_duration(int(facts['minutes']))}{expires}."
    return text, [
        section(
            f":repeat: *{_name(facts)}* renewed: new block {facts.get('block_number') or facts['block_id']} of "
            f"{format_duration(int(facts['minutes']))} from {facts['start_on']}{expires}. "
            f"Balance now {format_duration(int(facts['remaining_minutes']))}."
        )
    ]


def _digest_blocks(facts: dict[str, Any]) -> tuple[str, list[Block]]:
    low = [f"• *{escape(c['display_name'])}*: {format_duration(c['remaining_minutes'])} left" for c in facts["low"]]
    over = [f"• *{escape(c['display_name'])}*: {format_duration(c['remaining_minutes'])}" for c in facts["overdrawn"]]
    expiring = [
        f"• *{escape(b['display_name'])}*: {format_duration(b['remaining_minutes'])} unused, block expires {b['expires_on']}"
        for b in facts["expiring"]
    ]
    lines = [f"*Daily digest for {facts['date']}*"]
    lines += ["*Below their lowest threshold*", *(low or ["none"])]
    lines += ["*Overdrawn*", *(over or ["none"])]
    lines += ["*Expiring within 30 days with unused hours* (use them or lose them)", *(expiring or ["none"])]
    soon = f"{len(expiring)} block{'' if len(expiring) == 1 else 's'}"
    text = f"Daily digest: {len(low)} low, {len(over)} overdrawn, {soon} expiring soon."
    return text, lines_as_sections(lines)


def _statement_blocks(facts: dict[str, Any]) -> tuple[str, list[Block]]:
    lines = [f"*{escape(line)}*" if i == 0 else escape(line) for i, line in enumerate(statement_lines(facts))]
    text = (
        f"Statement for {facts.get('display_name')}, {facts['period']}: used {format_duration(facts['used_minutes'])}."
    )
    return text, lines_as_sections(lines)


def email_message(facts: dict[str, Any]) -> tuple[str, str]:
    """``(subject, body)`` in plain text."""
    text, _ = slack_message(facts)
    if facts["kind"] != "threshold":
        return f"[blocktime] {text}", text
    body = "\n".join(
        [
            threshold_text(facts),
            f"Threshold crossed: {facts['threshold']}",
            f"Used in the last 30 days: {format_duration(int(facts['used_30d_minutes']))}",
            f"Projected run-out: {_run_out(facts)}",
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


def _nudge_blocks(facts: dict[str, Any]) -> tuple[str, list[Block]]:
    """A staff member's DM about ticket threads they replied in without logging time: one Log time
    button per thread, opening the form pre-filled for it."""
    threads = facts["threads"]
    count = int(facts["count"])
    named = ", ".join(f"{t['client']}: thread of {t['started']}" for t in threads[:3])
    more = "…" if count > 3 else ""
    plural = "thread" if count == 1 else "threads"
    text = f"You replied in {count} ticket {plural} today ({named}{more}) and logged no time."
    blocks: list[Block] = [section(f":stopwatch: {escape(text)}")]
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
    return text, blocks


def _timer_check_blocks(facts: dict[str, Any]) -> tuple[str, list[Block]]:
    """A timer that ran past the limit asks its owner before it is logged."""
    ran = format_duration(int(facts["minutes"]))
    text = (
        f"Your timer for {facts['display_name']} has been running {ran} (since {facts['since']}). Was it left running?"
    )
    start = str(facts["started_at"])
    return text, [
        section(f":alarm_clock: {escape(text)}"),
        ActionsBlock(
            elements=[
                ButtonElement(text=f"Keep {ran}", action_id=TIMER_KEEP_ACTION, value=start),
                ButtonElement(text="Enter the real time", action_id=TIMER_FIX_ACTION, value=start, style="primary"),
                ButtonElement(text="Discard", action_id=TIMER_DISCARD_ACTION, value=start, style="danger"),
            ]
        ),
        context("Nothing is logged until you choose."),
    ]
