"""Every sentence blocktime says, in plain text, for every interface: the console and the CLI
(``bot.console`` lays them out in tables), Slack (``handlers.views`` adds markup and buttons) and
e-mail. Service results and outbox notices alike are phrased here, once. Pure: no I/O, and nothing of
rich, Slack or SQLAlchemy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import singledispatch
from typing import TYPE_CHECKING, Any

from bot.domain.allotments import Allotment
from bot.domain.dates import long_day, recorded_words
from bot.domain.durations import as_recorded, format_duration, format_hours
from bot.domain.fields import plain_markup
from bot.domain.holds import overage_words
from bot.domain.notices import (
    BlockForfeited,
    BlockRenewed,
    Digest,
    FollowupRefused,
    LateEntry,
    Notice,
    Nudge,
    PurchasePaid,
    PurchaseTrouble,
    RefillFailed,
    Statement,
    StatementBounced,
    StatementEmail,
    ThresholdCrossed,
    TimerCheck,
)
from bot.domain.payments import Unpaid, held_note, left_words
from bot.domain.refills import entry_refill_words, refill_words
from bot.domain.worktypes import STANDARD, multiplier_label
from bot.services.results import (
    BalanceView,
    BlockView,
    ClientCard,
    ClientView,
    LogResult,
    StatementPreview,
    TopUpResult,
    VoidResult,
)

if TYPE_CHECKING:  # results of services that hold queries: their types only
    from bot.services.payments import PaymentResult
    from bot.services.reports import AllEntriesResult, InsightsResult, ReportResult
    from bot.services.worktypes import WorkTypesResult


def bar(percent: int | None, width: int = 10) -> str:
    """``███████░░░`` for 70 %: a balance at a glance, in plain characters Slack shows too."""
    filled = 0 if percent is None else round(max(0, min(100, percent)) * width / 100)
    return "█" * filled + "░" * (width - filled)


def percent_label(view: BalanceView | LogResult) -> str:
    return "—" if view.percent_left is None else f"{view.percent_left}%"


def log_line(result: LogResult) -> str:
    billable = "non-billable" if result.non_billable else f"{format_duration(result.billable_minutes)} billable"
    prefix = "Already logged" if result.duplicate else "Logged"
    text = (
        f"{prefix} #{result.entry_id}: {as_recorded(result.typed, result.minutes)} for {result.display_name} on "
        f"{result.work_date} ({billable}). Remaining: {format_duration(result.remaining_minutes)} "
        f"{bar(result.percent_left)} {'' if result.percent_left is None else str(result.percent_left) + '%'}".rstrip()
    )
    return "\n".join([text, *log_notes(result)])


def log_notes(result: LogResult) -> list[str]:
    """What an entry's reply says besides the figures, in every interface (CLI, console, Slack)."""
    notes = []
    if result.timer_minutes is not None:
        notes.append(
            f"{format_duration(result.minutes)} logged as you gave it, not the timer's "
            f"{format_duration(result.timer_minutes)}."
        )
    if result.after_hours:
        notes.append(f"Logged as {result.after_hours}.")
    if result.work_type != STANDARD:
        notes.append(
            f"{result.typed} {result.work_type} {multiplier_label(result.multiplier)} → "
            f"{format_duration(result.billable_minutes)} deducted."
        )
    if result.replaces_entry_id:
        notes.append(f"#{result.entry_id} replaces #{result.replaces_entry_id}.")
    if result.from_later_blocks_minutes:
        notes.append(
            f"No block valid on {result.work_date} had hours left: "
            f"{format_duration(result.from_later_blocks_minutes)} drawn from the current blocks."
        )
    held = held_note(result.display_name, result.held_for_payment_minutes, result.overage_minutes)
    if result.overage_minutes:
        why = "no paid block left to draw from" if held else "no block left to draw from"
        notes.append(
            overage_words(
                result.display_name,
                result.overage_minutes,
                result.overage_so_far_minutes,
                result.hold_left_minutes,
                why=why,
            )
        )
    if held:
        notes.append(held)
    if result.refill is not None:
        refill = result.refill
        notes.append(entry_refill_words(refill.action, refill.minutes, refill.paid, refill.rule, refill.reason))
    if result.waiting:
        notes.append(f"{result.waiting[0].upper()}{result.waiting[1:]}: not usable before then.")
    if result.psa:
        notes.append(f"{result.psa[0].upper()}{result.psa[1:]}.")
    logged = result.logged_on
    if logged is not None and (result.work_date.year, result.work_date.month) != (logged.year, logged.month):
        notes.append(f"Late work: logged {logged}, it shows in the statement of {logged:%B %Y}.")
    return notes


