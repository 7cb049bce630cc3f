"""The outbox's Slack messages: a notice -> ``(text, blocks)``, with the buttons of alerts, nudges and
timers; one registered layout per notice type (``layout``). Pure (no I/O), so each is tested by
calling it. The text is ``bot.phrasebook.summary`` (the words an e-mail uses too); ``bot.bootstrap``
gives ``slack_message`` to the Slack transport."""

from __future__ import annotations

import json
from functools import singledispatch
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.domain.durations import format_duration
from bot.domain.notices import (
    BlockForfeited,
    BlockRenewed,
    Digest,
    DigestClient,
    FollowupRefused,
    LowClient,
    Notice,
    Nudge,
    PurchasePaid,
    PurchaseTrouble,
    RefillFailed,
    Statement,
    StatementBounced,
    ThresholdCrossed,
    TimerCheck,
)
from bot.phrasebook import (
    bounce_advice,
    limit_text,
    per_week,
    purchase_advice,
    refill_line,
    rolled_over_words,
    run_out,
    statement_lines,
    summary,
)
from handlers.views.blockkit import (
    MESSAGE_BLOCKS,
    balance_line,
    context,
    escape,
    lines_as_sections,
    section,
    to_dicts,
)
from handlers.views.payments import unpaid_blocks
from handlers.views.psa_blocks import psa_block_lines

THREADS_SHOWN = 20  # one section with a button per thread; a message holds 50 blocks
UNPAID_SHOWN = 8  # the digest's blocks waiting for payment, one section with Mark paid each

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
REFILL_CONFIRM_ACTION = "refill_confirm"  # a draft refill's one click (managers); value: ``refill_value``
REFILL_EDIT_ACTION = "refill_edit"  # the draft refill in the top-up form first


def refill_value(alert: ThresholdCrossed) -> str:
    """A draft refill's buttons' value: what ``bot.services.refills.RefillDraft`` is read from."""
    return json.dumps(
        {
            "client": alert.client,
            "line": alert.refill_line,
            "minutes": alert.refill_minutes,
            "paid": bool(alert.refill_paid),
        },
        separators=(",", ":"),
    )


def _who(notice: ThresholdCrossed | BlockForfeited) -> str:
    manager = notice.account_manager
    return f"<@{manager}>" if manager else "Account managers"


def _name(notice: ThresholdCrossed | BlockForfeited | BlockRenewed) -> str:
    return escape(str(notice.display_name or notice.client))


def slack_message(notice: Notice) -> tuple[str, list[dict[str, Any]]]:
    """``(text, blocks)`` for any notice; the text escaped as the blocks are (a notification shows
    it: a client named ``Acme <!channel>`` must not ping anyone)."""
    return escape(summary(notice)), to_dicts(layout(notice))


@singledispatch
def layout(notice: Notice) -> list[Block]:
    """A notice's blocks: one registered layout per notice type (below)."""
    raise AssertionError(f"no Slack layout for {type(notice).__name__}")  # pragma: no cover


@layout.register
def _(alert: ThresholdCrossed) -> list[Block]:
    remaining = alert.remaining_minutes
    icon = ":red_circle:" if remaining <= 0 else ":warning:"
    if remaining < 0:
        head = f"{icon} *{_name(alert)}* is overdrawn by *{format_duration(-remaining)}*{limit_text(alert)}"
    else:
        head = (
            f"{icon} *{_name(alert)}* crossed the *{alert.threshold}* threshold: "
            f"{balance_line(remaining, alert.percent_left)}"
        )
    refill = refill_line(alert)
    burn = alert.burn_per_day_minutes or "0"
    lines = [
        f"Used in the last 30 days: *{format_duration(alert.used_30d_minutes)}*",
        f"Burn rate: {per_week(burn)} h/week",
        f"Projected run-out: *{run_out(alert)}*",
        f"Next block expiry: {alert.next_expiry or 'none'}",
    ]
    if alert.refill == "added":
        ask = f"{_who(alert)}: {escape(refill or '')} It goes on the next invoice."
    else:
        ask = f"{_who(alert)}: time to talk to {_name(alert)} about more hours."
    draft: list[Block] = []
    if alert.refill == "draft" and alert.refill_minutes:
        value = refill_value(alert)
        size = format_duration(alert.refill_minutes)
        draft = [
            section(f":package: {escape(refill or '')}"),
            ActionsBlock(
                elements=[
                    ButtonElement(text=f"Add {size}", action_id=REFILL_CONFIRM_ACTION, value=value, style="primary"),
                    ButtonElement(text="Edit first", action_id=REFILL_EDIT_ACTION, value=value),
                ]
            ),
        ]
    return [
        section(head),
        section("\n".join(lines)),
        context(ask),
        *draft,
        ActionsBlock(
            elements=[
                ButtonElement(text="Add hours", action_id=ADD_HOURS_ACTION, value=alert.client, style="primary"),
                ButtonElement(text="Snooze 7 days", action_id=SNOOZE_ACTION, value=alert.client),
                ButtonElement(text="Entries", action_id=ENTRIES_ACTION, value=alert.client),
                ButtonElement(text="Burn-down chart", action_id=CHART_ACTION, value=alert.client),
            ]
        ),
    ]


