"""Block Kit messages for command results. Every builder returns ``(text, blocks)``: the plain text
fallback Slack needs for notifications and screen readers (user text in it escaped, as in the blocks:
a notification shows it), and blocks validated by slack_sdk's models
(``to_dict`` checks Block Kit's limits)."""

from __future__ import annotations

import re
from functools import singledispatch
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.domain.durations import as_recorded, format_duration
from bot.domain.holds import approve_label
from bot.domain.notices import Statement
from bot.domain.payments import Unpaid
from bot.domain.worktypes import multiplier_label
from bot.phrasebook import (
    NO_HISTORY,
    all_entries_line,
    allotment_label,
    balance_left,
    bar,
    block_source_words,
    block_status,
    card_lines,
    figures_line,
    forecast_lines,
    grace_lines,
    hold_words,
    log_notes,
    payment_and_psa_words,
    payment_line,
    psa_link,
    statement_headline,
    statement_lines,
    statement_preview_heading,
    statement_words,
    topup_notes,
    topup_validity,
    topup_verb,
    void_line,
    waiting_lines,
    work_type_lines,
)
from bot.services.payments import PaymentResult
from bot.services.reports import AllEntriesResult, InsightsResult, ReportResult
from bot.services.results import (
    BalancesResult,
    BalanceView,
    BlocksResult,
    ClientCard,
    ClientsResult,
    ClientView,
    EntriesResult,
    LogResult,
    Message,
    Result,
    StatementPreview,
    TopUpResult,
    VoidResult,
    renewal_label,
)
from bot.services.worktypes import WorkTypesResult
from handlers.views.blockkit import (
    MESSAGE_BLOCKS,
    SECTION_LIMIT,
    balance_line,
    clip,
    context,
    context_dict,
    escape,
    lines_as_sections,
    note_text,
    section,
    section_dict,
    to_dicts,
)
from handlers.views.outbox import TIMER_DISCARD_ACTION, TIMER_STOP_ACTION
from handlers.views.psa_blocks import psa_block_state

Rendered = tuple[str, list[dict[str, Any]]]
UNDO_ACTION = "undo_entry"
CLIENT_APPROVE_ACTION = "overage_client_approve"  # the client card's Approve up to 2 more hours


def render_log(result: LogResult, undo: bool = True) -> Rendered:
    billable = "non-billable" if result.non_billable else f"{format_duration(result.billable_minutes)} billable"
    if result.billed_by:  # what did it: the rate, the rounding, the minimum
        billable += " after " + " and ".join(result.billed_by)
    verb = "Already logged" if result.duplicate else "Logged"
    head = (
        f":white_check_mark: {verb} *{escape(as_recorded(result.typed, result.minutes))}* for "
        f"*{escape(result.display_name)}* on {result.work_date} ({billable}). Entry #{result.entry_id}."
    )
    if result.note:  # every line quoted, mentions and links shown as Slack shows them
        head += "\n" + "\n".join(f"> {note_text(line)}" for line in result.note.splitlines())
    status = f"{escape(result.display_name)}: {balance_line(result.remaining_minutes, result.percent_left)}"
    for note in log_notes(result):
        status += f"\n{escape(note)}"
    blocks = [section_dict(head), section_dict(status)]
    if undo and not result.duplicate:
        undo_button = {
            "type": "button",
            "text": {"type": "plain_text", "text": "Undo"},
            "action_id": UNDO_ACTION,
            "value": str(result.entry_id),
            "style": "danger",
        }
        blocks += [{"type": "actions", "elements": [undo_button]}, context_dict("Undo works for 10 minutes.")]
    text = f"{verb} {result.typed} for {result.display_name}. {format_duration(result.remaining_minutes)} left."
    return escape(text), blocks