def void_line(result: VoidResult) -> str:
    """``Block 2 voided (5h). …``: a top-up named by the client's own block number, as ``blocks`` shows it."""
    text = (
        f"{result.label} voided ({format_duration(result.minutes)}). "
        f"{result.display_name} now has {format_duration(result.remaining_minutes)} left."
    )
    refill = result.refill_block
    if refill is None:
        return text
    state = "paid" if refill.paid else "unpaid"
    return (
        f"{text} Block {refill.number} ({format_duration(refill.minutes)} refill, {state}) was added when this "
        f"entry was logged; `void topup {result.client} {refill.number}` if it is not wanted."
    )


def topup_verb(result: TopUpResult) -> str:
    return "Already added" if result.duplicate else "Added"  # a repeated submission records once


def topup_validity(result: TopUpResult) -> str:
    """``starts 2026-12-01, expires 2027-11-30, renews yearly``: when a new block may be drawn from."""
    expires = f"expires {result.expires_on}" if result.expires_on else "never expires"
    if result.starts_on:
        expires = f"starts {result.starts_on}, {expires}"
    return expires + (f", {result.renewal}" if result.renewal else "")


def topup_notes(result: TopUpResult, new_block: str = "it") -> list[str]:
    """What a top-up's reply says besides its figures, in every interface."""
    notes = []
    if not result.paid:
        held = (
            " Until then pay-first holds its hours: new work does not draw from it."
            if result.held_for_payment_minutes
            else ""
        )
        notes.append(
            f"Unpaid: `block paid {result.client} {result.block_number or result.block_id}` marks it paid.{held}"
        )
    if result.waiting:
        notes.append(f"{result.waiting[0].upper()}{result.waiting[1:]}: new work draws from it from that day.")
    if result.carried_overage_minutes:
        notes.append(f"{format_duration(result.carried_overage_minutes)} of overage was paid off from {new_block}.")
    if result.billed_overage_minutes:
        notes.append(f"{format_duration(result.billed_overage_minutes)} of overage stays as its own billable line.")
    return notes


def topup_line(result: TopUpResult) -> str:
    price = f", {result.price} {result.currency}" if result.price is not None else ""
    ref = f", ref {result.reference}" if result.reference else ""
    text = (
        f"{topup_verb(result)} {result.label}: {format_duration(result.minutes)} for {result.display_name} "
        f"({topup_validity(result)}{price}{ref}). Remaining: {format_duration(result.remaining_minutes)}."
    )
    return "\n".join([text, *topup_notes(result)])


def card_lines(card: ClientCard) -> list[str]:
    """The client-safe card, the same words in every interface."""
    d = format_duration
    left = d(card.remaining_minutes) if card.remaining_minutes >= 0 else "0m"
    lines = [
        f"{card.display_name}: {left} left {bar(card.percent_left)}"
        + ("" if card.percent_left is None else f" {card.percent_left}%"),
    ]
    if card.remaining_minutes < 0:
        lines.append(f"{d(-card.remaining_minutes)} of work went beyond your hours.")
    for block in card.expiring:
        lines.append(f"{d(block['minutes'])} expire on {block['expires_on']}.")
    lines.append(f"Used this month (by work date): {d(card.used_this_month_minutes)}.")
    if card.last_entries:
        lines.append("Latest work:")
        for e in card.last_entries:
            charged = d(e.minutes) if e.minutes else "no charge"
            ticket = f" · {plain_markup(e.ticket)}" if e.ticket else ""
            note = f" — {plain_markup(e.note)}" if e.note else ""
            lines.append(f"• {e.work_date} · {charged} · {e.first_name}{ticket}{note}")
    return lines


def work_type_lines(result: WorkTypesResult) -> list[str]:
    return ["Work types:"] + [
        f"• {w.name} {multiplier_label(w.multiplier)}" + (" (archived)" if w.archived else "")
        for w in result.work_types
    ]


def figures_line(view: BalanceView) -> str:
    """The balance as a sum that adds up as printed:
    purchased - used - forfeited - expired (in grace) - waiting to start + overage billed on its own = left."""
    d = format_duration
    text = f"Purchased {d(view.purchased_minutes)} − used {d(view.used_minutes)}"
    if view.forfeited_minutes:
        text += f" − forfeited {d(view.forfeited_minutes)}"
    if view.in_grace_minutes:
        text += f" − expired, closing soon {d(view.in_grace_minutes)}"
    if view.waiting_minutes:
        text += f" − waiting to start {d(view.waiting_minutes)}"
    if view.held_for_payment_minutes:
        text += f" − unpaid, held for payment {d(view.held_for_payment_minutes)}"
    if view.billed_overage_minutes:
        text += f" + overage billed on its own {d(view.billed_overage_minutes)}"
    text += f" = {balance_left(view)}"
    if view.overage_minutes:
        text += f" (of the time used, {d(view.overage_minutes)} is overage the next block pays off)"
    return text + f" · used this month (by work date) {d(view.used_this_month_minutes)}"