@layout.register
def _(notice: BlockForfeited) -> list[Block]:
    return [
        section(
            f":hourglass: *{_name(notice)}*: {format_duration(notice.forfeited_minutes)} unused of a "
            f"{format_duration(notice.block_minutes)} block expired on {notice.expires_on} and were "
            f"forfeited. "
            + (f"{rolled_over_words(notice)}. " if rolled_over_words(notice) else "")
            + f"Balance now {format_duration(notice.remaining_minutes)}."
        ),
        context(f"{_who(notice)}: a reason to call."),
    ]


@layout.register
def _(notice: BlockRenewed) -> list[Block]:
    expires = f", expires {notice.expires_on}" if notice.expires_on else ""
    return [
        section(
            f":repeat: *{_name(notice)}* renewed: new block {notice.block_number or notice.block_id} of "
            f"{format_duration(notice.minutes)}{', unpaid (invoice to follow)' if notice.paid is False else ''} "
            f"from {notice.start_on}{expires}. "
            f"Balance now {format_duration(notice.remaining_minutes)}."
        )
    ]


def _low(client: LowClient) -> str:
    """A low client's line: what is left and the threshold it is at or under (digests queued before
    the threshold was in their facts say what is left only)."""
    left = client.remaining_minutes
    if left == 0:
        return "hours used up"
    under = f" (at or under {client.threshold})" if client.threshold else ""
    return f"{format_duration(left)} left{under}"


def _over(client: DigestClient) -> str:
    return f"• *{escape(client.display_name)}*: {format_duration(client.remaining_minutes)}"


@layout.register
def _(digest: Digest) -> list[Block]:
    low = [f"• *{escape(c.display_name)}*: {_low(c)}" for c in digest.low]
    over = [_over(c) for c in digest.overdrawn]
    expiring = [
        f"• *{escape(b.display_name)}*: {format_duration(b.remaining_minutes)} unused, block expires {b.expires_on}"
        for b in digest.expiring
    ]
    lines = [f"*Daily digest for {digest.date}*"]
    lines += ["*Low: at or under their lowest threshold above zero*", *(low or ["none"])]
    lines += ["*Overdrawn*", *(over or ["none"])]
    lines += ["*Expiring within 30 days with unused hours* (use them or lose them)", *(expiring or ["none"])]
    # blocks waiting for payment, each with Mark paid: a heading, UNPAID_SHOWN of them, how many more
    paying = unpaid_blocks(digest.unpaid or (), UNPAID_SHOWN + 2, "`blocks <client>` lists each client's")
    psa = digest.psa
    if not psa or not (psa.failed_count or psa.failed_block_count):
        return [*lines_as_sections(lines, MESSAGE_BLOCKS - len(paying)), *paying]
    if psa.failed_count:
        lines.append(f"*Entries that did not reach {escape(psa.name)}* ({psa.failed_count})")
        lines += [
            f"• #{f.entry_id} `{f.client}` {escape(f.user_name)}, {format_duration(f.minutes)} on "
            f"{f.work_date}: {escape(f.error)}"
            for f in psa.failed
        ]
        if psa.failed_count > len(psa.failed):
            lines.append(f"…and {psa.failed_count - len(psa.failed)} more (`blocktime psa retry`).")
    lines += psa_block_lines(psa)
    retry = ActionsBlock(
        block_id="psa_retry",
        elements=[ButtonElement(text="Retry", action_id=PSA_RETRY_ACTION, value="all", style="primary")],
    )
    return [*lines_as_sections(lines, MESSAGE_BLOCKS - 1 - len(paying)), retry, *paying]


