"""Statements, CSV, forecasts, the flat-fee case and backups, checked against hand-computed ledgers."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.clock import FixedClock
from bot.domain.commands import Report
from bot.domain.dates import parse_period
from bot.domain.errors import PermissionDenied
from bot.reports.chart import burndown_png, png_size
from bot.reports.csvfile import entries_csv
from bot.services import Actor, Context, run
from bot.services.queries import dashboard
from bot.services.reports import report
from storage.backup import BackupError, export_data, import_data
from storage.db import Database
from tests.conftest import PG_URL, pg_schema_url
from tests.helpers import do

TESS, RAJ = Actor("U1", "Tess"), Actor("U2", "Raj")


def at(clock: FixedClock, day: str) -> None:
    clock.at = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


@pytest.fixture
def history(ctx: Context, clock: FixedClock, admin: Actor) -> Context:
    """Acme, August to November 2026, 7 entries: Aug 3 top-up 10h (1200.00), Tess 2h #10, Raj 1h;
    Sep 1 top-up 5h expiring Oct 31 (600.00); Sep 10 Tess 1h30m #11, Raj 45m non-billable;
    Oct 5 Tess 3h #12, Raj 1h #12; Nov 2 Tess 1h."""
    at(clock, "2026-08-03")
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "topup acme 10 price 1200 ref INV-1")
    do(ctx, TESS, "logtime acme 2h server #10")
    do(ctx, RAJ, "logtime acme 1h printer")
    at(clock, "2026-09-01")
    do(ctx, admin, "topup acme 5 expires 2026-10-31 price 600 ref INV-2")
    at(clock, "2026-09-10")
    do(ctx, TESS, "logtime acme 1h30m vpn #11")
    do(ctx, RAJ, "logtime acme 45m --nb coffee chat")
    at(clock, "2026-10-05")
    do(ctx, TESS, "logtime acme 3h migration #12")
    do(ctx, RAJ, "logtime acme 1h migration #12")
    at(clock, "2026-11-02")
    do(ctx, TESS, "logtime acme 1h follow-up")
    return ctx


def test_the_statement_of_a_month_matches_the_ledger_by_hand(history: Context, admin: Actor) -> None:
    # FIFO: the 5h block (expires Oct 31) drew Sep 1h30m and Oct 3h30m of the 4h → its 5h are all used
    # by Oct 5 (1h30m + 3h30m), so nothing is forfeited; the last 30m of October come from the 10h block.
    result = report(history, admin, "acme", parse_period("2026-10", date(2026, 11, 25)))
    facts = result.statement
    assert facts["period"] == "October 2026"
    assert (facts["bought_minutes"], facts["used_minutes"], facts["non_billable_minutes"]) == (0, 240, 0)
    assert [tuple(x) for x in facts["by_technician"]] == [("Tess", 180), ("Raj", 60)]
    assert [tuple(x) for x in facts["by_ticket"]] == [("#12", 240)]
    # opening: 15h - 3h - 1h30m = 10h30m; closing: 10h30m - 4h = 6h30m
    assert (facts["opening_minutes"], facts["remaining_minutes"], facts["forfeited_minutes"]) == (630, 390, 0)


def test_a_range_of_months_adds_them_up(history: Context, admin: Actor) -> None:
    facts = report(history, admin, "acme", parse_period("2026-08..2026-10", date(2026, 11, 25))).statement
    assert (facts["bought_minutes"], facts["used_minutes"], facts["non_billable_minutes"]) == (900, 510, 45)
    assert facts["entry_count"] == 6 and facts["remaining_minutes"] == 390


def test_the_csv_lists_the_periods_entries_with_exact_figures(history: Context, admin: Actor) -> None:
    result = report(history, admin, "acme", parse_period("2026-09", date(2026, 11, 25)))
    rows = list(csv.DictReader(io.StringIO(entries_csv(result.entries).decode())))
    assert [
        (r["technician"], r["minutes"], r["billable_minutes"], r["billable_hours"], r["non_billable"], r["ticket"])
        for r in rows
    ] == [("Tess", "90", "90", "1.5", "no", "#11"), ("Raj", "45", "0", "0", "yes", "")]
    assert sum(int(r["billable_minutes"]) for r in rows) == result.statement["used_minutes"]


def test_all_clients_in_one_csv_for_invoicing(history: Context, admin: Actor) -> None:
    do(history, admin, "client add globex Globex")
    do(history, admin, "topup globex 2")
    do(history, TESS, "logtime globex 30m patch")
    result = run(history, admin, Report(None, parse_period("2026-11", date(2026, 11, 25))))
    rows = list(csv.DictReader(io.StringIO(entries_csv(result.entries).decode())))  # type: ignore[attr-defined]
    assert [(r["client"], r["billable_minutes"]) for r in rows] == [("acme", "60"), ("globex", "30")]


def test_forecast_gives_burn_rates_run_out_and_likely_forfeits(ctx: Context, clock: FixedClock, admin: Actor) -> None:
    at(clock, "2026-11-01")
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "topup acme 10 expires 2026-12-31")
    for day in range(1, 25, 2):  # 12 entries of 30m in 24 days: 360 min
        at(clock, f"2026-11-{day:02d}")
        do(ctx, admin, "logtime acme 30m work")
    at(clock, "2026-11-25")
    forecast = report(ctx, admin, "acme", parse_period("", date(2026, 11, 25))).forecast
    assert forecast["used_30d_minutes"] == 360 and forecast["burn_per_day_30"] == "12.0"
    assert forecast["run_out_on"] == "2026-12-15"  # 240 left / 12 a day = 20 days
    assert forecast["likely_forfeit"] == []
    do(ctx, admin, "topup acme 10 expires 2026-12-10")
    forecast = report(ctx, admin, "acme", parse_period("", date(2026, 11, 25))).forecast
    # the Dec 10 block is drawn first: 16 days x 12 = 192 of its 600 are used, 408 forfeited
    assert forecast["likely_forfeit"] == [
        {"block_id": 2, "block_number": 2, "expires_on": "2026-12-10", "minutes": 408}
    ]