def render_topup(result: TopUpResult) -> Rendered:
    price = f" · {result.price} {result.currency}" if result.price is not None else ""
    ref = f" · ref {escape(result.reference)}" if result.reference else ""
    verb = topup_verb(result)
    lines = [
        f":moneybag: {verb} *{format_duration(result.minutes)}* for *{escape(result.display_name)}* "
        f"({result.label}, {topup_validity(result)}{price}{ref}).",
        f"Balance now *{format_duration(result.remaining_minutes)}*.",
        *topup_notes(result, new_block="the new block"),
    ]
    text = f"{verb} {format_duration(result.minutes)} for {result.display_name}."
    return escape(text), to_dicts([section("\n".join(lines))])


def render_payment(result: PaymentResult) -> Rendered:
    text = payment_line(result)
    return escape(text), to_dicts([section(f":receipt: {escape(text)}")])


def render_void(result: VoidResult) -> Rendered:
    text = void_line(result)
    return escape(text), to_dicts([section(f":leftwards_arrow_with_hook: {escape(text)}")])


def balance_blocks(view: BalanceView) -> list[Block]:
    unpaid_words = Unpaid(view.unpaid_minutes, view.held_for_payment_minutes).words()
    blocks: list[Block] = [
        section(
            f"*{escape(view.display_name)}* (`{view.client}`): {balance_line(view.remaining_minutes, view.percent_left)}"
            + (f" ({escape(unpaid_words)})" if unpaid_words else "")
        ),
        context(escape("\n".join([figures_line(view), *grace_lines(view), *waiting_lines(view)]))),
    ]
    block_lines = [
        f"{b.label}: {format_duration(b.remaining_minutes)} of {format_duration(b.minutes)} left, "
        + (f"starts {b.start_on}, " if b.waiting else "")
        + (f"expires {b.expires_on}" if b.expires_on else "never expires")
        + ("" if b.paid else ", unpaid")
        + (f", {escape(block_source_words(b))}" if block_source_words(b) else "")
        for b in view.blocks
    ]
    if block_lines:
        blocks.append(context("\n".join(block_lines)))
    entry_lines = [
        f"#{e.id} {e.work_date} {escape(e.user_name)} {escape(e.typed)} — {escape(e.note)}" for e in view.last_entries
    ]
    if entry_lines:
        blocks.append(context("Last entries:\n" + "\n".join(entry_lines)))
    return blocks


def render_balances(result: BalancesResult) -> Rendered:
    views = result.balances
    if len(views) == 1:
        view = views[0]
        text = f"{view.display_name}: {balance_left(view)}."
        return escape(text), to_dicts(balance_blocks(view))
    if not views:
        return "No clients yet.", to_dicts(
            [section("No clients yet. An admin adds one: `/blocktime client add acme Acme Corp`")]
        )
    lines = [
        f"`{bar(v.percent_left)}` *{escape(v.display_name)}* (`{v.client}`): {format_duration(v.remaining_minutes)}"
        + (f", next expiry {v.next_expiry}" if v.next_expiry else "")
        for v in views
    ]
    text = "Balances, lowest first: " + ", ".join(
        f"{v.client} {format_duration(v.remaining_minutes)}" for v in views[:20]
    )
    return clip(escape(text), 3000), to_dicts(
        [section("*Balances, lowest first*"), *lines_as_sections(lines, MESSAGE_BLOCKS - 1)]
    )


def render_entries(result: EntriesResult) -> Rendered:
    lines = [
        f"#{e.id} {e.work_date} · {escape(e.user_name)} · {escape(e.typed)}"
        + ("" if e.work_type == "standard" else f" {e.work_type} {multiplier_label(e.multiplier)}")
        + (" (non-billable)" if e.non_billable else f" ({format_duration(e.billable_minutes)})")
        + (f" · {ticket_link(e.ticket)}" if e.ticket else "")
        + (f" — {note_text(e.note)}" if e.note else "")
        + (" ~voided~" if e.voided else "")
        + (f" · PSA: {escape(e.psa)}" if e.psa else "")
        for e in result.entries
    ] or ["No entries in this period."]
    name = result.display_name or result.client
    head = f"*{escape(name)}: {result.period}* — billable {format_duration(result.billable_minutes)}"
    return escape(f"{name}: {result.period}"), to_dicts([section(head), *lines_as_sections(lines, MESSAGE_BLOCKS - 1)])