def balance_left(view: BalanceView) -> str:
    """``10h left (4h unpaid)``: the usable balance, its unpaid hours said apart."""
    return left_words(view.remaining_minutes, Unpaid(view.unpaid_minutes, view.held_for_payment_minutes))


def payment_line(result: PaymentResult) -> str:
    """``Block 3 of Acme (10h, INV-1042) marked paid. Acme: 10h left.``, or that it was so already."""
    ref = f", {result.reference}" if result.reference else ""
    what = f"{result.label} of {result.display_name} ({format_duration(result.minutes)}{ref})"
    left = left_words(result.remaining_minutes, Unpaid(result.unpaid_minutes, result.held_for_payment_minutes))
    if not result.changed:
        since = f" (since {result.paid_at:%Y-%m-%d})" if result.paid and result.paid_at else ""
        return f"{what} is already {'paid' if result.paid else 'unpaid'}{since}; nothing changed."
    text = f"{what} marked {'paid' if result.paid else 'unpaid'}"
    text += f": {result.reason}." if result.reason else "."
    text += f" {result.display_name}: {left}."
    if result.carried_overage_minutes:
        text += f" {format_duration(result.carried_overage_minutes)} of overage was paid off from it."
    return text


def grace_lines(view: BalanceView) -> list[str]:
    """Expired blocks that late work may still draw from: "expired 2026-11-29, 5h closing on 2026-12-06"."""
    return [
        f"{b.label} expired {b.expires_on}, {format_duration(b.remaining_minutes)} closing on {b.closing_on}: "
        f"late work dated up to {b.expires_on} still draws from it; the rest is forfeited after {b.closing_on}."
        for b in view.blocks
        if b.closing_on is not None
    ]


def waiting_lines(view: BalanceView) -> list[str]:
    """Blocks bought to start later: "Block 2: 10h waiting to start on 15 Dec 2026"."""
    return [
        f"{b.label}: {format_duration(b.remaining_minutes)} waiting to start on {long_day(b.start_on)}; "
        "new work draws from it from that day."
        for b in view.blocks
        if b.waiting
    ]


def block_status(block: BlockView) -> str:
    if block.voided:
        return "voided"
    if block.closing_on is not None:
        return f"expired, closing on {block.closing_on}"
    if block.expired:
        return "expired"
    if block.waiting:
        status = f"starts on {block.start_on}"
    else:
        status = "used up" if block.remaining_minutes == 0 else "open"
    return status if block.paid else f"{status}, unpaid"


def psa_link(client: ClientView) -> str:
    """The client's company and agreement in the PSA, or nothing when it is not linked."""
    if not (client.psa_company_id or client.psa_agreement_id or client.psa_ticket_id):
        return ""
    ticket = f", ticket #{client.psa_ticket_id} for other time" if client.psa_ticket_id else ""
    return f"company {client.psa_company_id or '?'}, agreement {client.psa_agreement_id or '?'}{ticket}"


def payment_and_psa_words(client: ClientView) -> list[str]:
    """``pay-first off``, ``psa-product 12`` (``none``), ``psa-alert ticket (default)``: the issue 26
    settings ``client show`` always shows, in the words that set them, as ``--json`` has them
    (``pay_first``, ``psa_product_id``, ``psa_alert``, ``psa_alert_default``)."""
    default = " (default)" if client.psa_alert_default else ""
    return [
        f"pay-first {'on' if client.pay_first else 'off'}",
        f"psa-product {client.psa_product_id or 'none'}",
        f"psa-alert {client.psa_alert}{default}",
    ]


def statement_words(
    client: ClientView, channel: Callable[[str], str] = lambda c: f"#{c}", text: Callable[[str], str] = str
) -> list[str]:
    """``statement-to #C1`` (``none``), ``statement-email ap@acme.example,ceo@acme.example`` (``none``):
    where the client's monthly statement goes, in the words that set it, as ``--json`` has them
    (``statement_channel``, ``statement_emails``); ``channel`` shows a channel id (Slack links it) and
    ``text`` the addresses (Slack escapes them)."""
    return [
        f"statement-to {channel(client.statement_channel) if client.statement_channel else 'none'}",
        f"statement-email {text(client.statement_emails or 'none')}",
    ]