def test_the_flat_fee_needs_three_complete_months_then_spells_out_the_comparison(
    history: Context, clock: FixedClock, admin: Actor
) -> None:
    at(clock, "2026-11-25")
    assert report(history, admin, "acme", parse_period("", date(2026, 11, 25))).flat_fee is None  # Sep, Oct only
    at(clock, "2026-12-02")
    result = report(history, admin, "acme", parse_period("", date(2026, 12, 2)))
    fee = result.flat_fee
    assert fee is not None
    # Sep 90, Oct 240, Nov 60 billable minutes: average 130 (2.2 h), peak 240 (4.0 h). Their cost at the
    # prices of the blocks they were drawn from (5h for 600.00 = 2.00 a minute, 10h for 1200.00 = 2.00):
    # Sep 90 + Oct 210 from the 5h block, Oct 30 + Nov 60 from the 10h block = 390 min x 2.00 = 780.00,
    # although the 10h block was bought before the window.
    assert (fee["months"], fee["average_hours"], fee["peak_hours"], fee["paid_for_blocks"]) == (
        3,
        "2.2",
        "4.0",
        "780.00",
    )
    # from the average as printed: 2.2 h x 100 x 1.15 = 253.00, and the printed formula says so
    assert fee["monthly_fee"] == "253.00"
    assert "(2.2 h × 100 × 1.15 = 253.00)" in (result.flat_fee_text or "")
    assert "a flat fee covering the average would be 253.00 USD a month" in (result.flat_fee_text or "")


def test_insights_rank_steady_clients_first(ctx: Context, clock: FixedClock, admin: Actor) -> None:
    at(clock, "2026-07-15")
    for handle in ("steady", "spiky"):
        do(ctx, admin, f"client add {handle} {handle.title()}")
        do(ctx, admin, f"client set {handle} overdraft unlimited")
    for month, spiky in (("08", "10h"), ("09", "15m"), ("10", "15m")):
        at(clock, f"2026-{month}-10")
        do(ctx, admin, "logtime steady 4h work")
        do(ctx, admin, f"logtime spiky {spiky} work")
    at(clock, "2026-11-05")
    found = do(ctx, admin, "insights").clients
    assert [c["client"] for c in found] == ["steady", "spiky"] and found[0]["steadiness"] == "1.00"
    with pytest.raises(PermissionDenied):
        do(ctx, TESS, "insights")


def test_technicians_cannot_run_reports(history: Context) -> None:
    with pytest.raises(PermissionDenied, match="reports"):
        do(history, TESS, "report acme last month")


def test_the_chart_is_a_png_of_the_expected_size_drawn_from_the_ledger(
    history: Context, clock: FixedClock, admin: Actor
) -> None:
    at(clock, "2026-11-25")
    result = report(history, admin, "acme", parse_period("", date(2026, 11, 25)))
    assert [p.balance_minutes for p in result.history] == [600, 480, 420, 720, 630, 630, 450, 390, 330]
    assert result.history[-1].balance_minutes == do(history, admin, "balance acme").balances[0].remaining_minutes
    png = burndown_png("Acme", result.history, clock.now(), date(2026, 12, 31))
    assert png_size(png) == (1200, 600)


def test_the_needs_attention_list_on_app_home(history: Context, clock: FixedClock, admin: Actor) -> None:
    do(history, admin, "client add globex Globex")
    do(history, admin, "client set globex overdraft 2h")
    do(history, TESS, "logtime globex 1h oops")
    at(clock, "2026-11-25")
    reasons = {(a.client, a.reason) for a in dashboard(history).attention}
    assert ("globex", "No hours bought: overdrawn by 1h") in reasons
    do(history, admin, "topup acme 10 expires 2026-12-05")
    assert any(a.client == "acme" and "likely forfeited" in a.reason for a in dashboard(history).attention)


@pytest.fixture
def empty_database(database: Database, tmp_path: Path) -> Iterator[Database]:
    """A second, empty, migrated database of the same kind as ``database``."""
    if database.is_sqlite:
        other = Database(f"sqlite:///{tmp_path}/restored.db")
        other.migrate()
        yield other
        other.dispose()
        return
    schema = f"bt_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    other = Database(pg_schema_url(schema))
    other.migrate()
    yield other
    other.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_export_then_import_loses_nothing(history: Context, admin: Actor, empty_database: Database) -> None:
    do(history, admin, "client alias acme acme-corp")
    do(history, admin, "void 2 wrong")
    do(history, admin, "role <@U9> manager")
    exported = export_data(history.db)
    counts = import_data(empty_database, json.loads(json.dumps(exported)))
    assert counts["entries"] == 7 and counts["draws"] >= 7 and counts["audit_log"] > 0
    assert export_data(empty_database) == exported
    restored = Context(empty_database, history.settings, history.clock)
    assert do(restored, admin, "balance acme").balances[0] == do(history, admin, "balance acme").balances[0]
    # ids continue after the restored ones
    assert do(restored, admin, "logtime acme 15m after restore").entry_id == 8


def test_import_refuses_a_database_that_is_not_empty(history: Context) -> None:
    with pytest.raises(BackupError, match="not empty"):
        import_data(history.db, export_data(history.db))