_PLAIN_URL = re.compile(r"https?://[^\s|<>&]+")


def ticket_link(ticket: str) -> str:
    """A thread's permalink as a short "thread" link; a ``#1234`` (or anything else: no label of its
    own, ``https://evil.example|https://bank.example``, ever reaches Slack's markup) as it is."""
    if _PLAIN_URL.fullmatch(ticket):
        return f"<{ticket}|thread>"
    return escape(ticket)


def render_blocks(result: BlocksResult) -> Rendered:
    lines = []
    for b in result.blocks:
        status = block_status(b)
        renews = f" · {renewal_label(b.renew_months)}" if b.renew_months else ""
        price = f" · {b.price} {b.currency}" if b.price is not None else ""
        lines.append(
            f"{b.label} ({status}): {format_duration(b.remaining_minutes)} of {format_duration(b.minutes)} left · "
            f"drawn {format_duration(b.drawn_minutes)} · forfeited {format_duration(b.forfeited_minutes)} · "
            f"from {b.start_on} · "
            + (f"expires {b.expires_on}" if b.expires_on else "never expires")
            + renews
            + price
            + (f" · ref {escape(b.reference)}" if b.reference else "")
            + (f" · {escape(psa_block_state(b.psa))}" if psa_block_state(b.psa) else "")
            + (f" · {escape(block_source_words(b))}" if block_source_words(b) else "")
        )
    head = f"*Blocks of {escape(result.balance.display_name)}*"
    return escape(f"Blocks of {result.balance.display_name}"), to_dicts(
        [section(head), *lines_as_sections(lines or ["No blocks yet."], MESSAGE_BLOCKS - 1)]
    )


def render_client(client: ClientView) -> str:
    overdraft = "unlimited" if client.overdraft_minutes is None else format_duration(client.overdraft_minutes)
    aliases = f" (aliases: {', '.join(client.aliases)})" if client.aliases else ""
    return (
        f"*{escape(client.display_name)}* `{client.handle}`{aliases}{' — archived' if client.archived else ''}\n"
        f"Rounding {format_duration(client.rounding_minutes)} · minimum {format_duration(client.minimum_minutes)} · "
        f"overdraft {overdraft} · overage {client.overage_policy} · thresholds {client.thresholds} · "
        f"timezone {client.timezone} · manager {('<@' + client.account_manager + '>') if client.account_manager else 'none'}"
        f" · alerts {('<#' + client.alert_channel + '>') if client.alert_channel else 'default channel'}"
        + (f" · working hours {client.work_hours}" if client.work_hours else "")
        + (f" · {hold_words(client)}" if hold_words(client) else "")
        + (f" · PSA {psa_link(client)}" if psa_link(client) else "")
        + "".join(f" · {words}" for words in payment_and_psa_words(client))
        + (f" · allotment {allotment_label(client)}" if allotment_label(client) else "")
        + (f" · {client.refill}" if client.refill_mode != "notify" else "")
        + f" · buy {escape(client.buy_offers or 'none')}"
        + "".join(f" · {words}" for words in statement_words(client, lambda c: f"<#{c}>", escape))
    )


def render_report(result: ReportResult) -> Rendered:
    statement = Statement.from_json(result.statement)
    lines = [f"*{escape(line)}*" if i == 0 else escape(line) for i, line in enumerate(statement_lines(statement))]
    blocks: list[Block] = [
        section("\n".join(lines)),
        section("\n".join(escape(x) for x in forecast_lines(result.forecast))),
    ]
    blocks.append(context(escape(result.flat_fee_text or "Flat-fee suggestion: needs 3 complete months of history.")))
    return escape(statement_headline(result.display_name, statement)), to_dicts(blocks)


