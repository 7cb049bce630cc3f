"""Text rendering of service results for the terminal (rich tables), shared by the CLI and the
console. Slack rendering lives in ``handlers/views``."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from bot.domain.durations import format_duration
from bot.services.reports import AllEntriesResult, InsightsResult, ReportResult
from bot.services.results import (
    BalancesResult,
    BalanceView,
    BlocksResult,
    BlockView,
    ClientsResult,
    ClientView,
    EntriesResult,
    LogResult,
    Message,
    Result,
    TopUpResult,
    VoidResult,
)


def bar(percent: int | None, width: int = 10) -> str:
    """``███████░░░`` for 70 %: a balance at a glance, in plain characters Slack shows too."""
    filled = 0 if percent is None else round(max(0, min(100, percent)) * width / 100)
    return "█" * filled + "░" * (width - filled)


def percent_label(view: BalanceView | LogResult) -> str:
    return "—" if view.percent_left is None else f"{view.percent_left}%"


def render(console: Console, result: Result) -> None:
    match result:
        case LogResult():
            console.print(log_line(result))
        case TopUpResult():
            console.print(topup_line(result))
        case VoidResult():
            what = "Entry" if result.kind == "entry" else "Top-up"
            console.print(
                f"{what} {result.id} voided ({format_duration(result.minutes)}). "
                f"{result.display_name} now has {format_duration(result.remaining_minutes)} left."
            )
        case BalancesResult():
            if len(result.balances) == 1:
                _balance_detail(console, result.balances[0])
            else:
                console.print(balances_table(result.balances))
        case BlocksResult():
            console.print(blocks_table(result.balance.display_name, result.blocks))
        case EntriesResult():
            console.print(entries_table(result))
        case ClientView():
            console.print(client_table([result]))
        case ClientsResult():
            console.print(client_table(result.clients))
        case Message():
            console.print(result.message, markup=False, highlight=False)
        case ReportResult() | AllEntriesResult() | InsightsResult():
            console.print(report_text(result), markup=False, highlight=False)
        case _:  # pragma: no cover
            console.print(result.as_dict())


def log_line(result: LogResult) -> str:
    billable = "non-billable" if result.non_billable else f"{format_duration(result.billable_minutes)} billable"
    prefix = "Already logged" if result.duplicate else "Logged"
    text = (
        f"{prefix} #{result.entry_id}: {result.typed} for {result.display_name} on {result.work_date} "
        f"({billable}). Remaining: {format_duration(result.remaining_minutes)} {bar(result.percent_left)} "
        f"{'' if result.percent_left is None else str(result.percent_left) + '%'}".rstrip()
    )
    if result.overage_minutes:
        text += f"\n{format_duration(result.overage_minutes)} of it is overage (no block left to draw from)."
    return text


def topup_line(result: TopUpResult) -> str:
    expires = f"expires {result.expires_on}" if result.expires_on else "never expires"
    price = f", {result.price} {result.currency}" if result.price is not None else ""
    ref = f", ref {result.reference}" if result.reference else ""
    text = (
        f"Added block {result.block_id}: {format_duration(result.minutes)} for {result.display_name} "
        f"({expires}{price}{ref}). Remaining: {format_duration(result.remaining_minutes)}."
    )
    if result.carried_overage_minutes:
        text += f"\n{format_duration(result.carried_overage_minutes)} of overage was paid off from it."
    if result.billed_overage_minutes:
        text += f"\n{format_duration(result.billed_overage_minutes)} of overage stays as its own billable line."
    return text


def balances_table(views: list[BalanceView]) -> Table:
    table = Table(title="Balances (lowest first)")
    for name in ("Client", "Name", "Remaining", "Left", "", "Used this month", "Next expiry"):
        table.add_column(name, justify="right" if name in ("Remaining", "Left", "Used this month") else "left")
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
    if not views:
        table.caption = "No clients yet: blocktime client add acme Acme Corp"
    return table


def _balance_detail(console: Console, view: BalanceView) -> None:
    console.print(
        f"[bold]{view.display_name}[/bold] ({view.client}): {format_duration(view.remaining_minutes)} left "
        f"{bar(view.percent_left)} {percent_label(view)}"
    )
    console.print(
        f"Purchased {format_duration(view.purchased_minutes)} · used {format_duration(view.used_minutes)} · "
        f"forfeited {format_duration(view.forfeited_minutes)} · overage {format_duration(view.overage_minutes)} · "
        f"used this month {format_duration(view.used_this_month_minutes)}"
    )
    if view.blocks:
        console.print(blocks_table("Open blocks", view.blocks))
    if view.last_entries:
        table = Table(title="Last entries")
        for name in ("#", "Date", "Who", "Time", "Billable", "Note"):
            table.add_column(name)
        for e in view.last_entries:
            table.add_row(
                str(e.id), str(e.work_date), e.user_name, e.typed, format_duration(e.billable_minutes), e.note
            )
        console.print(table)


def blocks_table(title: str, blocks: list[BlockView]) -> Table:
    table = Table(title=title)
    for name in ("#", "Size", "Remaining", "Drawn", "Forfeited", "Starts", "Expires", "Price", "Ref", "Status"):
        table.add_column(name)
    for b in blocks:
        status = "voided" if b.voided else "expired" if b.expired else "used up" if b.remaining_minutes == 0 else "open"
        table.add_row(
            str(b.id),
            format_duration(b.minutes),
            format_duration(b.remaining_minutes),
            format_duration(b.drawn_minutes),
            format_duration(b.forfeited_minutes),
            str(b.start_on),
            str(b.expires_on or "never"),
            f"{b.price} {b.currency}" if b.price is not None else "",
            b.reference or "",
            status,
        )
    return table


def entries_table(result: EntriesResult) -> Table:
    table = Table(
        title=f"{result.client}: {result.period}", caption=f"Billable: {format_duration(result.billable_minutes)}"
    )
    for name in ("#", "Date", "Who", "Time", "Billable", "Ticket", "Note", ""):
        table.add_column(name)
    for e in result.entries:
        table.add_row(
            str(e.id),
            str(e.work_date),
            e.user_name,
            e.typed,
            "non-billable" if e.non_billable else format_duration(e.billable_minutes),
            e.ticket or "",
            e.note,
            "voided" if e.voided else "",
        )
    return table


def client_table(clients: list[ClientView]) -> Table:
    table = Table(title="Clients")
    for name in (
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
        "",
    ):
        table.add_column(name)
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
            "archived" if c.archived else "",
        )
    return table


def statement_lines(facts: dict[str, Any]) -> list[str]:
    lines = [
        f"Statement for {facts['display_name']} ({facts['client']}), {facts['period']}",
        f"Opening balance {format_duration(facts['opening_minutes'])} · bought {format_duration(facts['bought_minutes'])}"
        f" · used {format_duration(facts['used_minutes'])} · non-billable {format_duration(facts['non_billable_minutes'])}"
        f" · forfeited {format_duration(facts['forfeited_minutes'])} · overage {format_duration(facts['overage_minutes'])}",
        f"Remaining at the end of the period: {format_duration(facts['remaining_minutes'])}",
        "By technician: " + (", ".join(f"{n} {format_duration(m)}" for n, m in facts["by_technician"]) or "none"),
        "By ticket: " + (", ".join(f"{t} {format_duration(m)}" for t, m in facts["by_ticket"]) or "none"),
    ]
    return lines


def forecast_lines(forecast: dict[str, Any]) -> list[str]:
    lines = [
        f"Burn rate: {forecast['burn_per_day_30']} min/day over 30 days, {forecast['burn_per_day_90']} over 90 days;"
        f" projected run-out: {forecast['run_out_on'] or 'not at the current pace'}",
    ]
    for block in forecast["likely_forfeit"]:
        lines.append(
            f"Block {block['block_id']} expiring {block['expires_on']}: about "
            f"{format_duration(block['minutes'])} likely to be forfeited at the current pace"
        )
    return lines


def report_text(result: ReportResult | AllEntriesResult | InsightsResult) -> str:
    if isinstance(result, ReportResult):
        lines = statement_lines(result.statement) + forecast_lines(result.forecast)
        lines.append(result.flat_fee_text or "Flat fee: needs at least 3 complete months of history.")
        return "\n".join(lines)
    if isinstance(result, AllEntriesResult):
        total = sum(e.billable_minutes for e in result.entries)
        return f"{len(result.entries)} entries, {format_duration(total)} billable, {result.period}"
    lines = ["Clients for whom a flat fee makes most sense:"]
    lines += [f"{i}. {c['display_name']} ({c['client']}): {c['explanation']}" for i, c in enumerate(result.clients, 1)]
    return "\n".join(lines if result.clients else ["No client has 3 complete months of history yet."])
