"""The duration grammar technicians type, and the billing rules applied to it."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.domain.durations import (
    as_recorded,
    billable_minutes,
    format_duration,
    hours_column,
    parse_duration,
    take_duration,
)
from bot.domain.errors import ParseError


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [
        ("15m", 15),
        ("15 min", 15),
        ("45 minutes", 45),
        ("1h", 60),
        ("2 hours", 120),
        ("1.5h", 90),
        ("1h30m", 90),
        ("1h 30m", 90),
        ("1 hr 15 mins", 75),
        ("1:30", 90),
        ("90m", 90),
        ("0:05", 5),
        ("1H30M", 90),
        ("+30m", 30),
        ("24h", 1440),
        ("0.25h", 15),
        ("0.33h", 20),  # decimal hours round to the nearest minute, as Harvest and ConnectWise take them
        ("1.33h", 80),
        ("0.5m", 1),
    ],
)
def test_it_reads_every_documented_form(typed: str, minutes: int) -> None:
    assert parse_duration(typed) == minutes


def test_a_reply_shows_what_was_recorded_for_decimal_hours() -> None:
    assert as_recorded("0.33h", 20) == "0.33h → 20m"
    assert as_recorded("0.25h", 15) == "0.25h"
    assert as_recorded("1h30m", 90) == "1h30m"


def test_a_bare_number_asks_for_a_unit() -> None:
    with pytest.raises(ParseError, match="add a unit: 90m or 1.5h"):
        parse_duration("90")


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("0m", "zero"),
        ("0:00", "zero"),
        ("-15m", "negative"),
        ("25h", "more than 24h"),
        ("banana", "not a duration"),
        ("1:75", "not a duration"),
        ("0.001h", "zero"),
        ("", "missing"),
    ],
)
def test_it_refuses_bad_durations_saying_why_with_an_example(typed: str, why: str) -> None:
    with pytest.raises(ParseError, match=why) as caught:
        parse_duration(typed)
    assert "Example:" in str(caught.value)


def test_the_per_entry_cap_is_configurable() -> None:
    assert parse_duration("30h", max_minutes=48 * 60) == 1800
    with pytest.raises(ParseError, match="more than 8h"):
        parse_duration("9h", max_minutes=8 * 60)


def test_a_duration_may_span_several_words_at_the_front() -> None:
    assert take_duration(["1", "hr", "15", "mins", "printer"]) == (75, "1 hr 15 mins", ["printer"])
    assert take_duration(["1h", "30m", "yesterday"]) == (90, "1h 30m", ["yesterday"])
    assert take_duration(["15m", "2", "printers"]) == (15, "15m", ["2", "printers"])


@pytest.mark.parametrize(
    ("minutes", "rounding", "minimum", "expected"),
    [(5, 15, 0, 15), (15, 15, 0, 15), (16, 15, 0, 30), (5, 0, 30, 30), (45, 15, 30, 45), (7, 1, 0, 7)],
)
def test_billable_minutes_round_up_then_apply_the_minimum(
    minutes: int, rounding: int, minimum: int, expected: int
) -> None:
    assert billable_minutes(minutes, rounding, minimum) == expected


def test_non_billable_time_bills_nothing() -> None:
    assert billable_minutes(45, 15, 30, non_billable=True) == 0


@given(st.text(max_size=40))
@example("6000000000000000000000000000")  # once crashed the "no unit" hint (found by this test)
def test_random_text_never_crashes_the_parser(text: str) -> None:
    try:
        minutes = parse_duration(text)
    except ParseError as error:
        assert str(error)
    else:
        assert 0 < minutes <= 24 * 60


@given(st.integers(min_value=1, max_value=24 * 60))
def test_formatting_then_parsing_gives_the_same_minutes(minutes: int) -> None:
    assert parse_duration(format_duration(minutes)) == minutes


@given(
    st.integers(min_value=1, max_value=600),
    st.sampled_from([0, 1, 5, 6, 10, 15, 30, 60]),
    st.integers(min_value=0, max_value=120),
)
def test_billable_is_never_less_than_worked_nor_the_minimum(minutes: int, rounding: int, minimum: int) -> None:
    billed = billable_minutes(minutes, rounding, minimum)
    assert billed >= minutes and billed >= minimum
    if rounding > 1 and billed > minimum:
        assert billed % rounding == 0 and billed - minutes < rounding


def hours_sum(column: list[str]) -> Decimal:
    return sum((Decimal(x) for x in column), Decimal(0))


@given(st.lists(st.tuples(st.sampled_from(["acme", "globex", "initech"]), st.integers(-600, 600)), max_size=30))
@example([("globex", 7), ("acme", 7), ("acme", 13), ("globex", 13), ("acme", 29)])
def test_a_clients_hours_are_the_same_alone_and_among_other_clients(rows: list[tuple[str, int]]) -> None:
    mixed = hours_column([m for _, m in rows], [c for c, _ in rows])
    for client in {c for c, _ in rows}:
        alone = hours_column([m for c, m in rows if c == client])
        assert [h for (c, _), h in zip(rows, mixed, strict=True) if c == client] == alone
        total = sum(m for c, m in rows if c == client)
        assert hours_sum(alone) == (Decimal(total) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
