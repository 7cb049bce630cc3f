"""Work types and their multipliers (``bot.domain.worktypes``): names as handles, multipliers as exact
decimals above 0 and at most 10, shown without trailing zeros."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain.errors import ParseError
from bot.domain.worktypes import MAX_MULTIPLIER, STANDARD, multiplier_label, parse_multiplier, parse_work_type, plain


@pytest.mark.parametrize(
    ("text", "name"),
    [("onsite", "onsite"), ("  OnSite ", "onsite"), ("after-hours_2", "after-hours_2"), ("x" * 32, "x" * 32)],
)
def test_a_work_type_name_is_a_lower_case_handle(text: str, name: str) -> None:
    assert parse_work_type(text) == name


@pytest.mark.parametrize("text", ["", "2nd", "-onsite", "on site", "on.site", "x" * 33, "onsité"])
def test_a_name_that_is_no_handle_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(ParseError, match="is not a work type name") as refused:
        parse_work_type(text)
    assert refused.value.example == "worktype add onsite 1.5"


def test_standard_is_a_work_type_name() -> None:
    assert parse_work_type(STANDARD) == "standard"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("1.5", "1.5"),
        ("x1.5", "1.5"),
        ("X2", "2"),
        ("×2", "2"),
        (" 0.5 ", "0.5"),
        ("1.250", "1.25"),
        ("0.001", "0.001"),
        ("10", "10"),
        ("10.000", "10"),
    ],
)
def test_a_multiplier_is_an_exact_decimal_without_trailing_zeros(text: str, shown: str) -> None:
    value = parse_multiplier(text)
    assert str(value) == shown
    assert value == Decimal(shown)


@pytest.mark.parametrize("text", ["0", "0.0001", "-1", "10.001", "11", "1.0005", "NaN", "Infinity", "-Infinity"])
def test_a_multiplier_out_of_range_or_too_precise_is_refused(text: str) -> None:
    with pytest.raises(ParseError, match=f"at most {MAX_MULTIPLIER}, with at most three decimals") as refused:
        parse_multiplier(text)
    assert refused.value.example == "worktype add onsite 1.5"


@pytest.mark.parametrize("text", ["", "double", "1,5", "x"])
def test_words_are_no_multiplier(text: str) -> None:
    with pytest.raises(ParseError, match="is not a multiplier") as refused:
        parse_multiplier(text)
    assert refused.value.example == "worktype add onsite 1.5"


@pytest.mark.parametrize(
    ("stored", "shown"), [("1.500", "1.5"), ("10.000", "10"), ("2", "2"), ("0.125", "0.125"), ("1E+1", "10")]
)
def test_a_stored_multiplier_reads_plainly(stored: str, shown: str) -> None:
    assert str(plain(Decimal(stored))) == shown


@pytest.mark.parametrize(("stored", "label"), [("1.500", "×1.5"), ("2.000", "×2"), ("10", "×10"), ("0.25", "×0.25")])
def test_a_multiplier_label(stored: str, label: str) -> None:
    assert multiplier_label(Decimal(stored)) == label