def allotment_label(client: ClientView) -> str:
    """``monthly 10h, rollover up to 20h``: the client's recurring allotment, or nothing when none."""
    if not client.recurring_period or not client.recurring_minutes:
        return ""
    return Allotment(client.recurring_period, client.recurring_minutes, client.rollover_minutes or 0).words()


SOURCE_WORDS = {"refill": "refill", "psa": "imported from the PSA", "renewal": "renewal", "recurring": "allotment"}


def block_source_words(block: BlockView) -> str:
    """Where a block came from and what rolled in and out of it, the same words in Slack, App Home and
    the CLI: ``allotment from 2026-12-01, 2h rolled in``, ``refill``, ``imported from the PSA``; "" for
    a top-up (so a block with more left than its size reads right)."""
    if block.period_start is not None:
        return allotment_block_words(block)
    words = SOURCE_WORDS.get(block.source, "")
    rolled = [
        f"{format_duration(minutes)} rolled {way}"
        for minutes, way in ((block.rolled_in_minutes, "in"), (block.rolled_out_minutes, "out"))
        if minutes
    ]
    return ", ".join([w for w in (words, *rolled) if w])


def allotment_block_words(block: BlockView) -> str:
    """``allotment from 2026-12-01, 2h rolled in, 1h rolled out``: a recurring period's block."""
    words = f"allotment from {block.period_start}"
    if block.rolled_in_minutes:
        words += f", {format_duration(block.rolled_in_minutes)} rolled in"
    if block.rolled_out_minutes:
        words += f", {format_duration(block.rolled_out_minutes)} rolled out"
    return words


def hold_words(client: ClientView) -> str:
    """``hold at 2h (+1h approved), client approves``: the overage hold setting, or nothing without one."""
    if client.hold_at_minutes is not None:
        text = f"hold at {format_duration(client.hold_at_minutes)}"
    elif client.hold_at_percent is not None:
        text = f"hold at {client.hold_at_percent}% of the last block"
    elif client.client_approves:
        return "client approves (no hold set)"
    else:
        return ""
    if client.hold_approved_minutes:
        text += f" (+{format_duration(client.hold_approved_minutes)} approved)"
    return text + (", client approves" if client.client_approves else "")


def statement_lines(statement: Statement) -> list[str]:
    """A statement that adds up as printed: opening + bought - used - forfeited + overage billed = closing."""
    d, st = format_duration, statement
    closing = st.remaining_minutes if st.closing_minutes is None else st.closing_minutes
    sums = f"Opening {d(st.opening_minutes)} + bought {d(st.bought_minutes)} − {used_label(st)} {d(st.used_minutes)}"
    sums += f" − forfeited {d(st.forfeited_minutes)}"
    if st.overage_billed_minutes:
        sums += f" + overage billed on its own {d(st.overage_billed_minutes)}"
    sums += f" = closing {d(closing)}"
    lines = [f"Statement for {st.display_name} ({st.client}), {st.period}", sums]
    extras = []
    if st.non_billable_minutes:
        extras.append(f"non-billable work {d(st.non_billable_minutes)} (not deducted)")
    if st.overage_minutes:
        extras.append(
            f"of the time used, {d(st.overage_minutes)} is overage still open or billed on its own "
            "(overage a block paid off or a void took back in the period is not counted)"
        )
    if st.correction_count:
        extras.append(f"{st.correction_count} {plural(st.correction_count, 'correction')} (voids and edits) included")
    if extras:
        lines.append("; ".join(extras).capitalize() + ".")
    if st.rolled_over_minutes:
        lines.append(
            f"Rolled over: {d(st.rolled_over_minutes)} of the last allotment period's unused hours went into "
            f"the new period (still in the balance); forfeited: {d(st.forfeited_minutes)}."
        )
    for late in st.late:
        lines.append(
            f"Late: work of {_day(late.work_date)}, logged {_day(late.recorded_on)}: "
            f"{d(late.minutes)} ({late_entry_label(late)})"
        )
    for block in st.in_grace:
        lines.append(
            f"On {block.as_of}, {d(block.minutes)} of block {block.block_number or block.block_id} "
            f"(expired {block.expires_on}) are in their grace period: late work dated up to "
            f"{block.expires_on} may still draw from them until {block.closing_on}, then they are forfeited."
        )
    if len(st.by_work_type) > 1:
        lines.append("By work type (deducted): " + ", ".join(f"{t} {d(m)}" for t, m in st.by_work_type))
    lines.append("By technician: " + (", ".join(f"{n} {d(m)}" for n, m in st.by_technician) or "none"))
    lines.append("By ticket: " + (", ".join(f"{plain_markup(t)} {d(m)}" for t, m in st.by_ticket) or "none"))
    return lines


