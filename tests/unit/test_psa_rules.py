"""What an entry becomes in the PSA and how the two sides compare (``bot.domain.psa_records``): the ticket it is
charged to, when it started, hours as minutes, the differences a reconciliation shows and an entry's
sync state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.domain.psa_records import (
    Difference,
    OurTime,
    PsaTime,
    SyncState,
    TheirTime,
    compare,
    cycle_holding,
    masked,
    minutes_of_hours,
    service_ticket,
    start_of,
    sync_state,
    ticket_id,
)

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_psa_record_ends_its_minutes_after_its_start() -> None:
    start = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    record = PsaTime("bt-1", "250", "30", "7", None, None, None, start, 95, True, "printer")
    assert record.end == datetime(2026, 11, 25, 9, 35, tzinfo=UTC)
    assert record.work_date is None


# the ticket an entry is charged to


@pytest.mark.parametrize(
    ("ticket", "found"),
    [
        ("#1234", "1234"),
        ("1234", "1234"),
        (" #1234 ", "1234"),
        ("#1234567890", "1234567890"),
        ("T20261125.0042", "T20261125.0042"),
        ("#T20261125.0042", "T20261125.0042"),
    ],
)
def test_a_ticket_number_names_a_service_ticket(ticket: str, found: str) -> None:
    assert ticket_id(ticket) == found


@pytest.mark.parametrize(
    "ticket",
    [
        None,
        "",
        "#12345678901",
        "#12a",
        "ticket #1234",
        "https://acme.slack.com/archives/C1/p1700000000000100",
        "t20261125.0042",
        "T2026112.0042",
    ],
)
def test_a_link_or_other_words_name_no_service_ticket(ticket: str | None) -> None:
    assert ticket_id(ticket) is None


def test_an_entrys_own_ticket_comes_first() -> None:
    assert service_ticket("#10", "see #20", ["#30"]) == "10"


def test_without_a_ticket_number_the_note_names_it() -> None:
    permalink = "https://acme.slack.com/archives/C1/p1700000000000100"
    assert service_ticket(permalink, "see #20", ["#30"]) == "20"
    assert service_ticket(None, "call about T20261125.0042", ()) == "T20261125.0042"


def test_without_one_in_the_note_the_first_ticket_of_its_thread_names_it() -> None:
    assert service_ticket(None, "follow-up", ["no ticket here", "replaced toner #30", "#40"]) == "30"


def test_an_entry_naming_no_ticket_is_charged_to_the_company() -> None:
    assert service_ticket(None, "printer fix", ["more chat"]) is None
    assert service_ticket(None, "printer fix") is None


# when the work started


def test_a_timed_entry_keeps_its_start_in_utc() -> None:
    started = datetime(2026, 11, 25, 22, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert start_of(date(2026, 11, 25), started, "Europe/Berlin", untimed_before=60) == datetime(
        2026, 11, 26, 3, 30, tzinfo=UTC
    )


def test_an_untimed_entry_starts_at_nine_on_the_clients_clock() -> None:
    start = start_of(date(2026, 11, 25), None, "America/New_York")
    assert start == datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    assert start.tzinfo is UTC


def test_untimed_entries_of_a_day_follow_one_another() -> None:
    assert start_of(date(2026, 7, 1), None, "Europe/Berlin", untimed_before=90) == datetime(
        2026, 7, 1, 8, 30, tzinfo=UTC
    )


# hours and addresses as the PSA gives them


@pytest.mark.parametrize(
    ("hours", "minutes"),
    [(0.25, 15), (0.17, 10), ("1.5", 90), (2, 120), (0.125, 8), ("0.175", 11), ("0.0083", 0)],
)
def test_a_psas_decimal_hours_are_whole_minutes_rounded_half_up(hours: object, minutes: int) -> None:
    assert minutes_of_hours(hours) == minutes


@pytest.mark.parametrize(
    ("email", "shown"), [("tina@msp.example", "t…@msp.example"), (" sam@x.example ", "s…@x.example"), ("tina", "…")]
)
def test_an_address_is_shown_masked(email: str, shown: str) -> None:
    assert masked(email) == shown


# the agreement's cycle


def test_an_agreement_without_an_end_has_whole_cycles() -> None:
    assert cycle_holding("CalendarMonth", date(2026, 1, 15), None, date(2026, 11, 25)) == (
        date(2026, 11, 1),
        date(2026, 11, 30),
    )
    assert cycle_holding("ContractQuarter", date(2026, 1, 15), None, date(2026, 11, 25)) == (
        date(2026, 10, 15),
        date(2027, 1, 14),
    )


def test_after_an_agreement_ends_its_last_cycle_holds() -> None:
    assert cycle_holding("CalendarMonth", date(2026, 1, 1), date(2026, 6, 30), date(2026, 11, 25)) == (
        date(2026, 6, 1),
        date(2026, 6, 30),
    )
    assert cycle_holding("CalendarWeek", date(2026, 1, 1), date(2026, 6, 30), date(2026, 6, 30)) == (
        date(2026, 6, 29),
        date(2026, 6, 30),
    )


def test_a_contract_month_cycle_starts_on_the_agreements_day() -> None:
    assert cycle_holding("ContractYear", date(2025, 3, 31), None, date(2026, 3, 30)) == (
        date(2025, 3, 31),
        date(2026, 3, 30),
    )
    assert cycle_holding("ContractQuarter", date(2026, 1, 31), None, date(2026, 4, 29)) == (
        date(2026, 1, 31),
        date(2026, 4, 29),
    )


def test_a_contract_week_cycle_counts_from_the_agreements_start() -> None:
    assert cycle_holding("Contract2Weeks", date(2026, 1, 1), None, date(2026, 1, 14)) == (
        date(2026, 1, 1),
        date(2026, 1, 14),
    )
    assert cycle_holding("Contract2Weeks", date(2026, 1, 1), None, date(2026, 1, 15)) == (
        date(2026, 1, 15),
        date(2026, 1, 28),
    )


# reconciliation


def ours(entry_id: int, minutes: int, psa_id: str | None = None, reference: str | None = None) -> OurTime:
    return OurTime(entry_id, psa_id, reference, date(2026, 11, 20), minutes, "tina", f"note {entry_id}")


def theirs(psa_id: str, minutes: int, reference: str | None = None, day: int = 20) -> TheirTime:
    return TheirTime(psa_id, reference, datetime(2026, 11, day, 8, 0, tzinfo=UTC), minutes, "tina", "")


def test_records_that_match_our_entries_make_no_difference() -> None:
    found = compare(
        [ours(1, 30, psa_id="p1"), ours(2, 45, reference="bt-2")],
        [theirs("p1", 30), theirs("p2", 45, reference="bt-2")],
        BERLIN,
    )
    assert found == []


def test_an_entry_the_psa_lacks_is_missing() -> None:
    (missing,) = compare([ours(1, 30, psa_id="gone", reference="bt-1")], [], BERLIN)
    assert missing == Difference(
        "missing", 1, None, date(2026, 11, 20), 30, None, "entry #1 (tina, note 1) is not in the PSA"
    )


def test_an_entry_without_a_note_says_so() -> None:
    entry = OurTime(3, None, None, date(2026, 11, 20), 15, "sam", "")
    (missing,) = compare([entry], [], BERLIN)
    assert missing.text == "entry #3 (sam, no note) is not in the PSA"


def test_other_minutes_in_the_psa_are_a_difference_of_hours() -> None:
    (hours,) = compare([ours(1, 30, reference="bt-1")], [theirs("p1", 45, reference="bt-1")], BERLIN)
    assert hours == Difference(
        "hours", 1, "p1", date(2026, 11, 20), 30, 45, "entry #1 has 30 min here, 45 min in the PSA (record p1)"
    )


def test_a_psa_record_that_is_no_entry_here_is_extra_on_its_day_in_the_zone() -> None:
    late = TheirTime("p7", None, datetime(2026, 11, 20, 23, 30, tzinfo=UTC), 60, "sam", "server reboot")
    (extra,) = compare([], [late], BERLIN)
    assert extra == Difference(
        "extra",
        None,
        "p7",
        date(2026, 11, 21),
        None,
        60,
        "PSA record p7 (sam, server reboot) is not an entry here",
    )
    assert compare([], [theirs("p8", 5)], BERLIN)[0].text == "PSA record p8 (tina, no notes) is not an entry here"


def test_a_record_found_by_its_psa_id_is_ours_even_with_another_reference() -> None:
    assert compare([ours(1, 30, psa_id="p1", reference="bt-1")], [theirs("p1", 30, reference="other")], BERLIN) == []


def test_differences_are_sorted_by_day_then_kind() -> None:
    found = compare(
        [ours(5, 30), ours(4, 30), ours(6, 20, psa_id="p6")],
        [theirs("p9", 10, day=19), theirs("p6", 25), theirs("p8", 10, day=21), theirs("p7", 10, day=21)],
        BERLIN,
    )
    assert [(d.day.day, d.kind, d.entry_id, d.psa_id) for d in found] == [
        (19, "extra", None, "p9"),
        (20, "hours", 6, "p6"),
        (20, "missing", 4, None),
        (20, "missing", 5, None),
        (21, "extra", None, "p7"),
        (21, "extra", None, "p8"),
    ]


def test_a_difference_as_json() -> None:
    difference = Difference("hours", 1, "p1", date(2026, 11, 20), 30, 45, "text")
    assert difference.as_dict() == {
        "kind": "hours",
        "entry_id": 1,
        "psa_id": "p1",
        "date": "2026-11-20",
        "ours_minutes": 30,
        "theirs_minutes": 45,
        "text": "text",
    }


# sync state


@pytest.mark.parametrize(
    ("status", "error", "voided", "psa_id", "state", "text"),
    [
        (None, None, False, None, SyncState("not queued"), "not queued"),
        ("pending", None, False, None, SyncState("queued"), "queued"),
        ("pending", None, False, "5", SyncState("queued", "5"), "queued"),  # an edit of a record it holds
        ("pending", "timed out", False, "5", SyncState("retrying", "5", "timed out"), "retrying: timed out"),
        ("pending", "timed out", False, None, SyncState("retrying", None, "timed out"), "retrying: timed out"),
        ("sent", None, False, "77", SyncState("synced", "77"), "synced (#77)"),
        ("sent", None, True, "77", SyncState("removed", "77"), "removed"),
        ("failed", "no member", False, None, SyncState("failed", None, "no member"), "failed: no member"),
        ("failed", None, False, "5", SyncState("failed", "5"), "failed"),
    ],
)
def test_an_outbox_row_says_where_an_entry_stands(
    status: str | None, error: str | None, voided: bool, psa_id: str | None, state: SyncState, text: str
) -> None:
    assert sync_state(status, error, voided, psa_id) == state
    assert sync_state(status, error, voided, psa_id).text == text


def test_a_synced_state_without_an_id_reads_as_synced() -> None:
    assert SyncState("synced").text == "synced"
    assert SyncState("queued", error="stale").text == "queued"
