"""The console's and the CLI's layout of service results: rich tables, and the phrasebook's lines
printed literally. The words themselves are ``bot.phrasebook``'s; Slack's layout is ``handlers.views``'."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import singledispatch

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from bot.domain.durations import format_duration
from bot.domain.psa_blocks import state_text
from bot.domain.worktypes import STANDARD, multiplier_label
from bot.phrasebook import (
    all_entries_line,
    allotment_label,
    balance_left,
    bar,
    block_source_words,
    block_status,
    card_lines,
    figures_line,
    grace_lines,
    hold_words,
    insights_lines,
    log_line,
    payment_and_psa_words,
    payment_line,
    percent_label,
    psa_link,
    report_lines,
    statement_preview_heading,
    statement_words,
    topup_line,
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
    BlockView,
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


class FitTable:
    """A table of user text printed literally (``[urgent]`` stays, no markup) whose figures and
    identifiers are never cut: only the ``wrap`` columns (notes, names) wrap; when even that does not
    fit the terminal, or a table of one row would fold its words, each row is printed as
    ``Header: value`` lines instead."""

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
        frame = 3 * len(self.headers) + 1
        # one row (``client show acme``) reads better as lines than with its words folded in columns
        folds = len(self.rows) == 1 and sum(widths) + frame > options.max_width
        if not folds and fixed + wrapped + frame <= options.max_width:
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
def _(result: PaymentResult, console: Console) -> None:
    say(console, payment_line(result))


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


@_view.register
def _(result: StatementPreview, console: Console) -> None:
    say(console, "\n".join(statement_preview_heading(result)))
    say(console, f"\nSubject: {result.subject}\n\n{result.text}")


@_view.register
def _(result: ReportResult, console: Console) -> None:
    say(console, "\n".join(report_lines(result)))


@_view.register
def _(result: AllEntriesResult, console: Console) -> None:
    say(console, all_entries_line(result))


@_view.register
def _(result: InsightsResult, console: Console) -> None:
    say(console, "\n".join(insights_lines(result)))


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


def _balance_detail(console: Console, view: BalanceView) -> None:
    say(
        console,
        f"{view.display_name} ({view.client}): {balance_left(view)} {bar(view.percent_left)} {percent_label(view)}",
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
    psa = any(state_text(b.psa) for b in blocks)  # some block went to the PSA (issue 26): where it stands
    table = FitTable(
        title,
        (
            "#",
            "Size",
            "Remaining",
            "Drawn",
            "Forfeited",
            "Starts",
            "Expires",
            "Renews",
            "Price",
            "Ref",
            "Status",
            "Source",
            *(("PSA",) if psa else ()),
        ),
        wrap={"Status", "Source", "PSA"},
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
            block_source_words(b) or "top-up",
            *((state_text(b.psa),) if psa else ()),
        )
    return table


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
            "Pay-first",
            "PSA",
            "Allotment",
            "Refill",
            "Buy",
            "Statements",
            "",
        ),
        wrap={"Name", "Aliases", "PSA", "Refill", "Buy", "Statements"},
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
            c.overage_policy + (f", {hold_words(c)}" if hold_words(c) else ""),
            c.thresholds,
            f"{c.expiry_grace_days}d",
            c.work_hours or "",
            "on" if c.pay_first else "off",
            " · ".join(w for w in [psa_link(c), *payment_and_psa_words(c)[1:]] if w),
            allotment_label(c),
            c.refill.removeprefix("refill "),
            c.buy_offers or "",
            " · ".join(statement_words(c)),
            "archived" if c.archived else "",
        )
    return table
