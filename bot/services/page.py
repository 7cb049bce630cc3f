"""The read model of a client's private page (issue 27): what ``/c/<token>`` shows, as plain frozen
dataclasses that the web edge renders (``handlers.web``), and the rows of a month's CSV.

Only the client's own, client-safe facts: the balance exactly as ``balance acme`` gives it (the same
reads and ``bot.services.queries.balance_view``), the state in the domain's words (``hours_state``),
the blocks with hours in them (size, dates, paid or not; never a price), the burn-down and the
forecast (``burn_forecast`` over the last 30 and 90 days, as ``report`` forecasts), and a month's
client-safe statement: the statement's own figures (``statement_totals``), time by technician, and
its lines as the client-safe statement shows them (technicians by first name; notes only with
``client-notes on``). No other client, no staff roles, no account manager, no internal notes, no
alert text. Dates are the client's calendar.

Fast for a busy client (10,000 entries: ``bench/page.py``): a month's lines are read as plain
columns (``uow.lines.statement_rows``), not entries, the page lists the latest ``PAGE_LINES`` of
them (the CSV every one), and the period sums come from the ledger lines' index alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.domain.dates import Period, add_months, month_period
from bot.domain.errors import NotFound
from bot.domain.forecast import burn_forecast
from bot.domain.thresholds import hours_state, meter_marks
from bot.services.alerts import thresholds_of
from bot.services.book import forfeit_due, hold_of
from bot.services.context import Context, used_up_since
from bot.services.queries import balance_view
from bot.services.reports import statement_totals
from bot.services.shares import SharedClient
from storage.db import UnitOfWork
from storage.ledger_queries import StatementRow
from storage.repos import Client

BURN_DAYS = 90  # the burn-down shows the balance at the end of each of the last 90 days
PAGE_LINES = 100  # the page lists a month's latest lines; its CSV has every one (a busy month has hundreds)


@dataclass(frozen=True)
class PageBlock:
    """A block with hours in it: its size, what is left, its dates, paid or not."""

    number: int
    minutes: int
    remaining_minutes: int
    start_on: date | None
    expires_on: date | None
    paid: bool
    waiting: bool  # starts later: not usable yet
    expired: bool  # past its expiry, in its grace period for late work
    closing_on: date | None  # the day its grace period ends (then the rest is forfeited)


@dataclass(frozen=True)
class PageLine:
    """A statement line: an entry recorded in the month, or one taken back (minutes negative)."""

    recorded_on: date
    work_date: date
    technician: str  # first name only
    minutes: int  # billable minutes (negative for a correction that takes time back)
    ticket: str | None
    work_type: str
    note: str | None  # only with client-notes on
    correction: bool
    late: bool
    non_billable: bool


@dataclass(frozen=True)
class PageStatement:
    """A month's client-safe statement: opening + bought - used - forfeited + overage billed = closing."""

    month: date  # its first day
    label: str  # November 2026
    opening_minutes: int
    bought_minutes: int
    used_minutes: int
    forfeited_minutes: int
    overage_billed_minutes: int
    closing_minutes: int
    by_technician: tuple[tuple[str, int], ...]  # first names, most time first
    lines: tuple[PageLine, ...]  # on the page the latest PAGE_LINES; in the CSV every one
    line_count: int  # every line of the month


@dataclass(frozen=True)
class BurnDown:
    """The balance at the end of each day from ``start`` to ``end`` (both included): ``opening`` before
    ``start``, then each day's change (``changes``, only days with one)."""

    start: date
    end: date
    opening_minutes: int
    changes: tuple[tuple[date, int], ...]

    def points(self) -> list[tuple[date, int]]:
        """``(day, balance at its end)`` for ``start``, each day with a change, and ``end``."""
        balance, found = self.opening_minutes, [(self.start, self.opening_minutes)]
        for day, change in self.changes:
            balance += change
            found.append((day, balance))
        found.append((self.end, balance))
        return found


@dataclass(frozen=True)
class ClientPage:
    handle: str
    display_name: str
    timezone: str
    today: date
    as_of: datetime  # in the client's time zone
    remaining_minutes: int
    percent_left: int | None
    current_block_minutes: int
    meter: tuple[str, str] | None  # (value, low mark) in percent: under the mark exactly when low or worse
    state: str  # healthy, low, used up, in overage, on hold
    overage_minutes: int
    used_this_month_minutes: int
    waiting_minutes: int
    waiting_starts_on: date | None
    unpaid_minutes: int
    held_for_payment_minutes: int
    blocks: tuple[PageBlock, ...]
    run_out_on: date | None
    burn_per_day_minutes: Decimal  # over the last 30 days (90 when the last 30 had none)
    burn: BurnDown
    statement: PageStatement
    months: tuple[date, ...]  # the months with a statement, newest first (the month picker)