@layout.register
def _(statement: Statement) -> list[Block]:  # a client's statement too: its facts are already client-safe
    lines = [f"*{escape(line)}*" if i == 0 else escape(line) for i, line in enumerate(statement_lines(statement))]
    return lines_as_sections(lines)


@layout.register
def _(nudge: Nudge) -> list[Block]:
    """A staff member's DM about ticket threads they replied in without logging time: one Log time
    button per thread, opening the form pre-filled for it."""
    blocks: list[Block] = [section(f":stopwatch: {escape(summary(nudge))}")]
    for thread in nudge.threads[:THREADS_SHOWN]:
        value = json.dumps({"channel": thread.channel, "thread_ts": thread.thread_ts, "date": nudge.date})
        blocks.append(
            section(
                f"*{escape(thread.display_name)}* (`{thread.client}`): thread of {thread.started} in "
                f"<#{thread.channel}>",
                accessory=ButtonElement(text="Log time", action_id=NUDGE_LOG_ACTION, value=value),
            )
        )
    if nudge.count > THREADS_SHOWN:
        blocks.append(context(f"…and {nudge.count - THREADS_SHOWN} more threads."))
    blocks.append(context("Not billable? Nothing to do. `/blocktime nudges off` stops these messages."))
    return blocks


@layout.register
def _(bounced: StatementBounced) -> list[Block]:
    """A statement e-mail refused by the client's mail server: its account manager (or the managers) see
    the server's words and what to do; posted only where the client cannot read it."""
    who = f"<@{bounced.account_manager}>" if bounced.account_manager else "Account managers"
    return [
        section(f":warning: {escape(summary(bounced))}"),
        context(f"{who}: {escape(bounce_advice(bounced))}"),
    ]


@layout.register
def _(refused: FollowupRefused) -> list[Block]:
    """The PSA refused a low balance's follow-up: the managers see its words and what to do."""
    who = f"<@{refused.account_manager}>" if refused.account_manager else "Account managers"
    return [
        section(f":warning: {escape(summary(refused))}"),
        context(
            f"{who}: fix it in {escape(refused.psa)} or here (`client set {refused.client} psa-alert ...`), "
            "then `blocktime psa retry` sends it again."
        ),
    ]


@layout.register
def _(failed: RefillFailed) -> list[Block]:
    """A refill that could not run: the managers see why, with Add hours so the work can be logged."""
    who = f"<@{failed.account_manager}>" if failed.account_manager else "Account managers"
    return [
        section(f":warning: {escape(summary(failed))}"),
        context(f"{who}: add hours so the work can be logged."),
        ActionsBlock(
            elements=[ButtonElement(text="Add hours", action_id=ADD_HOURS_ACTION, value=failed.client, style="primary")]
        ),
    ]


@layout.register
def _(paid: PurchasePaid) -> list[Block]:
    """A block bought and paid on the client's page: the managers see it added."""
    who = f"<@{paid.account_manager}>" if paid.account_manager else "Account managers"
    return [section(f":moneybag: {escape(summary(paid))}"), context(f"{who}: it goes to the PSA like any top-up.")]


@layout.register
def _(trouble: PurchaseTrouble) -> list[Block]:
    """A failed payment, a refund, a dispute or a refused event: the managers see it and what to do."""
    who = f"<@{trouble.account_manager}>" if trouble.account_manager else "Account managers"
    return [
        section(f":warning: {escape(summary(trouble))}"),
        context(f"{who}: {escape(purchase_advice(trouble))}"),
    ]


@layout.register
def _(check: TimerCheck) -> list[Block]:
    """A timer that ran past the limit asks its owner before it is logged."""
    ran = format_duration(check.minutes)
    start = check.started_at
    return [
        section(f":alarm_clock: {escape(summary(check))}"),
        ActionsBlock(
            elements=[
                ButtonElement(text=f"Keep {ran}", action_id=TIMER_KEEP_ACTION, value=start),
                ButtonElement(text="Enter the real time", action_id=TIMER_FIX_ACTION, value=start, style="primary"),
                ButtonElement(text="Discard", action_id=TIMER_DISCARD_ACTION, value=start, style="danger"),
            ]
        ),
        context("Nothing is logged until you choose."),
    ]
