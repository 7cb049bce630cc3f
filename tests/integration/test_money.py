"""The ledger as a client audits it (issue 13): late work charged to the block that covered it, the
expiry grace period, statements that reconcile by recorded date, corrections that keep what they do not
change, billed overage as its own line, renewals, settings that make sense. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.domain.dates import parse_period
from bot.domain.errors import DomainError, ParseError, PermissionDenied, Refused
from bot.domain.notices import Statement
from bot.jobs.scheduler import run_job
from bot.jobs.tasks import renewal
from bot.phrasebook import figures_line, grace_lines, log_line, statement_lines, topup_line
from bot.reports.csvfile import entries_csv
from bot.services import Actor, Context
from bot.services.hours import log_time
from bot.services.reports import report, statement_facts
from storage.models import Block, Client, LedgerLine
from tests.helpers import balance_of, do, entry_count


def at(clock: FixedClock, day: str, hour: int = 12) -> None:
    clock.at = datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def acme(ctx: Context, admin: Actor) -> str:
    do(ctx, admin, "client add acme Acme Corp")
    return "acme"


def statement(ctx: Context, period: str) -> dict:  # type: ignore[type-arg]
    with ctx.db.unit_of_work(read_only=True) as uow:
        client = uow.session.scalar(select(Client).where(Client.handle == "acme"))
        assert client is not None
        return statement_facts(uow, client, parse_period(period, ctx.today()))


# -- 1. corrections ------------------------------------------------------------------------------------


def test_an_edit_keeps_everything_it_does_not_name(
    ctx: Context, clock: FixedClock, admin: Actor, tech: Actor, acme: str
) -> None:
    do(ctx, admin, "topup acme 10")
    first = do(ctx, tech, "logtime acme 20m yesterday --nb courtesy call #55")
    edited = do(ctx, tech, f"edit {first.entry_id} 30m")
    assert edited.replaces_entry_id == first.entry_id
    assert (edited.non_billable, edited.billable_minutes, edited.minutes) == (True, 0, 30)
    assert (edited.work_date, edited.note, edited.ticket) == (date(2026, 11, 24), "courtesy call #55", "#55")
    assert balance_of(ctx, "acme").used_minutes == 0
    assert f"#{edited.entry_id} replaces #{first.entry_id}." in log_line(edited)
    # naming a change changes only that: the note, or billable again
    noted = do(ctx, tech, f"edit {edited.entry_id} 30m called back")
    assert (noted.non_billable, noted.note, noted.ticket, noted.work_date) == (
        True,
        "called back",
        "#55",
        date(2026, 11, 24),
    )
    billable = do(ctx, tech, f"edit {noted.entry_id} 30m billable")
    assert (billable.non_billable, billable.billable_minutes, billable.note) == (False, 30, "called back")
    with ctx.db.unit_of_work(read_only=True) as uow:
        from storage.models import Entry

        last = uow.session.get(Entry, billable.entry_id)
        assert last is not None and (last.user_id, last.user_name) == ("UTECH", "Tess Tech")


# -- 2. statements -------------------------------------------------------------------------------------


def test_statements_count_movements_by_recorded_date_and_reconcile(
    ctx: Context, clock: FixedClock, admin: Actor, acme: str
) -> None:
    at(clock, "2026-11-30")
    do(ctx, admin, "topup acme 10")
    late = do(ctx, admin, "logtime acme 1h 2026-10-15 late work")
    do(ctx, admin, "logtime acme 30m")
    october, november = statement(ctx, "2026-10"), statement(ctx, "2026-11")
    assert (october["opening_minutes"], october["used_minutes"], october["closing_minutes"]) == (0, 0, 0)
    assert (november["opening_minutes"], november["bought_minutes"], november["used_minutes"]) == (0, 600, 90)
    assert november["closing_minutes"] == 510 == balance_of(ctx, "acme").remaining_minutes
    assert november["late"] == [
        {
            "entry_id": late.entry_id,
            "work_date": "2026-10-15",
            "recorded_on": "2026-11-30",
            "minutes": 60,
            "voided": False,
            "replaced_by": None,
            "replaces": None,
        }
    ]
    text = "\n".join(statement_lines(Statement.from_json(november)))
    assert "Opening 0m + bought 10h − used (recorded this month) 1h 30m − forfeited 0m = closing 8h 30m" in text
    assert "Late: work of 15 Oct 2026, logged 30 Nov 2026: 1h" in text
    # entries keep listing by work date
    assert [e.id for e in do(ctx, admin, "entries acme 2026-10").entries] == [late.entry_id]


def test_a_correction_is_a_line_of_the_period_it_is_made_in_and_a_sent_statement_never_changes(
    ctx: Context, clock: FixedClock, admin: Actor, acme: str
) -> None:
    at(clock, "2026-10-20")
    do(ctx, admin, "topup acme 10")
    entry = do(ctx, admin, "logtime acme 2h server")
    at(clock, "2026-11-01", hour=8)
    october = statement(ctx, "2026-10")
    at(clock, "2026-11-03")
    do(ctx, admin, f"edit {entry.entry_id} 1h30m")
    assert statement(ctx, "2026-10") == october
    november = statement(ctx, "2026-11")
    assert november["opening_minutes"] == october["closing_minutes"] == 480
    assert (november["used_minutes"], november["correction_count"], november["closing_minutes"]) == (-30, 1, 510)
    result = report(ctx, admin, "acme", parse_period("2026-11", date(2026, 11, 3)))
    rows = list(csv.DictReader(io.StringIO(entries_csv(result.entries).decode())))
    assert [(r["movement"], r["billable_minutes"], r["work_date"]) for r in rows] == [
        ("void", "-120", "2026-10-20"),
        ("entry", "90", "2026-10-20"),
    ]
    assert sum(int(r["billable_minutes"]) for r in rows) == november["used_minutes"]


def test_csv_hours_add_up_to_the_statement(ctx: Context, clock: FixedClock, admin: Actor, acme: str) -> None:
    do(ctx, admin, "topup acme 10")
    for _ in range(12):
        do(ctx, admin, "logtime acme 5m quick question")
    result = report(ctx, admin, "acme", parse_period("", ctx.today()))
    rows = list(csv.DictReader(io.StringIO(entries_csv(result.entries).decode())))
    assert sum(int(r["billable_minutes"]) for r in rows) == result.statement["used_minutes"] == 60
    from decimal import Decimal

    assert sum(Decimal(r["billable_hours"]) for r in rows) == Decimal("1.00")


# -- 3. late work and the grace period -------------------------------------------------------------------


@pytest.fixture
def expired_block(ctx: Context, clock: FixedClock, admin: Actor, acme: str) -> None:
    """A 5h block valid until 2026-11-29 (yesterday, on the 30th) and a 10h block bought on the 30th."""
    at(clock, "2026-11-01")
    do(ctx, admin, "topup acme 5 expires 2026-11-29")
    at(clock, "2026-11-30")
    do(ctx, admin, "topup acme 10")


def test_late_work_draws_from_the_block_valid_on_its_work_date(
    ctx: Context, clock: FixedClock, admin: Actor, tech: Actor, expired_block: None
) -> None:
    result = do(ctx, tech, "logtime acme 1h yesterday onsite")
    assert result.from_later_blocks_minutes == 0 and result.remaining_minutes == 600
    view = balance_of(ctx, "acme")
    assert (view.remaining_minutes, view.forfeited_minutes, view.in_grace_minutes) == (600, 0, 240)
    old = next(b for b in view.blocks if b.expires_on == date(2026, 11, 29))
    assert (old.remaining_minutes, old.drawn_minutes, old.closing_on) == (240, 60, date(2026, 12, 6))
    assert grace_lines(view) == [
        f"Block {old.id} expired 2026-11-29, 4h closing on 2026-12-06: late work dated up to 2026-11-29 still "
        "draws from it; the rest is forfeited after 2026-12-06."
    ]
    # work dated after the expiry never draws from it
    today = do(ctx, tech, "logtime acme 30m printer")
    assert today.remaining_minutes == 570 and balance_of(ctx, "acme").in_grace_minutes == 240


def test_late_work_falls_to_todays_blocks_only_when_its_blocks_have_nothing_left_and_says_so(
    ctx: Context, clock: FixedClock, admin: Actor, tech: Actor, expired_block: None
) -> None:
    result = do(ctx, tech, "logtime acme 6h yesterday migration")
    assert result.from_later_blocks_minutes == 60 and result.remaining_minutes == 540
    assert "No block valid on 2026-11-29 had hours left: 1h drawn from the current blocks." in log_line(result)
    assert balance_of(ctx, "acme").in_grace_minutes == 0


def test_unused_hours_are_forfeited_after_the_grace_period_by_a_line_dated_the_closing_day(
    ctx: Context, clock: FixedClock, admin: Actor, tech: Actor, expired_block: None
) -> None:
    at(clock, "2026-12-06")
    do(ctx, tech, "logtime acme 1h 2026-11-28 late onsite")  # the closing day: still drawn from the old block
    assert balance_of(ctx, "acme").in_grace_minutes == 240
    at(clock, "2026-12-07", hour=0)
    assert run_job(ctx, "expiry", ctx.today()).summary == "forfeited 240 min across 1 client"
    view = balance_of(ctx, "acme")
    assert (view.forfeited_minutes, view.in_grace_minutes, view.remaining_minutes) == (240, 0, 600)
    with ctx.db.unit_of_work(read_only=True) as uow:
        line = uow.session.scalar(select(LedgerLine).where(LedgerLine.kind == "forfeit"))
        assert line is not None and (line.minutes, line.at.date()) == (-240, date(2026, 12, 6))
    december = statement(ctx, "2026-12")
    assert (december["forfeited_minutes"], december["used_minutes"]) == (240, 60)
    assert december["opening_minutes"] + 0 - 60 - 240 == december["closing_minutes"] == 600


def test_a_forfeit_of_a_closing_day_in_a_month_already_over_is_dated_in_the_current_month(
    ctx: Context, clock: FixedClock, admin: Actor, acme: str
) -> None:
    at(clock, "2026-10-20")
    do(ctx, admin, "topup acme 2 expires 2026-10-24")
    at(clock, "2026-11-02", hour=8)
    october = statement(ctx, "2026-10")  # sent on the 1st: the job that should have forfeited never ran
    run_job(ctx, "expiry", ctx.today())
    assert statement(ctx, "2026-10") == october
    assert statement(ctx, "2026-11")["forfeited_minutes"] == 120


def test_the_grace_period_is_a_setting_per_client(
    ctx: Context, clock: FixedClock, admin: Actor, tech: Actor, expired_block: None
) -> None:
    assert do(ctx, admin, "client set acme grace 0d").expiry_grace_days == 0
    view = balance_of(ctx, "acme")
    assert (view.forfeited_minutes, view.in_grace_minutes) == (300, 0)
    with pytest.raises(ParseError, match="not a number of days"):
        do(ctx, admin, "client set acme grace soon")


def test_every_figure_adds_up_as_printed_with_hours_in_grace(
    ctx: Context, clock: FixedClock, admin: Actor, tech: Actor, expired_block: None
) -> None:
    do(ctx, tech, "logtime acme 1h yesterday")
    view = balance_of(ctx, "acme")
    assert figures_line(view).startswith("Purchased 15h − used 1h − expired, closing soon 4h = 10h left")


# -- 4. work dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "day"),
    [
        ("last friday", date(2026, 11, 20)),
        ("mon", date(2026, 11, 23)),
        ("20 nov", date(2026, 11, 20)),
        ("27 nov", date(2025, 11, 27)),  # this year's is ahead: the most recent one
        ("nov 20", date(2026, 11, 20)),
        ("3 days ago", date(2026, 11, 22)),
        ("11/24", date(2026, 11, 24)),
        ("24/11/2026", date(2026, 11, 24)),
    ],
)
def test_date_words_are_understood_not_kept_as_note_text(
    ctx: Context, admin: Actor, tech: Actor, acme: str, when: str, day: date
) -> None:
    do(ctx, admin, "topup acme 10")
    result = do(ctx, admin, f"logtime acme 15m {when} printer")  # an admin: "27 nov" is a year back
    assert (result.work_date, result.note) == (day, "printer")


@pytest.mark.parametrize(
    ("when", "why"),
    [
        ("tomorrow", "in the future"),
        ("11/12", "use 2026-11-12 or 2026-12-11"),
        ("12/25/2026", "in the future"),
        ("31 nov", "not a real date"),
    ],
)
def test_a_date_word_that_names_no_usable_date_is_refused_with_an_example(
    ctx: Context, admin: Actor, tech: Actor, acme: str, when: str, why: str
) -> None:
    do(ctx, admin, "topup acme 10")
    with pytest.raises(ParseError, match=why) as caught:
        do(ctx, tech, f"logtime acme 15m {when} printer")
    assert caught.value.example and entry_count(ctx) == 0


def test_technicians_date_work_at_most_the_backdate_limit_managers_further(
    ctx: Context, admin: Actor, tech: Actor, acme: str
) -> None:
    do(ctx, admin, "topup acme 10")
    with pytest.raises(PermissionDenied, match="more than 90 days ago"):
        do(ctx, tech, "logtime acme 15m 1999-01-01 old work")
    assert entry_count(ctx) == 0
    assert do(ctx, tech, "logtime acme 15m 2026-08-27 old work").work_date == date(2026, 8, 27)  # 90 days
    assert do(ctx, admin, "logtime acme 15m 1999-01-01 old work").work_date == date(1999, 1, 1)


# -- 5. settings and jobs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("client set acme rounding 25h", "longer than the longest entry"),
        ("client set acme minimum 25h", "longer than the longest entry"),
        ("client set acme overdraft -2h", "overdraft can't be negative"),
        ("client set acme rounding 0m", "write `rounding none`"),
        ("client set acme overdraft 2", "has no unit: write 2m or 2h"),
        ("client set acme rounding 15", "has no unit: write 15m or 15h"),
        ("client set acme rounding 15m rounding 30m", "given twice"),
    ],
)
def test_settings_that_make_no_sense_are_refused_speaking_of_the_setting(
    ctx: Context, admin: Actor, acme: str, line: str, why: str
) -> None:
    with pytest.raises(ParseError, match=why):
        do(ctx, admin, line)
    assert do(ctx, admin, "client show acme").rounding_minutes == 0


def test_settings_take_units_by_one_rule(ctx: Context, admin: Actor, acme: str) -> None:
    view = do(ctx, admin, "client set acme rounding 15m minimum none overdraft 2h")
    assert (view.rounding_minutes, view.minimum_minutes, view.overdraft_minutes) == (15, 0, 120)


# -- 6. billed overage ------------------------------------------------------------------------------------


def test_billed_overage_is_its_own_line_and_every_figure_adds_up(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "client set acme overdraft unlimited overage bill")
    do(ctx, admin, "topup acme 2")
    do(ctx, admin, "logtime acme 4h big job")
    topup = do(ctx, admin, "topup acme 10")
    assert (topup.billed_overage_minutes, topup.remaining_minutes) == (120, 600)
    view = balance_of(ctx, "acme")
    assert figures_line(view).startswith("Purchased 12h − used 4h + overage billed on its own 2h = 10h left")
    with ctx.db.unit_of_work(read_only=True) as uow:
        lines = [(x.kind, x.minutes) for x in uow.session.scalars(select(LedgerLine).order_by(LedgerLine.id))]
    assert lines == [("topup", 120), ("entry", -240), ("topup", 600), ("overage_billed", 120)]
    facts = statement(ctx, "")
    assert (facts["bought_minutes"], facts["used_minutes"], facts["overage_billed_minutes"]) == (720, 240, 120)
    assert facts["closing_minutes"] == 600
    assert "+ overage billed on its own 2h = closing 10h" in statement_lines(Statement.from_json(facts))[1]


def test_voiding_an_entry_whose_overage_was_billed_credits_both_lines(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "client set acme overdraft unlimited overage bill")
    do(ctx, admin, "topup acme 2")
    entry = do(ctx, admin, "logtime acme 4h big job")
    do(ctx, admin, "topup acme 10")
    do(ctx, admin, f"void {entry.entry_id}")
    facts = statement(ctx, "")
    assert (facts["used_minutes"], facts["overage_billed_minutes"], facts["closing_minutes"]) == (0, 0, 720)
    assert balance_of(ctx, "acme").remaining_minutes == 720


# -- 7. renewals -------------------------------------------------------------------------------------------


def test_a_renewal_carries_the_price_but_no_invoice_reference(
    ctx: Context, clock: FixedClock, admin: Actor, acme: str
) -> None:
    at(clock, "2025-12-01")
    first = do(ctx, admin, "topup acme 20 price 2000 ref INV-7 renew yearly")
    assert first.expires_on == date(2026, 11, 30) and first.renewal == "renews yearly"
    assert "renews yearly" in topup_line(first)
    at(clock, "2026-12-01", hour=0)
    assert renewal(ctx, date(2026, 12, 1)) == "renewed 1 blocks"
    with ctx.db.unit_of_work(read_only=True) as uow:
        blocks = [(b.start_on, b.expires_on, str(b.price), b.reference) for b in uow.session.scalars(select(Block))]
    assert blocks[1] == (date(2026, 12, 1), date(2027, 11, 30), "2000.00", None)
    assert [b.renew_months for b in do(ctx, admin, "blocks acme").blocks] == [12, 12]


def test_a_renewal_is_paid_as_the_block_it_renews_was(ctx: Context, clock: FixedClock, admin: Actor, acme: str) -> None:
    """An unpaid block renews unpaid (its invoice to follow); a paid block renews paid (issue 26)."""
    at(clock, "2026-10-01")
    do(ctx, admin, "topup acme 2 unpaid invoice INV-8 renew monthly")
    do(ctx, admin, "topup acme 3 renew monthly")
    at(clock, "2026-11-01", hour=0)
    assert renewal(ctx, date(2026, 11, 1)) == "renewed 2 blocks"
    renewed = {b.minutes: b.paid for b in do(ctx, admin, "blocks acme").blocks if b.renewal_of_id is not None}
    assert renewed == {120: False, 180: True}


def test_a_renewing_block_that_never_expires_is_refused(ctx: Context, admin: Actor, acme: str) -> None:
    with pytest.raises(ParseError, match="renews needs an expiry"):
        do(ctx, admin, "topup acme 20 expires never renew yearly")


def test_what_is_forfeited_is_reported_whichever_job_runs_first(
    ctx: Context, clock: FixedClock, admin: Actor, acme: str
) -> None:
    at(clock, "2026-10-01")
    do(ctx, admin, "client set acme grace none")
    do(ctx, admin, "topup acme 2 renew monthly")  # expires 2026-10-31
    at(clock, "2026-11-01", hour=0)
    renewed = run_job(ctx, "renewal", ctx.today()).summary
    assert renewed == "renewed 1 blocks; forfeited 120 min of blocks past their closing day"
    assert run_job(ctx, "expiry", ctx.today()).summary == "forfeited 0 min across 0 clients"


# -- 12. the smaller ones --------------------------------------------------------------------------------


def test_a_request_id_reused_for_another_request_is_refused(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "topup acme 10")
    first = do(ctx, admin, "logtime acme 15m laptop", idempotency_key="trig-1")
    again = do(ctx, admin, "logtime acme 15m laptop", idempotency_key="trig-1")
    assert again.duplicate and again.entry_id == first.entry_id
    with pytest.raises(Refused, match="already used for a different request"):
        do(ctx, admin, "logtime acme 2h something else", idempotency_key="trig-1")
    assert entry_count(ctx) == 1
    do(ctx, admin, "topup acme 5", idempotency_key="top-1")
    with pytest.raises(Refused, match="already used for a different request"):
        do(ctx, admin, "topup acme 50", idempotency_key="top-1")


def test_notes_lose_control_characters_and_have_a_length_limit(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "topup acme 10")
    assert do(ctx, admin, "logtime acme 15m bell\x07 rang\x1b[31m").note == "bell rang[31m"
    with pytest.raises(ParseError, match="a note is at most 2,000"):
        do(ctx, admin, "logtime acme 15m " + "x" * 2001)
    assert entry_count(ctx) == 1


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("help foo", "There is no command `foo`"),
        ("void topup", "Say which top-up to void"),
        ("topup acme 10 price 100 price 200", "`price` is given twice"),
        ("role @sam manager", "from the CLI, give their user ID"),
    ],
)
def test_small_mistakes_get_a_clear_answer(ctx: Context, admin: Actor, acme: str, line: str, why: str) -> None:
    with pytest.raises(DomainError, match=why):
        do(ctx, admin, line)


def test_archived_clients_are_listed_with_all(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "client archive acme")
    assert do(ctx, admin, "clients").clients == []
    assert [c.handle for c in do(ctx, admin, "clients --all").clients] == ["acme"]


def test_the_fast_path_and_the_full_path_answer_late_work_alike(
    ctx: Context, clock: FixedClock, admin: Actor, tech: Actor, expired_block: None
) -> None:
    from bot.domain.grammar import parse_command

    command = parse_command("logtime acme 1h yesterday onsite", ctx.today())
    fast = log_time(ctx, tech, command)  # in grace, covered by its own block: the plain path writes it
    assert fast.remaining_minutes == 600 and fast.work_date == date(2026, 11, 29)


def test_blocks_are_numbered_per_client_and_can_be_voided_by_that_number(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "client add globex Globex")
    do(ctx, admin, "topup globex 1")
    do(ctx, admin, "topup acme 5")
    do(ctx, admin, "topup acme 10")
    blocks = do(ctx, admin, "blocks acme").blocks
    assert sorted((b.number, b.minutes) for b in blocks) == [(1, 300), (2, 600)]
    assert [b.label for b in sorted(blocks, key=lambda b: b.number or 0)] == ["Block 1", "Block 2"]
    do(ctx, admin, "void topup acme 2 typo")
    assert balance_of(ctx, "acme").purchased_minutes == 300 and balance_of(ctx, "globex").purchased_minutes == 60
    with pytest.raises(DomainError, match="Acme Corp has no block 9"):
        do(ctx, admin, "void topup acme 9")


def test_a_repeated_edit_with_its_request_id_answers_the_first_result(ctx: Context, admin: Actor, acme: str) -> None:
    do(ctx, admin, "topup acme 10")
    entry = do(ctx, admin, "logtime acme 30m toner")
    first = do(ctx, admin, f"edit {entry.entry_id} 45m", idempotency_key="edit-1")
    again = do(ctx, admin, f"edit {entry.entry_id} 45m", idempotency_key="edit-1")
    assert again.duplicate and again.entry_id == first.entry_id
    assert balance_of(ctx, "acme").used_minutes == 45