def render_insights(result: InsightsResult) -> Rendered:
    lines = [
        f"{i}. *{escape(c['display_name'])}* (`{c['client']}`): suggested *{c['monthly_fee']} {result.currency}/month*"
        f" — {escape(c['explanation'])}"
        for i, c in enumerate(result.clients, 1)
    ] or [NO_HISTORY]
    head = section("*Flat-fee candidates* (steady, substantial usage first)")
    return "Flat-fee candidates", to_dicts([head, *lines_as_sections(lines, MESSAGE_BLOCKS - 1)])


@singledispatch
def render(result: Result) -> Rendered:
    """Any service result as a Slack message: one registered view per result type (below, and
    ``render_log`` and its siblings above)."""
    raise AssertionError(f"no Slack rendering for {type(result).__name__}")  # pragma: no cover


@render.register
def _(result: ReportResult) -> Rendered:
    return render_report(result)


@render.register
def _(result: InsightsResult) -> Rendered:
    return render_insights(result)


@render.register
def _(result: AllEntriesResult) -> Rendered:
    text = all_entries_line(result) + "."
    return escape(text), to_dicts([section(escape(text))])


render.register(LogResult, lambda result: render_log(result))
render.register(TopUpResult, render_topup)
render.register(VoidResult, render_void)
render.register(PaymentResult, render_payment)
render.register(BalancesResult, render_balances)
render.register(EntriesResult, render_entries)
render.register(BlocksResult, render_blocks)


@render.register
def _(result: ClientView) -> Rendered:
    return escape(result.display_name), to_dicts([section(render_client(result))])


@render.register
def _(result: ClientsResult) -> Rendered:
    lines = [render_client(c) for c in result.clients] or ["No clients yet."]
    return "Clients", to_dicts(lines_as_sections(lines))


@render.register
def _(result: WorkTypesResult) -> Rendered:
    lines = work_type_lines(result)
    return escape(lines[0]), to_dicts(lines_as_sections([escape(x) for x in lines]))


@render.register
def _(result: ClientCard) -> Rendered:
    lines = card_lines(result)
    blocks: list[Block] = [section(f"*{escape(lines[0])}*"), section("\n".join(escape(x) for x in lines[1:]))]
    if result.approve_minutes and result.approve_value:  # only a client contact's click is taken
        label = approve_label(result.approve_minutes)
        blocks.append(
            ActionsBlock(
                elements=[ButtonElement(text=label, action_id=CLIENT_APPROVE_ACTION, value=result.approve_value)]
            )
        )
    return escape(lines[0]), to_dicts(blocks)


@render.register
def _(result: Message) -> Rendered:
    # every line of it (help is long): a message's lines are never clipped
    sections = lines_as_sections(result.message.split("\n"), line_limit=SECTION_LIMIT)
    return result.message, to_dicts(sections) + timer_buttons(result.data)


@render.register
def _(result: StatementPreview) -> Rendered:
    """Its heading for the manager, then the e-mail's plain-text part as the client would read it (user
    text escaped; a very long month is cut where Slack's limits are, the CLI shows it whole)."""
    heading = statement_preview_heading(result)
    head = [f"*{escape(heading[0])}*", *(escape(line) for line in heading[1:])]
    body = [f"*Subject:* {escape(result.subject)}", *(escape(line) for line in result.text.rstrip("\n").split("\n"))]
    blocks = [section("\n".join(head)), *lines_as_sections(body, MESSAGE_BLOCKS - 1)]
    return escape(heading[0]), to_dicts(blocks)


def error_message(text: str) -> Rendered:
    shown = text if text.startswith(":warning:") else f":no_entry: {escape(text)}"
    return (text if text.startswith(":warning:") else escape(text)), to_dicts([section(shown)])


def timer_buttons(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Stop and Discard under a running timer's message (its start names the timer)."""
    started = data.get("started_at")
    if data.get("timer") != "running" or not started:
        return []
    return [timer_actions(str(started)).to_dict()]


def timer_actions(started: str) -> ActionsBlock:
    return ActionsBlock(
        elements=[
            ButtonElement(text="Stop and log", action_id=TIMER_STOP_ACTION, value=started, style="primary"),
            ButtonElement(text="Discard", action_id=TIMER_DISCARD_ACTION, value=started),
        ]
    )
