"""Time lines in ticket threads (``bot.domain.threads.parse_thread_line``): a line that starts with
``+<duration>`` or ``time:`` is time for the thread's client; anything else is chat."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.commands import LogTime
from bot.domain.errors import ParseError
from bot.domain.threads import EXAMPLE, parse_thread_line

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    "text",
    [
        "thanks, that fixed it",
        "+1",
        "  +1  ",
        "+1!",
        "+1.",
        "+1 agreed",
        "+1 Same here",
        "+ toner",
        "+abc",
        "timer is running",
        "the time: 10 minutes",
        "",
    ],
)
def test_chat_is_no_time_line(text: str) -> None:
    assert parse_thread_line(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "minutes", "typed", "note"),
    [
        ("+30m replaced toner", 30, "30m", "replaced toner"),
        ("  + 45m  cabling  ", 45, "45m", "cabling"),
        ("+1 hr fixed", 60, "1 hr", "fixed"),
        ("+1 hours fixed", 60, "1 hours", "fixed"),
        ("+1 m fixed", 1, "1 m", "fixed"),
        ("+0.5h", 30, "0.5h", ""),
        ("+1:30 migration", 90, "1:30", "migration"),
        ("time: 1h15m rebuilt profile", 75, "1h15m", "rebuilt profile"),
        ("TIME : 20m call", 20, "20m", "call"),
        ("time:5m", 5, "5m", ""),
    ],
)
def test_a_time_line_is_an_entry_for_the_threads_client(text: str, minutes: int, typed: str, note: str) -> None:
    assert parse_thread_line(text, TODAY) == LogTime(None, minutes, typed, None, note)


def test_a_time_line_keeps_the_ticket_of_its_note() -> None:
    line = parse_thread_line("+15m called back about #4321", TODAY)
    assert line is not None and line.ticket == "#4321"


def test_a_time_line_without_a_duration_is_refused_with_an_example() -> None:
    with pytest.raises(ParseError) as refused:
        parse_thread_line("time:   ", TODAY)
    assert "duration is missing" in refused.value.message
    assert refused.value.example == EXAMPLE


def test_an_unreadable_time_line_says_it_was_not_logged_and_why() -> None:
    with pytest.raises(ParseError) as refused:
        parse_thread_line("+0m nothing", TODAY)
    assert refused.value.message.startswith("Not logged: ")
    assert "zero" in refused.value.message
    assert refused.value.example == EXAMPLE


def test_a_time_line_may_not_name_a_client() -> None:
    with pytest.raises(ParseError, match="this channel already names the client") as refused:
        parse_thread_line("time: acme 30m printer", TODAY)
    assert refused.value.example == EXAMPLE


def test_the_longest_entry_is_the_callers() -> None:
    with pytest.raises(ParseError, match="more than 24h"):
        parse_thread_line("+25h migration", TODAY)
    line = parse_thread_line("+25h migration", TODAY, max_minutes=25 * 60)
    assert line is not None and line.minutes == 25 * 60
