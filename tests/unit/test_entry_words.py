"""The words after the client: a date, `at`, `as` and the duration are read wherever they stand, each
once; what reads two ways is refused, never kept as note text or billed as something else."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import commands as c
from bot.domain.errors import ParseError
from bot.domain.grammar import parse_command, parse_logtime
from bot.domain.threads import parse_thread_line

TODAY = date(2026, 11, 25)  # a Wednesday


def log(text: str) -> c.LogTime:
    command = parse_command(text, TODAY)
    assert isinstance(command, c.LogTime)
    return command


def refused(text: str) -> str:
    with pytest.raises(ParseError) as caught:
        parse_command(text, TODAY)
    assert caught.value.example  # every refusal carries an example
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "day", "note"),
    [
        ("logtime demo 1h #77 2026-11-20", date(2026, 11, 20), "#77"),
        ("logtime acme 1h printer yesterday", date(2026, 11, 24), "printer"),
        ("logtime acme 1h printer on friday", date(2026, 11, 20), "printer"),
        ("logtime acme 1h printer on fri", date(2026, 11, 20), "printer"),
        ("logtime acme 1h printer fix, yesterday.", date(2026, 11, 24), "printer fix,"),
        ("logtime acme printer 3 days ago 1h", date(2026, 11, 22), "printer"),
        ("logtime acme 1h toner may 3", date(2026, 5, 3), "toner"),
        ("logtime acme 1h toner 3 may", date(2026, 5, 3), "toner"),
        ("logtime acme 1h toner 20/11", date(2026, 11, 20), "toner"),
        ("logtime acme 1h yesterday toner 2026-11-24", date(2026, 11, 24), "toner"),  # the same day twice
    ],
)
def test_a_date_after_the_note_dates_the_work(text: str, day: date, note: str) -> None:
    command = log(text)
    assert (command.work_date(TODAY), command.note) == (day, note)


def test_the_ticket_stays_recognised_beside_a_date() -> None:
    assert log("logtime demo 1h #77 2026-11-20").ticket == "#77"
    assert log("logtime demo 1h yesterday reset T20261125.0042").ticket == "T20261125.0042"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("logtime demo 1h #77 2026-11-27", "future"),
        ("logtime acme 1h fixed printer tomorrow", "future"),
        ("logtime acme 1h printer next friday", "future"),
        ("logtime acme 1h fixed printer 11/12", "could be 12 Nov or 11 Dec"),
        ("logtime acme 1h printer last month", "names no single day"),
        ("logtime acme 1h printer last week", "names no single day"),
        ("logtime acme 1h printer 31/11", "not a real date"),
        ("logtime acme 1h printer monday toner tuesday", "Two dates"),
        ("logtime acme 1h helped the user sat", "could be Saturday"),
    ],
)
def test_a_date_that_is_ahead_ambiguous_or_no_day_is_refused_wherever_it_stands(text: str, why: str) -> None:
    assert why in refused(text)


@pytest.mark.parametrize(
    "note",
    [
        "printer on level 3",
        "fixed #12",
        "3rd floor printer",
        "patched ports 1-24",
        "split 50/50 with sam",
        "helped user, sat with them",
        "may need a new toner",
        "at the office",
        "the sun server",
    ],
)
def test_note_text_with_digits_or_date_like_words_stays_note_text(note: str) -> None:
    command = log(f"logtime acme 1h {note}")
    assert (command.note, command.when, command.minutes) == (note, None, 60)


def test_a_weekday_abbreviation_right_after_the_duration_is_a_date_as_before() -> None:
    command = log("logtime acme 1h sat server patching")
    assert (command.work_date(TODAY), command.note) == (date(2026, 11, 21), "server patching")


def test_as_type_after_note_words_names_the_work_type() -> None:
    command = log("logtime acme 1h printer fix as onsite")
    assert (command.work_type, command.note) == ("onsite", "printer fix")


def test_a_timer_reads_as_type_after_its_note() -> None:
    assert parse_command("logtime start umbrella short as onsite", TODAY) == c.TimerStart("umbrella", "short", "onsite")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("logtime acme 1h as onsite as afterhours", "Two work types: `as onsite` and `as afterhours`"),
        ("logtime acme 1h at 22:00 patch at 23:00", "Two times of day"),
        ("logtime acme 1h -30m", "`-30m`"),
        ("logtime acme 1h 30m 15m", "Two durations: 1h 30m and 15m"),
        ("logtime acme 1h printer 30m", "Two durations: 1h and 30m"),
        ("logtime start umbrella as onsite as afterhours", "Two work types"),
    ],
)
def test_a_repeated_key_or_a_second_duration_is_refused_with_an_example(text: str, why: str) -> None:
    assert why in refused(text)


def test_two_durations_suggest_their_sum() -> None:
    with pytest.raises(ParseError) as caught:
        parse_command("logtime acme 1h 30m 15m printer", TODAY)
    assert "1h45m" in caught.value.message and caught.value.example == "logtime acme 1h45m yesterday printer fix"


def test_the_same_key_given_twice_with_one_value_is_taken_once() -> None:
    command = log("logtime acme 1h as onsite printer as onsite")
    assert (command.work_type, command.note) == ("onsite", "printer")


def test_the_duration_may_stand_after_the_note() -> None:
    command = log("logtime acme printer fix 45m")
    assert (command.minutes, command.typed, command.note) == (45, "45m", "printer fix")


def test_a_line_without_a_duration_is_refused_with_an_example() -> None:
    assert "no duration" in refused("logtime acme printer fix")
    assert "has no unit" in refused("logtime acme 90 laptop")


def test_a_timer_takes_no_duration() -> None:
    assert "A timer takes no duration" in refused("logtime start acme 2h printer")
    with pytest.raises(ParseError, match="logtime acme 2h printer fix"):
        parse_command("logtime start acme printer 2h", TODAY)


@pytest.mark.parametrize(
    "text", ["logtime start acme printer yesterday", "logtime stop at 22:00", "logtime stop friday"]
)
def test_a_timer_refuses_a_date_rather_than_keeping_it_as_note(text: str) -> None:
    assert "dated by its start" in refused(text)


def test_stop_reads_the_real_time_anywhere_and_keep_alone() -> None:
    assert parse_command("logtime stop toner swap 2h", TODAY) == c.TimerStop("toner swap", minutes=120)
    assert "either `keep` or the real time" in refused("logtime stop keep 2h")


def test_a_thread_line_follows_the_same_rules() -> None:
    line = parse_thread_line("+30m replaced toner yesterday as onsite", TODAY)
    assert line is not None and (line.minutes, line.when, line.work_type, line.note) == (
        30,
        "yesterday",
        "onsite",
        "replaced toner",
    )
    for text, why in (("+30m toner 15m", "Two durations"), ("+30m toner tomorrow", "future")):
        with pytest.raises(ParseError, match=why):
            parse_thread_line(text, TODAY)


def test_a_linked_channel_line_may_start_with_a_date_or_a_key() -> None:
    command = parse_logtime(["yesterday", "30m", "fixed", "VPN"], TODAY, 1440, client_required=False)
    assert (command.client, command.when, command.note) == (None, "yesterday", "fixed VPN")
    command = parse_logtime(["as", "onsite", "30m", "VPN"], TODAY, 1440, client_required=False)
    assert (command.client, command.work_type) == (None, "onsite")


_DATES = {
    "yesterday": date(2026, 11, 24),
    "2026-11-20": date(2026, 11, 20),
    "last friday": date(2026, 11, 20),
    "on monday": date(2026, 11, 23),
    "3 days ago": date(2026, 11, 22),
    "27 oct": date(2026, 10, 27),
}
_NOTE_WORDS = st.lists(
    st.sampled_from(["printer", "fix", "#1234", "level", "3", "toner", "3rd", "floor", "VPN", "for", "sam"]),
    max_size=5,
)


@given(
    duration=st.sampled_from([("1h30m", 90), ("45m", 45), ("1 hr 15 mins", 75), ("2:05", 125)]),
    when=st.sampled_from(sorted(_DATES)),
    work_type=st.sampled_from(["onsite", "afterhours"]),
    note=_NOTE_WORDS,
    order=st.permutations(range(4)),
    note_at=st.integers(min_value=0, max_value=3),
    non_billable=st.booleans(),
)
def test_any_order_of_the_words_gives_the_same_date_type_and_minutes(
    duration: tuple[str, int],
    when: str,
    work_type: str,
    note: list[str],
    order: list[int],
    note_at: int,
    non_billable: bool,
) -> None:
    parts = [duration[0], when, f"as {work_type}", "--nb" if non_billable else ""]
    words = [parts[i] for i in order]
    words.insert(note_at, " ".join(note))
    command = log(f"logtime acme {' '.join(w for w in words if w)}")
    assert (command.minutes, command.work_date(TODAY), command.work_type, command.non_billable) == (
        duration[1],
        _DATES[when],
        work_type,
        non_billable,
    )
    assert command.note == " ".join(note)


def test_a_date_shaped_number_where_the_date_stands_is_a_mistyped_date_not_the_note() -> None:
    assert "not a real date" in refused("logtime acme 1h 99/99 printer")
    assert log("logtime acme 1h printer split 99/99").note == "printer split 99/99"
