"""Text rendering of service results for the terminal (rich tables), shared by the CLI and the
console. Slack rendering lives in ``handlers/views``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal
from functools import singledispatch
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from bot.domain.dates import long_day
from bot.domain.durations import as_recorded, format_duration, format_hours
from bot.domain.fields import plain_markup
from bot.domain.worktypes import STANDARD, multiplier_label
from bot.jobs.messages import used_label
from bot.services.reports import AllEntriesResult, InsightsResult, ReportResult
from bot.services.results import (
    BalancesResult,
    BalanceView,
    BlocksResult,
    BlockView,
    ClientCard,
    ClientsResult,
    ClientView,
    EntriesResult,
    LogResult,
    Message,
    Result,
    TopUpResult,
    VoidResult,
    renewal_label,
)
from bot.services.worktypes import WorkTypesResult


class FitTable:
    """A table of user text printed literally (``[urgent]`` stays, no markup) whose figures and
    identifiers are never cut: only the ``wrap`` columns (notes, names) wrap; when even that does not
    fit the terminal, each row is printed as ``Header: value`` lines instead."""

    def __init__(
        self, title: str, headers: Sequence[str], wrap: Collection[str] = (), caption: str | None = None
    ) -> None:
        self.title, self.headers, self.wrap, self.caption = title, list(headers), set(wrap), caption
        self.rows: list[list[str]] = []

    def add_row(self, *cells: str) -> None:
        self.rows.append([str(c) for c in cells])

    def _widths(self) -> list[int]:
        return [max([len(h), *(len(r[i]) for r in self.rows)]) for i, h in enumerate(self.headers)]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = self._widths()
        fixed = sum(w for h, w in zip(self.headers, widths, strict=True) if h not in self.wrap)
        wrapped = sum(min(w, 8) for h, w in zip(self.headers, widths, strict=True) if h in self.wrap)
        if fixed + wrapped + 3 * len(self.headers) + 1 <= options.max_width:
            yield self._table(widths)
            return
        yield Text(self.title, style="bold")
        for row in self.rows:
            for header, cell in zip(self.headers, row, strict=True):
                if cell:
                    yield Text(f"  {header or 'status'}: {cell}")
            yield Text("")
        if self.caption:
            yield Text(self.caption)

    def _table(self, widths: list[int]) -> Table:
        table = Table(title=Text(self.title), caption=Text(self.caption) if self.caption else None)
        for header, width in zip(self.headers, widths, strict=True):
            if header in self.wrap:
                table.add_column(Text(header), overflow="fold", min_width=min(width, 8))
            else:
                table.add_column(Text(header), no_wrap=True, min_width=width)
        for row in self.rows:
            table.add_row(*(Text(cell) for cell in row))
        return table


def bar(percent: int | None, width: int = 10) -> str:
    """``███████░░░`` for 70 %: a balance at a glance, in plain characters Slack shows too."""
    filled = 0 if percent is None else round(max(0, min(100, percent)) * width / 100)
    return "█" * filled + "░" * (width - filled)


def percent_label(view: BalanceView | LogResult) -> str:
    return "—" if view.percent_left is None else f"{view.percent_left}%"


def say(console: Console, text: str) -> None:
    """Print user text literally: ``[urgent]`` is a note's words, not markup."""
    console.print(text, markup=False, highlight=False)


def render(console: Console, result: Result) -> None:
    """Any service result on the console: one registered view per result type (``_view``)."""
    _view(result, console)


@singledispatch
def _view(result: Result, console: Console) -> None:
    console.print(result.as_dict())  # a result with no view of its own: its fields


@_view.register
def _(result: LogResult, console: Console) -> None:
    say(console, log_line(result))


@_view.register
def _(result: TopUpResult, console: Console) -> None:
    say(console, topup_line(result))


@_view.register
def _(result: VoidResult, console: Console) -> None:
    say(console, void_line(result))