def late_entry_label(late: LateEntry) -> str:
    """``entry #5, replaced by #7``: what became of a late entry, so a replaced one is not read as
    late work that still counts."""
    label = f"entry #{late.entry_id}"
    if late.replaces:
        label += f", replaces #{late.replaces}"
    if late.replaced_by:
        label += f", replaced by #{late.replaced_by}"
    elif late.voided:
        label += ", since voided"
    return label


def plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


def _day(iso: str) -> str:
    """``2026-10-15`` -> ``15 Oct 2026``."""
    return long_day(date.fromisoformat(iso))


def forecast_lines(forecast: dict[str, Any]) -> list[str]:
    lines = [
        f"Burn rate: {per_week(forecast['burn_per_day_30'])} h/week over 30 days, "
        f"{per_week(forecast['burn_per_day_90'])} h/week over 90 days;"
        f" projected run-out: {forecast['run_out_on'] or 'not at the current pace'}",
    ]
    for block in forecast["likely_forfeit"]:
        lines.append(
            f"Block {block.get('block_number') or block['block_id']} expiring {block['expires_on']}: about "
            f"{format_duration(block['minutes'])} likely to be forfeited at the current pace"
        )
    return lines


def per_week(per_day_minutes: str) -> str:
    """A burn rate in the one unit every message uses: hours per week (``12.0`` min/day -> ``1.4``)."""
    return format_hours(round(Decimal(per_day_minutes) * 7))


NO_HISTORY = "No client has 3 complete months of history yet."


def report_lines(result: ReportResult) -> list[str]:
    """A client's report: its statement, forecast and flat-fee suggestion."""
    lines = statement_lines(Statement.from_json(result.statement)) + forecast_lines(result.forecast)
    lines.append(result.flat_fee_text or "Flat fee: needs at least 3 complete months of history.")
    return lines


def statement_headline(display_name: str | None, statement: Statement) -> str:
    """``Statement for Acme, November 2026: used (recorded this month) 4h``."""
    used = f"{used_label(statement)} {format_duration(statement.used_minutes)}"
    return f"Statement for {display_name}, {statement.period}: {used}"


def all_entries_line(result: AllEntriesResult) -> str:
    total = sum(e.billable_minutes for e in result.entries)
    count = len(result.entries)
    return f"{count} {'entry' if count == 1 else 'entries'}, {format_duration(total)} billable, {result.period}"


def insights_lines(result: InsightsResult) -> list[str]:
    lines = ["Clients for whom a flat fee makes most sense:"]
    lines += [f"{i}. {c['display_name']} ({c['client']}): {c['explanation']}" for i, c in enumerate(result.clients, 1)]
    return lines if result.clients else [NO_HISTORY]


# The outbox's notices (``bot.domain.notices``): one line of each, a Slack message's fallback text
# and an e-mail's subject, and the e-mail.


def used_label(statement: Statement) -> str:
    """``used (recorded this month)``: a statement counts work by the day it was recorded, not the
    work date (statements queued before they carried the period's bounds say "in the period")."""
    if statement.start is None or statement.end is None:
        return "used (recorded in the period)"
    return f"used ({recorded_words(date.fromisoformat(statement.start), date.fromisoformat(statement.end))})"


def limit_text(alert: ThresholdCrossed) -> str:
    """`` (limit 2h)``: the client's overdraft, when the alert carries it (older alerts do not)."""
    if not alert.overdraft_known:
        return ""
    limit = alert.overdraft_minutes
    return " (no limit)" if limit is None else f" (limit {format_duration(limit)})"


def run_out(alert: ThresholdCrossed) -> str:
    """A projected run-out date means nothing to a client already out of hours."""
    if alert.remaining_minutes <= 0:
        return "hours used up"
    return alert.run_out_on or "not at the current pace"


@singledispatch
def summary(notice: Notice) -> str:
    """One line of plain text for any notice: one registered phrase per notice type."""
    raise AssertionError(f"no phrase for {type(notice).__name__}")  # pragma: no cover


def refill_line(alert: ThresholdCrossed) -> str | None:
    """``Added 10h (refill auto 10h, unpaid).``, or a draft's offer: the alert's refill, if it has one."""
    if alert.refill is None or not alert.refill_minutes:
        return None
    return refill_words(
        alert.refill, alert.refill_minutes, bool(alert.refill_paid), alert.refill_rule, alert.refill_reason
    )


