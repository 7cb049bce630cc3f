"""Work types and multipliers (issue 16, part 4): deducted = worked x multiplier, then the client's
rounding and minimum; per-client rates; entries keep the multiplier they were logged with."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from bot.domain.dates import parse_period
from bot.domain.durations import billable_minutes
from bot.domain.errors import NotFound, ParseError, PermissionDenied
from bot.phrasebook import log_line
from bot.reports.csvfile import entries_csv
from bot.services import Actor, Context
from bot.services.reports import report
from tests.helpers import balance_of, do


@pytest.fixture
def acme(ctx: Context, admin: Actor) -> str:
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "topup acme 20")
    do(ctx, admin, "worktype add onsite 1.5")
    do(ctx, admin, "worktype add afterhours 2")
    return "acme"


@pytest.mark.parametrize(
    ("worked", "multiplier", "rounding", "minimum", "deducted"),
    [
        (60, "1.5", 0, 0, 90),
        (25, "1.5", 0, 0, 38),  # 37.5: a part of a minute counts as a minute
        (25, "1.5", 15, 0, 45),
        (5, "2", 15, 30, 30),
        (40, "0.5", 0, 0, 20),
        (7, "1.333", 0, 0, 10),  # 9.331
    ],
)
def test_deducted_minutes_are_worked_times_multiplier_then_rounding_and_minimum(
    worked: int, multiplier: str, rounding: int, minimum: int, deducted: int
) -> None:
    assert billable_minutes(worked, rounding, minimum, False, Decimal(multiplier)) == deducted


def test_an_entry_names_its_type_and_the_reply_shows_both_figures(
    ctx: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    result = do(ctx, tech, "logtime acme 1h as onsite printer fix")
    assert (result.minutes, result.billable_minutes, result.work_type, result.multiplier) == (
        60,
        90,
        "onsite",
        Decimal("1.5"),
    )
    assert result.note == "printer fix" and "1h onsite ×1.5 → 1h 30m deducted." in log_line(result)
    assert result.as_dict()["multiplier"] == "1.5"
    assert balance_of(ctx, "acme").used_minutes == 90


def test_a_client_may_have_its_own_rate(ctx: Context, admin: Actor, tech: Actor, acme: str) -> None:
    do(ctx, admin, "client set acme worktype onsite 2")
    assert do(ctx, tech, "logtime acme 1h as onsite").billable_minutes == 120
    do(ctx, admin, "client set acme worktype onsite none")
    assert do(ctx, tech, "logtime acme 1h as onsite").billable_minutes == 90
    with pytest.raises(NotFound, match="no work type `travel`"):
        do(ctx, admin, "client set acme worktype travel 2")


def test_a_new_rate_never_changes_entries_already_logged(ctx: Context, admin: Actor, tech: Actor, acme: str) -> None:
    first = do(ctx, tech, "logtime acme 1h as onsite")
    do(ctx, admin, "worktype add onsite 3")
    later = do(ctx, tech, "logtime acme 1h as onsite")
    assert (first.billable_minutes, later.billable_minutes) == (90, 180)
    edited = do(ctx, tech, f"edit {first.entry_id} 2h")  # the same work, corrected: its own rate
    assert (edited.work_type, edited.multiplier, edited.billable_minutes) == ("onsite", Decimal("1.5"), 180)
    entries = {e.id: e for e in do(ctx, admin, "entries acme").entries}
    assert entries[first.entry_id].multiplier == Decimal("1.5") and entries[later.entry_id].multiplier == Decimal(3)


def test_unknown_archived_and_badly_written_types_are_refused(
    ctx: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    with pytest.raises(NotFound, match="There is no work type `travel`.*onsite"):
        do(ctx, tech, "logtime acme 1h as travel")
    do(ctx, admin, "worktype archive afterhours")
    with pytest.raises(NotFound):
        do(ctx, tech, "logtime acme 1h as afterhours")
    for line, why in (("worktype add onsite 0", "more than 0"), ("worktype add onsite 11", "at most 10")):
        with pytest.raises(ParseError, match=why):
            do(ctx, admin, line)
    with pytest.raises(PermissionDenied):
        do(ctx, tech, "worktype add travel 1.2")
    assert [w.name for w in do(ctx, tech, "worktype list").work_types] == ["standard", "onsite"]


def test_statements_and_csv_sum_by_type(ctx: Context, admin: Actor, tech: Actor, acme: str) -> None:
    do(ctx, tech, "logtime acme 1h as onsite")
    do(ctx, tech, "logtime acme 1h as afterhours")
    do(ctx, tech, "logtime acme 30m")
    result = report(ctx, admin, "acme", parse_period("", ctx.today()))
    facts = result.statement
    assert facts["used_minutes"] == 90 + 120 + 30
    assert [tuple(x) for x in facts["by_work_type"]] == [("afterhours", 120), ("onsite", 90), ("standard", 30)]
    rows = list(csv.DictReader(io.StringIO(entries_csv(result.entries).decode())))
    assert [(r["work_type"], r["multiplier"], r["minutes"], r["billable_minutes"]) for r in rows] == [
        ("onsite", "1.5", "60", "90"),
        ("afterhours", "2", "60", "120"),
        ("standard", "1", "30", "30"),
    ]
    assert sum(int(r["billable_minutes"]) for r in rows) == facts["used_minutes"]