@_view.register
def _(result: BalancesResult, console: Console) -> None:
    if len(result.balances) == 1:
        _balance_detail(console, result.balances[0])
    else:
        console.print(balances_table(result.balances))


@_view.register
def _(result: BlocksResult, console: Console) -> None:
    console.print(blocks_table(result.balance.display_name, result.blocks))


@_view.register
def _(result: EntriesResult, console: Console) -> None:
    console.print(entries_table(result))


@_view.register
def _(result: ClientView, console: Console) -> None:
    console.print(client_table([result]))


@_view.register
def _(result: ClientsResult, console: Console) -> None:
    console.print(client_table(result.clients))


@_view.register
def _(result: ClientCard, console: Console) -> None:
    say(console, "\n".join(card_lines(result)))


@_view.register
def _(result: WorkTypesResult, console: Console) -> None:
    say(console, "\n".join(work_type_lines(result)))


@_view.register
def _(result: Message, console: Console) -> None:
    say(console, result.message)


@_view.register(ReportResult)
@_view.register(AllEntriesResult)
@_view.register(InsightsResult)
def _(result: ReportResult | AllEntriesResult | InsightsResult, console: Console) -> None:
    say(console, report_text(result))


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
    if result.overage_minutes:
        notes.append(f"{format_duration(result.overage_minutes)} of it is overage (no block left to draw from).")
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
    return (
        f"{result.label} voided ({format_duration(result.minutes)}). "
        f"{result.display_name} now has {format_duration(result.remaining_minutes)} left."
    )


def topup_line(result: TopUpResult) -> str:
    expires = f"expires {result.expires_on}" if result.expires_on else "never expires"
    if result.starts_on:
        expires = f"starts {result.starts_on}, {expires}"
    price = f", {result.price} {result.currency}" if result.price is not None else ""
    ref = f", ref {result.reference}" if result.reference else ""
    renews = f", {result.renewal}" if result.renewal else ""
    text = (
        f"{'Already added' if result.duplicate else 'Added'} {result.label}: {format_duration(result.minutes)} for {result.display_name} "
        f"({expires}{renews}{price}{ref}). Remaining: {format_duration(result.remaining_minutes)}."
    )
    if result.waiting:
        text += f"\n{result.waiting[0].upper()}{result.waiting[1:]}: new work draws from it from that day."
    if result.carried_overage_minutes:
        text += f"\n{format_duration(result.carried_overage_minutes)} of overage was paid off from it."
    if result.billed_overage_minutes:
        text += f"\n{format_duration(result.billed_overage_minutes)} of overage stays as its own billable line."
    return text


def balances_table(views: list[BalanceView]) -> FitTable:
    table = FitTable(
        "Balances (lowest first)",
        ("Client", "Name", "Remaining", "Left", "", "Used this month (by work date)", "Next expiry"),
        wrap={"Name"},
        caption=None if views else "No clients yet: blocktime client add acme Acme Corp",
    )
    for view in views:
        table.add_row(
            view.client,
            view.display_name,
            format_duration(view.remaining_minutes),
            percent_label(view),
            bar(view.percent_left),
            format_duration(view.used_this_month_minutes),
            str(view.next_expiry or "—"),
        )
    return table


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
    if view.billed_overage_minutes:
        text += f" + overage billed on its own {d(view.billed_overage_minutes)}"
    text += f" = {d(view.remaining_minutes)} left"
    if view.overage_minutes:
        text += f" (of the time used, {d(view.overage_minutes)} is overage the next block pays off)"
    return text + f" · used this month (by work date) {d(view.used_this_month_minutes)}"


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