@summary.register
def threshold_text(alert: ThresholdCrossed) -> str:
    remaining = alert.remaining_minutes
    refill = refill_line(alert)
    tail = f" {refill}" if refill else ""
    if remaining < 0:
        return f"{alert.display_name} is overdrawn by {format_duration(-remaining)}{limit_text(alert)}.{tail}"
    state = "has used up its hours" if remaining == 0 else "is running low"
    pct = f" ({alert.percent_left}%)" if alert.percent_left is not None else ""
    return f"{alert.display_name} {state}: {format_duration(remaining)} left{pct}.{tail}"


def rolled_over_words(notice: BlockForfeited) -> str:
    """``1h rolled over into block 3``: what of a closed period's hours went on, or "" when none did."""
    if not notice.rolled_over_minutes:
        return ""
    into = f" into block {notice.rolled_into_block}" if notice.rolled_into_block else " into the next period"
    return f"{format_duration(notice.rolled_over_minutes)} rolled over{into}"


@summary.register
def _(notice: BlockForfeited) -> str:
    rolled = rolled_over_words(notice)
    return (
        f"{notice.display_name}: {format_duration(notice.forfeited_minutes)} of block "
        f"{notice.block_number or notice.block_id} forfeited (expired {notice.expires_on})"
        + (f"; {rolled}." if rolled else ".")
    )


@summary.register
def _(notice: BlockRenewed) -> str:
    expires = f", expires {notice.expires_on}" if notice.expires_on else ""
    unpaid = ", unpaid (invoice to follow)" if notice.paid is False else ""
    return f"{notice.display_name}: renewed with {format_duration(notice.minutes)}{unpaid}{expires}."


@summary.register
def _(digest: Digest) -> str:
    soon = len(digest.expiring)
    psa = digest.psa
    failed = (
        f", {psa.failed_count} {'entry' if psa.failed_count == 1 else 'entries'} not in {psa.name}."
        if psa and psa.failed_count
        else "."
    )
    if psa and psa.failed_block_count:  # issue 26: blocks the PSA refused
        blocks = f"{psa.failed_block_count} block{'' if psa.failed_block_count == 1 else 's'} not in {psa.name}."
        failed = f"{failed[:-1]}, {blocks}"
    unpaid = len(digest.unpaid or ())
    waiting = f", {unpaid} block{'' if unpaid == 1 else 's'} waiting for payment" if unpaid else ""
    return (
        f"Daily digest: {len(digest.low)} low, {len(digest.overdrawn)} overdrawn, "
        f"{soon} block{'' if soon == 1 else 's'} expiring soon{waiting}" + failed
    )


@summary.register
def _(statement: Statement) -> str:
    return statement_headline(statement.display_name, statement) + "."


@summary.register
def _(nudge: Nudge) -> str:
    named = ", ".join(f"{t.client}: thread of {t.started}" for t in nudge.threads[:3])
    more = "…" if nudge.count > 3 else ""
    threads = "thread" if nudge.count == 1 else "threads"
    return f"You replied in {nudge.count} ticket {threads} today ({named}{more}) and logged no time."


@summary.register
def _(check: TimerCheck) -> str:
    ran = format_duration(check.minutes)
    return f"Your timer for {check.display_name} has been running {ran} (since {check.since}). Was it left running?"


@summary.register
def _(refused: FollowupRefused) -> str:
    return (
        f"{refused.psa} refused the low-balance follow-up ({refused.followup}) for "
        f"{refused.display_name or refused.client}: {refused.error}"
    )


@summary.register
def _(failed: RefillFailed) -> str:
    return f"{failed.display_name or failed.client}: {failed.rule} could not run: {failed.reason}."


@summary.register
def _(paid: PurchasePaid) -> str:
    block = f" as block {paid.block_number}" if paid.block_number else ""
    left = f"; {format_duration(paid.remaining_minutes)} left" if paid.remaining_minutes is not None else ""
    return (
        f"{paid.display_name or paid.client} bought {format_duration(paid.minutes)} on its page and paid "
        f"{paid.amount} {paid.currency} by card (Stripe, {paid.reference}): added{block}, paid{left}."
    )


@summary.register
def _(trouble: PurchaseTrouble) -> str:
    who = trouble.display_name or trouble.client or "A client"
    what = f" of {format_duration(trouble.minutes)}" if trouble.minutes else ""
    ref = f" ({trouble.reference})" if trouble.reference else ""
    return f"{who}: Stripe purchase{what}{ref} {trouble.trouble}: {trouble.news}."


