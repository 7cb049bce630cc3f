"""Field values as typed (``bot.domain.fields``): times of day, notes, Slack markup, hours, prices,
renewals, ids, handles, Slack users and channels, and the settings' words."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from bot.domain.errors import ParseError
from bot.domain.fields import (
    NOTE_LIMIT,
    clean_note,
    find_ticket,
    is_number,
    parse_channel,
    parse_clock,
    parse_email,
    parse_grace,
    parse_hours,
    parse_id,
    parse_on_off,
    parse_optional_minutes,
    parse_overage_policy,
    parse_overdraft,
    parse_price,
    parse_psa_id,
    parse_renewal,
    parse_timezone,
    parse_url,
    parse_user,
    plain_markup,
    validate_handle,
)


def refused(parse, text: str, *args: object) -> ParseError:  # type: ignore[no-untyped-def]
    with pytest.raises(ParseError) as error:
        parse(text, *args)
    return error.value


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("22:00", time(22, 0)),
        ("9:30", time(9, 30)),
        ("0:05", time(0, 5)),
        ("23:59", time(23, 59)),
        ("10pm", time(22, 0)),
        (" 7:15AM ", time(7, 15)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("1am", time(1, 0)),
        ("11 pm", time(23, 0)),
    ],
)
def test_a_time_of_day(text: str, clock: time) -> None:
    assert parse_clock(text) == clock


@pytest.mark.parametrize("text", ["5", "24:00", "9:60", "0pm", "13pm", "9:5", "noon", "", "22:00:00"])
def test_no_time_of_day(text: str) -> None:
    assert parse_clock(text) is None


# notes


def test_a_note_loses_control_characters_and_tabs_become_spaces() -> None:
    assert clean_note("  fixed\tthe\x00 printer\x1b\x7f\x9f \n next  ") == "fixed the printer \n next"


def test_a_note_of_the_longest_size_is_kept_and_a_longer_one_refused() -> None:
    assert clean_note("x" * NOTE_LIMIT) == "x" * NOTE_LIMIT
    error = refused(clean_note, "x" * (NOTE_LIMIT + 1))
    assert "2,001 characters" in error.message and error.example == "logtime acme 1h printer fix #1234"


def test_the_limit_counts_what_is_kept() -> None:
    assert clean_note(" " * 10 + "x" * NOTE_LIMIT + "\x00" * 10) == "x" * NOTE_LIMIT


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("a\u200bb", "ab"),  # a zero width space between ASCII letters
        ("\u200dé\u200dé\u200d", "é\u200dé"),  # a joiner at either end joins nothing
        ("é\u200d b", "é b"),  # nor beside a space
        ("x\u200dé", "xé"),  # nor beside an ASCII letter
        ("é\u200d\u200b", "é"),
        ("\u200déé", "éé"),  # a joiner first joins nothing, whatever the last character
        ("\U0001f3f4\u200b", "\U0001f3f4"),  # only tag characters may follow a black flag
        ("\U0001f469\u200d\U0001f4bb", "\U0001f469\u200d\U0001f4bb"),  # woman technologist
        ("\U0001f3f4\U000e0067\U000e0062\U000e007f", "\U0001f3f4\U000e0067\U000e0062\U000e007f"),  # a flag
        ("a\U000e0067\U000e007f", "a"),  # tags with no black flag before them
        ("\U000e0067", ""),
        ("\U0001f3f4\U000e0020\U000e007f", "\U0001f3f4\U000e0020\U000e007f"),  # the first tag character
        ("\U0001f3f4\U000e007f\U000e007f", "\U0001f3f4\U000e007f"),  # a cancel tag ends the tags
    ],
)
def test_invisible_characters_are_dropped_but_those_text_needs(typed: str, kept: str) -> None:
    assert clean_note(typed) == kept


# Slack markup


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("<@U123|sam>", "@sam"),
        ("<@U123|@sam>", "@sam"),
        ("<@U123|Xavier>", "@Xavier"),
        ("<@U123>", "@U123"),
        ("<#C1|general>", "#general"),
        ("<#C1|#general>", "#general"),
        ("<#C1>", "#C1"),
        ("<!here>", "@here"),
        ("<!subteam^S1|@oncall>", "@oncall"),
        ("<!subteam^S1>", "@subteam"),
        ("<https://x.example|x.example>", "https://x.example"),
        ("<https://x.example/|https://x.example>", "https://x.example/"),
        ("<https://x.example/a/|x.example/a/>", "https://x.example/a/"),
        ("<https://x.example|here>", "here (https://x.example)"),
        ("<https://x.example/|/x.example>", "/x.example (https://x.example/)"),
        ("<mailto:sam@x.example|sam@x.example>", "sam@x.example"),
        ("<https://x.example>", "https://x.example"),
        ("<https://a.example/X|https://a.example/>", "https://a.example/ (https://a.example/X)"),
        (
            "<https://x.example/?u=https://y.example|x.example/?u=https://y.example>",
            "https://x.example/?u=https://y.example",
        ),
    ],
)
def test_slack_markup_reads_as_plain_words(text: str, plain: str) -> None:
    assert plain_markup(f"see {text} now") == f"see {plain} now"


# tickets and numbers


@pytest.mark.parametrize(
    ("note", "ticket"),
    [("fixed #42", "#42"), ("T20261125.0042 done", "T20261125.0042"), ("nothing", None), ("#abc", None)],
)
def test_the_ticket_a_note_names(note: str, ticket: str | None) -> None:
    assert find_ticket(note) == ticket


@pytest.mark.parametrize(
    ("text", "number"), [("15", True), ("+1.5", True), ("-2", True), ("1-2", False), ("1.", False), ("X5", False)]
)
def test_a_number(text: str, number: bool) -> None:
    assert is_number(text) is number


# hours and prices


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("10", 600), ("7.5", 450), ("0.25", 15), ("10h", 600), ("90m", 90), ("20000h", 1_200_000), ("166666", 9_999_960)],
)
def test_top_up_hours(text: str, minutes: int) -> None:
    assert parse_hours(text) == minutes


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("0", "a top-up must add more than zero hours"),
        ("0.0", "a top-up must add more than zero hours"),
        ("0m", "hours to add must be more than zero"),
        ("-5h", "hours to add must be more than zero"),
        ("ten", "is not a number of hours"),
        ("10 0", "is not a number of hours"),
        ("166667", "is more than any block could hold"),
        ("0.01", "is not a whole number of minutes"),
    ],
)
def test_top_up_hours_refused(text: str, why: str) -> None:
    assert why in refused(parse_hours, text).message


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ("1500", (Decimal("1500.00"), None)),
        ("1,500.5", (Decimal("1500.50"), None)),
        ("$1500", (Decimal("1500.00"), "USD")),
        ("€990", (Decimal("990.00"), "EUR")),
        ("£12.34", (Decimal("12.34"), "GBP")),
        ("9999999999.99", (Decimal("9999999999.99"), None)),
    ],
)
def test_a_price(text: str, price: tuple[Decimal, str | None]) -> None:
    assert parse_price(text) == price
    assert str(parse_price(text)[0]) == str(price[0])


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("$$1500", "is not a price."),
        ("¥1500", "is not a price."),
        ("-1500", "is not a price."),
        ("99999999999.99", "is not a price."),
        ("12.345", "at most two decimals"),
    ],
)
def test_a_price_refused(text: str, why: str) -> None:
    assert why in refused(parse_price, text).message


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("monthly", 1),
        ("Quarterly", 3),
        ("yearly", 12),
        ("annually", 12),
        ("annual", 12),
        ("6months", 6),
        ("1month", 1),
        ("18mo", 18),
        ("2", 2),
        ("120", 120),
        ("1", 1),
    ],
)
def test_a_renewal_period(text: str, months: int) -> None:
    assert parse_renewal(text) == months


@pytest.mark.parametrize("text", ["0", "121", "weekly", "six months", "٣", "months", "-1"])
def test_a_renewal_period_refused(text: str) -> None:
    assert "is not a renewal period" in refused(parse_renewal, text).message


# ids, handles, users and channels


@pytest.mark.parametrize(("text", "number"), [("42", 42), ("#42", 42), ("999999999999", 999999999999), ("007", 7)])
def test_an_id(text: str, number: int) -> None:
    assert parse_id(text, "an entry", "edit 42 45m") == number


@pytest.mark.parametrize("text", ["0", "#0", "x", "42#", "1000000000000", "٤٢", ""])
def test_an_id_refused(text: str) -> None:
    error = refused(parse_id, text, "an entry", "edit 42 45m")
    assert error.message == f"`{text}` is not an entry number." and error.example == "edit 42 45m"


@pytest.mark.parametrize(
    ("text", "handle"), [("Acme", "acme"), ("acme-corp.eu_2", "acme-corp.eu_2"), ("a" * 32, "a" * 32)]
)
def test_a_handle(text: str, handle: str) -> None:
    assert validate_handle(text) == handle


@pytest.mark.parametrize("text", ["1acme", "a" * 33, "ac me", "2h", "acme!"])
def test_a_handle_refused(text: str) -> None:
    assert "is not a usable handle" in refused(validate_handle, text).message


@pytest.mark.parametrize(("text", "user"), [("<@U123|sam>", "U123"), ("<@W9ZZ>", "W9ZZ"), ("U012ABCDEF", "U012ABCDEF")])
def test_a_slack_user(text: str, user: str) -> None:
    assert parse_user(text) == user


@pytest.mark.parametrize("text", ["sam", "C012ABCDEF", "u012abcdef", "U1", "<#C1|x>", "<@C123>"])
def test_a_slack_user_refused(text: str) -> None:
    assert "is not a Slack user ID" in refused(parse_user, text).message


@pytest.mark.parametrize(
    ("text", "channel"), [("<#C123|acme>", "C123"), ("<#G9>", "G9"), ("C012ABCDEF", "C012ABCDEF"), ("D12", "D12")]
)
def test_a_slack_channel(text: str, channel: str) -> None:
    assert parse_channel(text) == channel


@pytest.mark.parametrize("text", ["acme", "U012ABCDEF", "c012abcdef", "C1", "<@U1>"])
def test_a_slack_channel_refused(text: str) -> None:
    assert "is not a Slack channel" in refused(parse_channel, text).message


# the settings' words


def test_a_time_zone() -> None:
    assert parse_timezone("America/New_York") == "America/New_York"
    for wrong in ("Mars/Base", "../etc/passwd", ""):
        assert "is not a time zone I know" in refused(parse_timezone, wrong).message


@pytest.mark.parametrize(
    ("text", "minutes"), [("15m", 15), ("none", 0), ("OFF", 0), (" no ", 0), ("0", 0), ("2h", 120)]
)
def test_an_optional_duration(text: str, minutes: int) -> None:
    assert parse_optional_minutes(text) == minutes


def test_an_optional_duration_speaks_of_its_setting() -> None:
    error = refused(parse_optional_minutes, "15")
    assert error.message == "`rounding 15` has no unit: write 15m or 15h." and error.example == (
        "rounding 15m or rounding none"
    )
    error = refused(parse_optional_minutes, "-5m", "minimum")
    assert error.message == "`minimum -5m`: minimum can't be negative."
    assert error.example == "minimum 15m or minimum none"
    assert (
        refused(parse_optional_minutes, "0m", "minimum").message
        == "`minimum 0m`: for no minimum, write `minimum none`."
    )
    assert refused(parse_optional_minutes, "soon", "minimum").message == "`soon` is not a minimum I understand."


def test_an_optional_duration_is_at_most_the_longest_given() -> None:
    assert parse_optional_minutes("1h", "minimum", 60) == 60
    error = refused(parse_optional_minutes, "61m", "minimum", 60)
    assert "`minimum 61m` is longer than the longest entry (1h)" in error.message
    assert "billed at least 1h 1m" in error.message


def test_an_optional_duration_above_the_largest_of_all_is_refused() -> None:
    assert parse_optional_minutes("166666h") == 9_999_960
    error = refused(parse_optional_minutes, "166667h")
    assert error.message == "`rounding 166667h` is more than the largest rounding, 166666h 40m."
    assert error.example == "rounding 15m or rounding none"


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("2h", 120), ("unlimited", None), ("Any", None), ("always", None), ("none", 0), ("0", 0), (" 30m ", 30)],
)
def test_an_overdraft(text: str, minutes: int | None) -> None:
    assert parse_overdraft(text) == minutes


def test_an_overdraft_refusal_offers_its_own_words() -> None:
    error = refused(parse_overdraft, "2")
    assert error.message == "`overdraft 2` has no unit: write 2m or 2h."
    assert error.example == "overdraft 2h, overdraft none or overdraft unlimited"
    assert refused(parse_overdraft, "999999999h").example == "overdraft unlimited"


@pytest.mark.parametrize(
    ("text", "days"), [("7d", 7), ("7 days", 7), ("1day", 1), ("7", 7), ("none", 0), ("3650", 3650)]
)
def test_days_of_grace(text: str, days: int) -> None:
    assert parse_grace(text) == days


@pytest.mark.parametrize("text", ["3651", "a week", "-1", "٧"])
def test_days_of_grace_refused(text: str) -> None:
    assert "is not a number of days" in refused(parse_grace, text).message


def test_an_overage_policy() -> None:
    assert (parse_overage_policy("Carry"), parse_overage_policy("BILL")) == ("carry", "bill")
    assert "use carry or bill" in refused(parse_overage_policy, "forgive").message


@pytest.mark.parametrize(
    ("text", "on"), [("on", True), ("Yes", True), ("true", True), ("off", False), ("NO", False), ("false", False)]
)
def test_on_or_off(text: str, on: bool) -> None:
    assert parse_on_off(text) is on


def test_neither_on_nor_off() -> None:
    assert "say on or off" in refused(parse_on_off, "maybe").message


def test_an_email_address_as_typed_or_as_slack_sends_it() -> None:
    assert parse_email("am@msp.example") == "am@msp.example"
    assert parse_email("<mailto:am@msp.example|am@msp.example>") == "am@msp.example"
    for wrong in ("am@msp", "am msp@x.example", "@x.example"):
        assert "is not an e-mail address" in refused(parse_email, wrong).message


def test_a_url_as_typed_or_as_slack_sends_it() -> None:
    assert parse_url("https://psa.example/hook") == "https://psa.example/hook"
    assert parse_url("<http://psa.example/h|psa.example/h>") == "http://psa.example/h"
    for wrong in ("ftp://psa.example", "psa.example", "https://"):
        assert "is not an http(s) URL" in refused(parse_url, wrong).message


@pytest.mark.parametrize(("text", "found"), [("250", "250"), ("none", None), ("OFF", None), ("9" * 12, "9" * 12)])
def test_a_psa_id(text: str, found: str | None) -> None:
    assert parse_psa_id(text, "psa-company") == found


@pytest.mark.parametrize("text", ["9" * 13, "abc", "-1", "²"])
def test_a_psa_id_refused(text: str) -> None:
    assert f"`psa-company` takes the PSA's id (a number) or none, not `{text}`." in (
        refused(parse_psa_id, text, "psa-company").message
    )
