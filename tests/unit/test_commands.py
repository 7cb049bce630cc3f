"""The command grammar shared by Slack and the CLI."""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import commands as c
from bot.domain.dates import Period
from bot.domain.errors import DomainError, ParseError
from bot.domain.fields import clean_note, plain_markup
from bot.domain.grammar import parse_command, parse_logtime
from bot.domain.helptext import help_text
from bot.domain.roles import Role

TODAY = date(2026, 11, 25)  # a Wednesday


def parse(text: str) -> c.Command:
    return parse_command(text, TODAY)


def test_logtime_reads_client_duration_and_note() -> None:
    command = parse("logtime acme 15m laptop advice")
    assert command == c.LogTime("acme", 15, "15m", None, "laptop advice", False, None)
    assert isinstance(command, c.LogTime) and command.work_date(TODAY) == TODAY


def test_logtime_reads_a_work_date_and_a_ticket() -> None:
    command = parse("logtime acme 1h30m yesterday onsite printer fix #1234")
    assert isinstance(command, c.LogTime)
    assert (command.minutes, command.when, command.note, command.ticket) == (
        90,
        "yesterday",
        "onsite printer fix #1234",
        "#1234",
    )
    assert command.work_date(TODAY) == date(2026, 11, 24)


@pytest.mark.parametrize(
    ("note", "ticket"),
    [
        ("printer #1234", "#1234"),
        ("reset password T20261125.0042", "T20261125.0042"),  # an Autotask ticket number
        ("see #T20261125.0042 too", "T20261125.0042"),
        ("#77 and T20261125.0042", "#77"),  # a #number first
        ("version T20261125.00421 or xT20261125.0042", None),  # not a ticket number
        ("R&D #5 is no ticket", "#5"),
        ("&#8212; an entity", None),
    ],
)
def test_a_note_names_its_ticket(note: str, ticket: str | None) -> None:
    command = parse(f"logtime acme 15m {note}")
    assert isinstance(command, c.LogTime) and command.ticket == ticket


@pytest.mark.parametrize(
    ("word", "day"),
    [
        ("monday", date(2026, 11, 23)),
        ("wed", date(2026, 11, 25)),
        ("thursday", date(2026, 11, 19)),
        ("2026-11-02", date(2026, 11, 2)),
    ],
)
def test_a_weekday_means_the_most_recent_one(word: str, day: date) -> None:
    command = parse(f"logtime acme 15m {word} advice")
    assert isinstance(command, c.LogTime) and command.work_date(TODAY) == day


def test_work_in_the_future_is_refused() -> None:
    with pytest.raises(ParseError, match="future"):
        parse("logtime acme 15m 2026-12-01 advice")


@pytest.mark.parametrize("flag", ["--nb", "non-billable"])
def test_non_billable_flags_are_recognised_anywhere(flag: str) -> None:
    command = parse(f"logtime acme 20m {flag} quick question")
    assert isinstance(command, c.LogTime) and command.non_billable and command.note == "quick question"


def test_the_client_is_case_insensitive() -> None:
    command = parse("LOGTIME ACME 15m x")
    assert isinstance(command, c.LogTime) and command.client == "acme"


def test_logtime_without_a_client_is_refused_with_an_example() -> None:
    with pytest.raises(ParseError, match="which client") as caught:
        parse("logtime 15m advice")
    assert "logtime acme 15m" in str(caught.value)


def test_a_linked_channel_may_leave_the_client_out() -> None:
    command = parse_logtime(["30m", "fixed", "VPN"], TODAY, 1440, client_required=False)
    assert command.client is None and command.minutes == 30 and command.note == "fixed VPN"


def test_topup_reads_every_option() -> None:
    command = parse("topup acme 10 expires 2027-06-30 price 1,500 EUR ref INV-1001 renew yearly first block")
    assert command == c.TopUp(
        "acme", 600, date(2027, 6, 30), None, Decimal("1500.00"), "EUR", "INV-1001", 12, "first block"
    )