def _balance_detail(console: Console, view: BalanceView) -> None:
    say(
        console,
        f"{view.display_name} ({view.client}): {format_duration(view.remaining_minutes)} left "
        f"{bar(view.percent_left)} {percent_label(view)}",
    )
    say(console, figures_line(view))
    for line in [*grace_lines(view), *waiting_lines(view)]:
        say(console, line)
    if view.blocks:
        console.print(blocks_table("Open blocks", view.blocks))
    if view.last_entries:
        table = FitTable("Last entries", ("#", "Date", "Who", "Time", "Billable", "Note"), wrap={"Note", "Who"})
        for e in view.last_entries:
            table.add_row(
                str(e.id), str(e.work_date), e.user_name, e.typed, format_duration(e.billable_minutes), e.note
            )
        console.print(table)


def blocks_table(title: str, blocks: list[BlockView]) -> FitTable:
    table = FitTable(
        title,
        ("#", "Size", "Remaining", "Drawn", "Forfeited", "Starts", "Expires", "Renews", "Price", "Ref", "Status"),
        wrap={"Status"},
    )
    for b in blocks:
        status = block_status(b)
        table.add_row(
            str(b.number or b.id),
            format_duration(b.minutes),
            format_duration(b.remaining_minutes),
            format_duration(b.drawn_minutes),
            format_duration(b.forfeited_minutes),
            str(b.start_on),
            str(b.expires_on or "never"),
            (renewal_label(b.renew_months) or "").removeprefix("renews "),
            f"{b.price} {b.currency}" if b.price is not None else "",
            b.reference or "",
            status,
        )
    return table


def block_status(block: BlockView) -> str:
    if block.voided:
        return "voided"
    if block.closing_on is not None:
        return f"expired, closing on {block.closing_on}"
    if block.expired:
        return "expired"
    if block.waiting:
        return f"starts on {block.start_on}"
    return "used up" if block.remaining_minutes == 0 else "open"


def entries_table(result: EntriesResult) -> FitTable:
    psa = any(e.psa for e in result.entries)  # a PSA is connected: where each entry stands there
    table = FitTable(
        f"{result.display_name or result.client}: {result.period}",
        ("#", "Date", "Who", "Time", "Type", "Billable", "Ticket", "Note", "", *(("PSA",) if psa else ())),
        wrap={"Note", "Who", "PSA"},
        caption=f"Billable: {format_duration(result.billable_minutes)}",
    )
    for e in result.entries:
        table.add_row(
            str(e.id),
            str(e.work_date),
            e.user_name,
            e.typed,
            "" if e.work_type == STANDARD else f"{e.work_type} {multiplier_label(e.multiplier)}",
            "non-billable" if e.non_billable else format_duration(e.billable_minutes),
            e.ticket or "",
            e.note,
            "voided" if e.voided else "",
            *((e.psa or "",) if psa else ()),
        )
    return table


def client_table(clients: list[ClientView]) -> FitTable:
    table = FitTable(
        "Clients",
        (
            "Handle",
            "Name",
            "Aliases",
            "Manager",
            "Channel",
            "TZ",
            "Rounding",
            "Minimum",
            "Overdraft",
            "Overage",
            "Thresholds",
            "Grace",
            "Hours",
            "PSA",
            "",
        ),
        wrap={"Name", "Aliases"},
    )
    for c in clients:
        overdraft = "unlimited" if c.overdraft_minutes is None else format_duration(c.overdraft_minutes)
        table.add_row(
            c.handle,
            c.display_name,
            ", ".join(c.aliases),
            c.account_manager or "",
            c.alert_channel or "",
            c.timezone,
            format_duration(c.rounding_minutes),
            format_duration(c.minimum_minutes),
            overdraft,
            c.overage_policy,
            c.thresholds,
            f"{c.expiry_grace_days}d",
            c.work_hours or "",
            psa_link(c),
            "archived" if c.archived else "",
        )
    return table


def psa_link(client: ClientView) -> str:
    """The client's company and agreement in the PSA, or nothing when it is not linked."""
    if not (client.psa_company_id or client.psa_agreement_id or client.psa_ticket_id):
        return ""
    ticket = f", ticket #{client.psa_ticket_id} for other time" if client.psa_ticket_id else ""
    return f"company {client.psa_company_id or '?'}, agreement {client.psa_agreement_id or '?'}{ticket}"