def client_page(ctx: Context, shared: SharedClient, month: date | None = None) -> ClientPage:
    """The page of the client a live link opened (``bot.services.shares.resolve_share``), with the
    statement of ``month`` (its first day; this month by default). A month before the client's first
    line or after this one is ``NotFound``."""
    forfeit_due(ctx)  # as every balance read: a forfeit the page shows is one the ledger records
    with ctx.db.unit_of_work(read_only=True) as uow:
        client = _client(uow, shared)
        today = ctx.today(client.timezone)
        months = _months(uow, client, today)
        chosen = _month(month, months)
        # balance_of's reads, but the blocks read once for the balance and the forecast alike, and
        # no latest entries (the page shows the month's lines instead)
        blocks = uow.blocks.open_of([client.id], used_up_since(ctx))[client.id]
        this_month = today.replace(day=1)
        used = uow.entries.used_between([client.id], this_month, add_months(this_month, 1)).get(client.id, 0)
        view = balance_view(ctx, client, blocks, used)
        forecast = burn_forecast(
            view.remaining_minutes,
            uow.entries.billable_since(client.id, today - timedelta(days=30)),
            uow.entries.billable_since(client.id, today - timedelta(days=90)),
            today,
        )
        hold = hold_of(uow, client)
        start = today - timedelta(days=BURN_DAYS - 1)
        burn = BurnDown(
            start,
            today,
            uow.lines.balance_before(client.id, start),
            tuple(uow.lines.changes_by_day(client.id, start, today + timedelta(days=1))),
        )
        statement = _statement(uow, client, chosen, PAGE_LINES)
        per_day = forecast.per_day_30 or forecast.per_day_90
        thresholds = thresholds_of(client.thresholds, ctx.settings)
        return ClientPage(
            handle=client.handle,
            display_name=client.display_name,
            timezone=client.timezone,
            today=today,
            as_of=ctx.now().astimezone(ZoneInfo(client.timezone)),
            remaining_minutes=view.remaining_minutes,
            percent_left=view.percent_left,
            current_block_minutes=view.current_block_minutes,
            meter=meter_marks(view.remaining_minutes, thresholds, view.current_block_minutes),
            state=hours_state(
                view.remaining_minutes,
                view.current_block_minutes,
                thresholds,
                None if hold is None else hold.allowed - view.overage_minutes,
            ),
            overage_minutes=view.overage_minutes,
            used_this_month_minutes=view.used_this_month_minutes,
            waiting_minutes=view.waiting_minutes,
            waiting_starts_on=view.waiting_starts_on,
            unpaid_minutes=view.unpaid_minutes,
            held_for_payment_minutes=view.held_for_payment_minutes,
            blocks=tuple(
                PageBlock(
                    number=b.number or b.id,
                    minutes=b.minutes,
                    remaining_minutes=b.remaining_minutes,
                    start_on=b.start_on,
                    expires_on=b.expires_on,
                    paid=b.paid,
                    waiting=b.waiting,
                    expired=b.expired,
                    closing_on=b.closing_on,
                )
                for b in sorted(view.blocks, key=lambda b: (b.waiting, b.expires_on or date.max, b.id))
            ),
            run_out_on=forecast.run_out_on,
            burn_per_day_minutes=per_day,
            burn=burn,
            statement=statement,
            months=months,
        )


def client_statement(ctx: Context, shared: SharedClient, month: date) -> PageStatement:
    """The client-safe statement of one month (the CSV download)."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        client = _client(uow, shared)
        chosen = _month(month, _months(uow, client, ctx.today(client.timezone)))
        return _statement(uow, client, chosen, None)


def _client(uow: UnitOfWork, shared: SharedClient) -> Client:
    client = uow.clients.by_id(shared.client_id)
    if client is None:  # pragma: no cover - a link's client is never deleted
        raise NotFound("No such page.")
    return client


def _months(uow: UnitOfWork, client: Client, today: date) -> tuple[date, ...]:
    """This month and every month back to the client's first ledger line, newest first."""
    this_month = today.replace(day=1)
    first = uow.lines.first_recorded_on(client.id)
    month = min(first.replace(day=1), this_month) if first is not None else this_month
    found = []
    while month <= this_month:
        found.append(month)
        month = add_months(month, 1)
    return tuple(reversed(found))


def _month(month: date | None, months: tuple[date, ...]) -> date:
    if month is None:
        return months[0]
    if month.replace(day=1) not in months:
        raise NotFound("No statement for that month.")
    return month.replace(day=1)


def _statement(uow: UnitOfWork, client: Client, month: date, latest: int | None) -> PageStatement:
    """The month's statement: its figures, who used the time, and its lines (the ``latest`` of them,
    or all)."""
    period: Period = month_period(month.year, month.month)
    figures = statement_totals(uow, client.id, period)
    rows = uow.lines.statement_rows(client.id, period.start, period.end, latest)
    by_first_name: dict[str, int] = {}
    count = 0
    for name, minutes, lines in uow.lines.statement_by_person(client.id, period.start, period.end):
        first = _first_name(name)
        by_first_name[first] = by_first_name.get(first, 0) + minutes
        count += lines
    return PageStatement(
        month=month,
        label=period.label,
        opening_minutes=figures["opening_minutes"],
        bought_minutes=figures["bought_minutes"],
        used_minutes=figures["used_minutes"],
        forfeited_minutes=figures["forfeited_minutes"],
        overage_billed_minutes=figures["overage_billed_minutes"],
        closing_minutes=figures["closing_minutes"],
        by_technician=tuple(sorted(((n, m) for n, m in by_first_name.items() if m), key=lambda kv: (-kv[1], kv[0]))),
        lines=tuple(_line(row, client.client_notes) for row in rows),
        line_count=count,
    )


def _first_name(name: str) -> str:
    return (name.split() or ["—"])[0]


def _line(row: StatementRow, notes: bool) -> PageLine:
    """A statement line as ``movement_view`` makes one (a void's minutes negated), client-safe."""
    correction = row.kind == "void"
    return PageLine(
        recorded_on=row.recorded_on,
        work_date=row.work_date,
        technician=_first_name(row.user_name),
        minutes=-row.billable_minutes if correction else row.billable_minutes,
        ticket=row.ticket,
        work_type=row.work_type,
        note=(row.note or None) if notes else None,
        correction=correction,
        late=row.work_date < row.recorded_on,
        non_billable=row.non_billable,
    )