@pytest.mark.parametrize(("hours", "minutes"), [("10", 600), ("7.5", 450), ("10h", 600), ("90m", 90)])
def test_topup_hours_may_be_a_number_or_a_duration(hours: str, minutes: int) -> None:
    command = parse(f"topup acme {hours}")
    assert isinstance(command, c.TopUp) and command.minutes == minutes and command.expires_on is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("topup acme", "how many hours"),
        ("topup acme 0", "more than zero"),
        ("topup acme 10 price abc", "not a price"),
        ("topup acme 10 expires 2026-02-30", "not a real date"),
        ("topup acme 10 expires", "needs a value"),
        ("topup acme 10 starts 2027-01-01 expires 2026-12-01", "before it starts"),
    ],
)
def test_topup_mistakes_are_explained(text: str, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        parse(text)


def test_entries_reads_periods() -> None:
    assert parse("entries acme") == c.Entries("acme", Period(date(2026, 11, 1), date(2026, 12, 1), "November 2026"))
    last = parse("entries acme last month")
    assert isinstance(last, c.Entries) and last.period.start == date(2026, 10, 1)
    month = parse("entries acme 2026-02")
    assert isinstance(month, c.Entries) and month.period.end == date(2026, 3, 1)


def test_void_and_edit() -> None:
    assert parse("void 42 wrong client") == c.VoidEntry(42, "wrong client")
    assert parse("void topup 7") == c.VoidTopUp(7, "")
    assert parse("edit 42 45m yesterday setup") == c.EditEntry(42, 45, "45m", "yesterday", "setup", None)
    with pytest.raises(ParseError, match="not an entry number"):
        parse("void abc")


def test_client_subcommands() -> None:
    assert parse("client add acme Acme Corporation") == c.ClientAdd("acme", "Acme Corporation")
    assert parse("client alias acme acme-corp") == c.ClientAlias("acme", "acme-corp")
    assert parse("client rename acme Acme Corp") == c.ClientRename("acme", "Acme Corp")
    assert parse("client archive acme") == c.ClientArchive("acme", True)
    settings_ = parse(
        "client set acme rounding 15m minimum 30m overdraft none overage bill "
        "manager <@U123|sam> channel <#C99|acme> timezone Europe/Berlin thresholds 50%,2h,0"
    )
    assert isinstance(settings_, c.ClientSet)
    assert settings_.changes == {
        "rounding_minutes": 15,
        "minimum_minutes": 30,
        "overdraft_minutes": 0,
        "overage_policy": "bill",
        "account_manager": "U123",
        "alert_channel": "C99",
        "timezone": "Europe/Berlin",
        "thresholds": "50%,2h,0m",
    }
    unlimited = parse("client set acme overdraft unlimited")
    assert isinstance(unlimited, c.ClientSet) and unlimited.changes == {"overdraft_minutes": None}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("client add 1h One", "not a usable handle"),
        ("client set acme colour red", "not a client setting"),
        ("client set acme timezone Mars/Base", "time zone"),
        ("client set acme overage maybe", "carry or bill"),
        ("client set acme manager bob", "not a Slack user"),
    ],
)
def test_client_mistakes_are_explained(text: str, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        parse(text)


def test_roles_and_help() -> None:
    assert parse("role <@U42|sam> manager") == c.SetRole("U42", Role.MANAGER)
    assert isinstance(parse("help"), c.Help) and "logtime" in help_text()
    assert parse("") == c.Help()
    with pytest.raises(DomainError, match="not a role"):
        parse("role <@U42> boss")


def test_an_unknown_command_is_refused() -> None:
    with pytest.raises(ParseError, match="not a command I know"):
        parse("frobnicate acme")


@settings(max_examples=300)
@given(st.text(max_size=80))
def test_random_command_text_never_crashes(text: str) -> None:
    for prefix in ("", "logtime ", "topup acme ", "client set acme ", "entries acme ", "void "):
        try:
            parse(prefix + text)
        except DomainError as error:
            assert str(error)


def test_an_overdraft_above_the_largest_suggests_unlimited_not_none() -> None:
    with pytest.raises(ParseError) as caught:
        parse("client set acme overdraft 99999999h")
    assert "overdraft unlimited" in caught.value.message and caught.value.example == "overdraft unlimited"
    assert "none" not in str(caught.value)
    with pytest.raises(ParseError, match="overdraft none"):  # zero still means none
        parse("client set acme overdraft 0h")


def test_help_shows_the_topup_start_and_renewal() -> None:
    assert "[starts YYYY-MM-DD]" in help_text("topup") and "[renew monthly|quarterly|yearly" in help_text()


# -- notes: invisible format characters --------------------------------------------------------------------

WOMAN_TECHNOLOGIST = "\U0001f469\u200d\U0001f4bb"
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("paid \u202etxt.exe", "paid txt.exe"),  # a right-to-left override turns the words around
        ("pay\u200bpal reset", "paypal reset"),  # zero width space
        ("\ufeffprinter \u2066fix\u2069", "printer fix"),  # BOM, an isolate
        ("pay\u200dpal", "paypal"),  # a joiner between Latin letters joins nothing
        (f"setup {WOMAN_TECHNOLOGIST} done", f"setup {WOMAN_TECHNOLOGIST} done"),
        (f"{ENGLAND} office", f"{ENGLAND} office"),
        ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"),
        ("line one\nline two", "line one\nline two"),
    ],
)
def test_a_note_loses_invisible_format_characters_but_keeps_the_joiners_text_needs(typed: str, stored: str) -> None:
    assert clean_note(typed) == stored
    command = parse(f"logtime acme 15m {typed}")
    assert isinstance(command, c.LogTime) and command.note == " ".join(stored.split())


@given(st.text(max_size=60))
def test_a_cleaned_note_has_no_format_character_but_a_joiner_or_a_flags_tags(text: str) -> None:
    cleaned = clean_note(text)
    for i, char in enumerate(cleaned):
        if unicodedata.category(char) == "Cf":
            assert char in "\u200c\u200d" or "\U000e0020" <= char <= "\U000e007f", repr(cleaned)
            assert 0 < i < len(cleaned) - 1 or char == "\U000e007f"


@pytest.mark.parametrize(
    ("note", "plain"),
    [
        ("helped <@U123|sam> and <@U456>", "helped @sam and @U456"),
        ("in <#C123|general> and <#C456>", "in #general and #C456"),
        ("<!here> <!channel> <!subteam^S1|@oncall>", "@here @channel @oncall"),
        ("see <https://docs.example/a>", "see https://docs.example/a"),
        ("see <https://docs.example/|docs.example>", "see https://docs.example/"),
        ("see <https://evil.example|https://bank.example>", "see https://bank.example (https://evil.example)"),
        ("mail <mailto:it@acme.example|it@acme.example>", "mail it@acme.example"),
        ("a < b and c > d", "a < b and c > d"),
    ],
)
def test_slack_markup_reads_as_plain_words_and_a_label_never_hides_its_url(note: str, plain: str) -> None:
    assert plain_markup(note) == plain