def statement_lines(facts: dict[str, Any]) -> list[str]:
    """A statement that adds up as printed: opening + bought - used - forfeited + overage billed = closing."""
    d = format_duration
    sums = (
        f"Opening {d(facts['opening_minutes'])} + bought {d(facts['bought_minutes'])} − {used_label(facts)} "
        f"{d(facts['used_minutes'])}"
    )
    sums += f" − forfeited {d(facts['forfeited_minutes'])}"
    if facts.get("overage_billed_minutes"):
        sums += f" + overage billed on its own {d(facts['overage_billed_minutes'])}"
    sums += f" = closing {d(facts.get('closing_minutes', facts['remaining_minutes']))}"
    lines = [f"Statement for {facts['display_name']} ({facts['client']}), {facts['period']}", sums]
    extras = []
    if facts["non_billable_minutes"]:
        extras.append(f"non-billable work {d(facts['non_billable_minutes'])} (not deducted)")
    if facts["overage_minutes"]:
        extras.append(
            f"of the time used, {d(facts['overage_minutes'])} is overage still open or billed on its own "
            "(overage a block paid off or a void took back in the period is not counted)"
        )
    if facts.get("correction_count"):
        extras.append(
            f"{facts['correction_count']} {plural(facts['correction_count'], 'correction')} (voids and edits) included"
        )
    if extras:
        lines.append("; ".join(extras).capitalize() + ".")
    for late in facts.get("late", []):
        lines.append(
            f"Late: work of {_day(late['work_date'])}, logged {_day(late['recorded_on'])}: "
            f"{d(late['minutes'])} ({late_entry_label(late)})"
        )
    for block in facts.get("in_grace", []):
        lines.append(
            f"On {block['as_of']}, {d(block['minutes'])} of block {block['block_number'] or block['block_id']} "
            f"(expired {block['expires_on']}) are in their grace period: late work dated up to "
            f"{block['expires_on']} may still draw from them until {block['closing_on']}, then they are forfeited."
        )
    if len(facts.get("by_work_type") or []) > 1:
        lines.append("By work type (deducted): " + ", ".join(f"{t} {d(m)}" for t, m in facts["by_work_type"]))
    lines.append("By technician: " + (", ".join(f"{n} {d(m)}" for n, m in facts["by_technician"]) or "none"))
    lines.append("By ticket: " + (", ".join(f"{plain_markup(t)} {d(m)}" for t, m in facts["by_ticket"]) or "none"))
    return lines


def late_entry_label(late: dict[str, Any]) -> str:
    """``entry #5, replaced by #7``: what became of a late entry, so a replaced one is not read as
    late work that still counts."""
    label = f"entry #{late['entry_id']}"
    if late.get("replaces"):
        label += f", replaces #{late['replaces']}"
    if late.get("replaced_by"):
        label += f", replaced by #{late['replaced_by']}"
    elif late.get("voided"):
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


def report_text(result: ReportResult | AllEntriesResult | InsightsResult) -> str:
    if isinstance(result, ReportResult):
        lines = statement_lines(result.statement) + forecast_lines(result.forecast)
        lines.append(result.flat_fee_text or "Flat fee: needs at least 3 complete months of history.")
        return "\n".join(lines)
    if isinstance(result, AllEntriesResult):
        total = sum(e.billable_minutes for e in result.entries)
        count = len(result.entries)
        return f"{count} {'entry' if count == 1 else 'entries'}, {format_duration(total)} billable, {result.period}"
    lines = ["Clients for whom a flat fee makes most sense:"]
    lines += [f"{i}. {c['display_name']} ({c['client']}): {c['explanation']}" for i, c in enumerate(result.clients, 1)]
    return "\n".join(lines if result.clients else ["No client has 3 complete months of history yet."])