def purchase_advice(trouble: PurchaseTrouble) -> str:
    """What the managers do about it: hours are never taken back or added by the event itself."""
    handle = trouble.client or "<client>"
    if trouble.trouble in ("refunded", "partly refunded", "disputed") and trouble.block_number:
        return (
            f"Its hours were not removed. If they should go, `void topup {handle} {trouble.block_number}` "
            f"(or top up the difference); `block unpaid {handle} {trouble.block_number} <reason>` keeps them unpaid."
        )
    if trouble.trouble in ("refunded", "partly refunded", "disputed", "refund updated"):
        return "No hours were added for it, and none were removed."
    if trouble.trouble in ("refused", "paid late"):
        return (
            "Nothing was added. Check the payment in Stripe; if it is right, add the block by hand: "
            f"`topup {handle} {format_duration(trouble.minutes or 600)} paid`."
        )
    return "Nothing was added."


@summary.register
def _(bounced: StatementBounced) -> str:
    what = "could not be sent (our mail server refused to send it)" if bounced.sending else "bounced"
    return (
        f"The {bounced.period} statement e-mail to {bounced.address} for {bounced.display_name or bounced.client} "
        f"{what}: {bounced.error}"
    )


def bounce_advice(bounced: StatementBounced) -> str:
    """What a manager does about a bounced statement e-mail, or one our mail server would not send."""
    if bounced.sending:
        return (
            "Check the mail server's settings (SMTP_URL, and ALERT_EMAIL_FROM: the sender it must accept), then "
            f"`statement {bounced.client} {bounced.month} --email` sends it again."
        )
    return (
        f"Check the address with the client, then `client set {bounced.client} statement-email ...` and "
        f"`statement {bounced.client} {bounced.month} --email` sends it again to the new address."
    )


# A client's statement by e-mail (issue 27): the same figures and lines as the client-safe statement in
# Slack, in words a client reads; ``bot.reports.statement_email`` lays them out as HTML and plain text.


def statement_email_subject(statement: StatementEmail) -> str:
    return f"Your statement of block hours for {statement.period}: {statement.display_name}"


def statement_email_figures(statement: StatementEmail) -> list[tuple[str, str]]:
    """The statement's sums as rows, in the order they add up: opening + bought − used − forfeited (+
    overage billed on its own) = closing."""
    d, st = format_duration, statement
    closing = st.remaining_minutes if st.closing_minutes is None else st.closing_minutes
    rows = [
        ("Opening balance", d(st.opening_minutes)),
        ("Bought", d(st.bought_minutes)),
        (used_label(st).capitalize(), d(st.used_minutes)),
        ("Forfeited", d(st.forfeited_minutes)),
    ]
    if st.overage_billed_minutes:
        rows.append(("Overage billed on its own", d(st.overage_billed_minutes)))
    rows.append(("Closing balance", d(closing)))
    return rows


def statement_email_notes(statement: StatementEmail) -> list[str]:
    """The statement's other lines (non-billable work, corrections, late work, grace, work types)."""
    lines = statement_lines(statement)[2:]
    return [line for line in lines if not line.startswith(("By technician:", "By ticket:"))]


def statement_email_rows(statement: StatementEmail) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(technicians by first name, tickets) with their time, as the client-safe statement shows them."""
    d = format_duration
    return (
        [(name, d(m)) for name, m in statement.by_technician],
        [(plain_markup(ticket), d(m)) for ticket, m in statement.by_ticket],
    )


LINE_HEADINGS = ("Work date", "Technician", "Ticket", "Time", "Note")


def statement_email_lines(statement: StatementEmail) -> list[tuple[str, str, str, str, str]]:
    """The month's lines as rows under ``LINE_HEADINGS``: the work date (and the day it was logged,
    when later), the technician's first name, the ticket, the time (a correction taken back shows
    negative, non-billable time says so) and the note (only with ``client-notes on``)."""
    rows = []
    for line in statement.lines:
        day = _day(line.work_date)
        if line.recorded_on != line.work_date:
            day += f" (logged {_day(line.recorded_on)})"
        time = format_duration(line.minutes)
        if line.correction:
            time += " (correction)"
        elif line.non_billable:
            time = "non-billable"
        note = plain_markup(line.note) if line.note else ""
        rows.append((day, line.technician, plain_markup(line.ticket) if line.ticket else "", time, note))
    return rows


def statement_email_more_lines(statement: StatementEmail, link: str | None) -> str | None:
    """What is said of the lines an e-mail leaves out (a very busy month)."""
    if not statement.more_lines:
        return None
    where = "on your private page" if link else "from your account manager"
    return f"…and {statement.more_lines} more {plural(statement.more_lines, 'line')}: the full list is {where}."


def statement_email_link_words(link: str | None, expires_on: str | None = None) -> str | None:
    """The sentence with the client's private page link (none without a link)."""
    if not link:
        return None
    until = f" (the link works until {_day(expires_on)})" if expires_on else ""
    return f"Your hours, blocks and past statements are on your private page{until}:"


def statement_email_text(statement: StatementEmail, link: str | None, expires_on: str | None = None) -> str:
    """The plain-text part: heading, sums, notes, technicians, tickets, and the page's link if any."""
    technicians, tickets = statement_email_rows(statement)
    lines = [f"Statement for {statement.display_name}, {statement.period}", ""]
    width = max(len(label) for label, _ in statement_email_figures(statement))
    lines += [f"{label.ljust(width)}  {value}" for label, value in statement_email_figures(statement)]
    notes = statement_email_notes(statement)
    if notes:
        lines += ["", *notes]
    lines += ["", "By technician: " + (", ".join(f"{n} {m}" for n, m in technicians) or "none")]
    lines += ["By ticket: " + (", ".join(f"{t} {m}" for t, m in tickets) or "none")]
    rows = statement_email_lines(statement)
    if rows:
        lines += ["", "Lines:"]
        lines += ["  " + " · ".join(cell for cell in row if cell) for row in rows]
    more = statement_email_more_lines(statement, link)
    if more:
        lines.append(more)
    words = statement_email_link_words(link, expires_on)
    if words and link:
        lines += ["", words, link]
    return "\n".join(lines) + "\n"


def statement_preview_heading(preview: StatementPreview) -> list[str]:
    """What a manager reads above a statement e-mail's preview: to whom ``--email`` would send it, and
    what stops it (no address, a month not over, no mail server); nothing is sent by a preview."""
    command = f"statement {preview.client} {preview.month} --email"
    lines = [f"Preview of the {preview.period} statement e-mail of {preview.display_name} (nothing sent)."]
    if not preview.addresses:
        lines.append(
            f"It has no statement e-mail addresses yet: `client set {preview.client} statement-email "
            "ap@acme.example,ceo@acme.example` sets them."
        )
    else:
        waiting = [a for a in preview.addresses if a not in preview.already]
        if preview.already:
            lines.append(f"Already e-mailed to {', '.join(preview.already)}.")
        if waiting and preview.month_over and preview.mail_server:
            lines.append(f"`{command}` sends it to {', '.join(waiting)}.")
        elif waiting:
            lines.append(f"It would go to {', '.join(waiting)}.")
    if not preview.month_over:
        lines.append(f"{preview.period} is not over yet in the client's time zone: it can be e-mailed once it is.")
    if not preview.mail_server:
        lines.append("No mail server is configured (SMTP_URL): nothing can be e-mailed yet.")
    return lines


@singledispatch
def email_message(notice: Notice) -> tuple[str, str]:
    """``(subject, body)`` in plain text: the notice's line, as both."""
    text = summary(notice)
    return f"[blocktime] {text}", text


@email_message.register
def _(trouble: PurchaseTrouble) -> tuple[str, str]:
    text = summary(trouble)
    return f"[blocktime] {text}", f"{text}\n\n{purchase_advice(trouble)}"


def _(statement: StatementEmail) -> tuple[str, str]:
    """Its plain text without a page (the transport renders it with one: ``bot.reports.statement_email``)."""
    return statement_email_subject(statement), statement_email_text(statement, None)


@email_message.register
def _(bounced: StatementBounced) -> tuple[str, str]:
    return f"[blocktime] {summary(bounced)}", f"{summary(bounced)}\n\n{bounce_advice(bounced)}\n"


@email_message.register
def _(alert: ThresholdCrossed) -> tuple[str, str]:
    body = "\n".join(
        [
            threshold_text(alert),
            f"Threshold crossed: {alert.threshold}",
            f"Used in the last 30 days: {format_duration(alert.used_30d_minutes)}",
            f"Projected run-out: {run_out(alert)}",
            f"Next block expiry: {alert.next_expiry or 'none'}",
            "",
            f"Top up in Slack: /topup {alert.client} 10",
            *([f"Refill: {refill_line(alert)}"] if refill_line(alert) else []),
        ]
    )
    return f"[blocktime] {threshold_text(alert)}", body
