"""The modal forms (``bot.domain.forms``): each field checked on its own, every error of a submission
said at once next to its field, in whole sentences that fit the form."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.domain.commands import EditEntry, LogTime, TopUp
from bot.domain.errors import DomainError
from bot.domain.forms import (
    FIELD_ERROR_LIMIT,
    TICKET_LIMIT,
    FieldErrors,
    edit_from_form,
    field_error,
    logtime_from_form,
    topup_from_form,
)

TODAY = date(2026, 11, 25)


def topup(**fields: object) -> TopUp:
    given: dict[str, object] = {
        "client": "acme",
        "hours": "10",
        "expires": None,
        "price": None,
        "reference": None,
        "note": None,
        "today": TODAY,
    }
    return topup_from_form(**{**given, **fields})  # type: ignore[arg-type]


def logtime(**fields: object) -> LogTime:
    given: dict[str, object] = {
        "client": "acme",
        "duration": "30m",
        "work_date": None,
        "note": "printer fix",
        "non_billable": False,
        "today": TODAY,
        "max_minutes": 24 * 60,
    }
    return logtime_from_form(**{**given, **fields})  # type: ignore[arg-type]


def edit(**fields: object) -> EditEntry:
    given: dict[str, object] = {
        "entry_id": 42,
        "duration": "45m",
        "work_date": None,
        "logged_on": "2026-11-24",
        "note": "laptop setup",
        "work_type": None,
        "today": TODAY,
        "max_minutes": 24 * 60,
    }
    return edit_from_form(**{**given, **fields})  # type: ignore[arg-type]


def errors_of(form, **fields: object) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(FieldErrors) as refused:
        form(**fields)
    return refused.value.errors


# field_error: how a refusal reads next to a field


def test_a_short_refusal_reads_as_it_is_without_markup_or_spare_spaces() -> None:
    assert field_error(":warning: *Not*   logged:\n  the note\tis long.") == "Not logged: the note is long."


def test_a_refusal_that_fits_exactly_is_kept_whole() -> None:
    text = "a" * 9 + "."
    assert field_error(text, limit=10) == text


def test_a_long_refusal_keeps_as_many_whole_sentences_as_fit() -> None:
    first, second, third = "One two three.", "Four five!", "Six seven eight nine?"
    text = f"{first} {second} {third}"
    assert field_error(text, limit=len(first) + 1 + len(second)) == f"{first} {second}"
    assert field_error(text, limit=len(first) + len(second)) == first


def test_a_first_sentence_longer_than_the_field_is_cut_at_a_word_with_an_ellipsis() -> None:
    shown = field_error("alpha beta gamma delta epsilon", limit=18)
    assert shown == "alpha beta gamma…"
    assert len(shown) <= 18


def test_a_cut_refusal_is_never_longer_than_the_field() -> None:
    assert field_error("alpha beta gamma delta", limit=16) == "alpha beta…"


def test_the_default_limit_keeps_a_refusal_within_what_slack_shows() -> None:
    sentence = "One sentence of a long refusal."
    shown = field_error(" ".join([sentence] * 20))
    assert len(shown) <= FIELD_ERROR_LIMIT < len(shown) + len(sentence) + 1
    assert shown.endswith(".") and "…" not in shown


# topup_from_form


def test_a_topup_form_gives_a_topup_of_its_values() -> None:
    command = topup(
        client="ACME",
        hours="7.5",
        expires="2027-06-30",
        price="  €990 ",
        reference="  INV-1001  ",
        note="  renewal\x07 ",
    )
    assert command == TopUp(
        client="acme",
        minutes=450,
        expires_on=date(2027, 6, 30),
        price=Decimal("990.00"),
        currency="EUR",
        reference="INV-1001",
        note="renewal",
        confirmed=False,
    )


def test_a_topup_form_left_mostly_empty_has_no_expiry_price_reference_or_note() -> None:
    command = topup(price="   ", reference="   ")
    assert (command.expires_on, command.price, command.currency, command.reference, command.note) == (
        None,
        None,
        None,
        None,
        "",
    )
    assert command.minutes == 600 and command.confirmed is False


def test_a_price_without_a_symbol_has_no_currency() -> None:
    command = topup(price="1,500")
    assert (command.price, command.currency) == (Decimal("1500.00"), None)


def test_confirm_after_the_hours_confirms_a_large_topup() -> None:
    command = topup(hours="1500 Confirm")
    assert (command.minutes, command.confirmed) == (90000, True)


def test_hours_of_several_words_before_confirm() -> None:
    command = topup(hours="1 h 30 m confirm")
    assert (command.minutes, command.confirmed) == (90, True)


def test_no_reference_or_note_given_is_none_and_empty() -> None:
    command = topup()
    assert (command.reference, command.note) == (None, "")


def test_the_reference_is_cut_to_a_hundred_characters() -> None:
    assert topup(reference="R" * 150).reference == "R" * 100


def test_an_expiry_today_is_taken_and_one_in_the_past_is_refused() -> None:
    assert topup(expires="2026-11-25").expires_on == TODAY
    errors = errors_of(topup, expires="2026-11-24")
    assert list(errors) == ["expires"]
    assert "2026-11-24 is in the past" in errors["expires"]


def test_every_wrong_topup_field_is_named_at_once() -> None:
    errors = errors_of(topup, client=None, hours="", expires="2020-01-01", price="ten euros")
    assert sorted(errors) == ["client", "expires", "hours", "price"]
    assert errors["client"] == "Pick a client."
    assert "not a number of hours" in errors["hours"]
    assert "not a price" in errors["price"]
    assert all("Example" not in message for message in errors.values())


def test_hours_of_confirm_alone_are_missing_hours() -> None:
    assert "hours" in errors_of(topup, hours="confirm")


def test_field_errors_say_every_error_in_one_message_too() -> None:
    with pytest.raises(FieldErrors) as refused:
        topup(client="", hours="0")
    assert isinstance(refused.value, DomainError)
    assert refused.value.message == "; ".join(refused.value.errors.values())
    assert refused.value.message.startswith("Pick a client.; ")


# logtime_from_form


def test_a_logtime_form_gives_an_entry_of_its_values() -> None:
    command = logtime(
        client="Acme",
        duration=" 1h30m ",
        work_date="2026-11-24",
        note=" fixed\x00 the VPN ",
        non_billable=True,
        ticket="  #77 ",
        work_type="OnSite",
    )
    assert command == LogTime("acme", 90, "1h30m", "2026-11-24", "fixed the VPN", True, "#77", "onsite")


def test_an_entry_without_a_date_is_for_today_and_without_a_type_is_standard() -> None:
    command = logtime()
    assert (command.when, command.work_type, command.non_billable) == ("2026-11-25", None, False)


def test_the_ticket_field_wins_over_a_ticket_in_the_note_and_the_note_names_one_otherwise() -> None:
    assert logtime(note="see #12", ticket="#34").ticket == "#34"
    assert logtime(note="see #12", ticket="   ").ticket == "#12"
    assert logtime(note="no ticket").ticket is None


def test_a_ticket_keeps_its_words_with_single_spaces() -> None:
    assert logtime(ticket=" ticket   #55\n of acme ").ticket == "ticket #55 of acme"


def test_a_ticket_of_the_longest_size_is_taken_and_a_longer_one_refused() -> None:
    assert logtime(ticket="1" * TICKET_LIMIT).ticket == "1" * TICKET_LIMIT
    errors = errors_of(logtime, ticket="1" * (TICKET_LIMIT + 1))
    assert list(errors) == ["ticket"] and f"at most {TICKET_LIMIT} characters" in errors["ticket"]


def test_work_done_today_is_taken_and_work_ahead_is_refused() -> None:
    assert logtime(work_date="2026-11-25").when == "2026-11-25"
    errors = errors_of(logtime, work_date="2026-11-26")
    assert list(errors) == ["work_date"] and "already done" in errors["work_date"]


def test_the_longest_entry_is_the_callers() -> None:
    assert logtime(duration="3h", max_minutes=180).minutes == 180
    assert "duration" in errors_of(logtime, duration="3h", max_minutes=179)


def test_every_wrong_logtime_field_is_named_at_once() -> None:
    errors = errors_of(
        logtime, client="", duration="", work_date="2027-01-01", note="x" * 2001, work_type="9lives", ticket="#" * 501
    )
    assert sorted(errors) == ["client", "duration", "note", "ticket", "work_date", "work_type"]
    assert errors["client"] == "Pick a client."
    assert "duration is missing" in errors["duration"]
    assert "at most 2,000" in errors["note"]
    assert "not a work type name" in errors["work_type"]


# edit_from_form


def test_an_edit_form_changes_what_it_names() -> None:
    command = edit(duration=" 1h ", work_date="2026-11-20", note=" new\x1b note ", work_type="Remote")
    assert command == EditEntry(42, 60, "1h", "2026-11-20", "new note", None, "remote")


def test_an_edit_keeps_the_date_when_the_form_shows_the_logged_one_or_none() -> None:
    assert edit(work_date="2026-11-24").when is None
    assert edit(work_date=None).when is None
    assert edit(work_date="2026-11-25").when == "2026-11-25"


def test_a_form_without_a_note_has_an_empty_note() -> None:
    assert logtime(note=None).note == ""
    assert edit(note=None).note == ""


def test_an_edit_keeps_the_work_type_when_none_is_picked() -> None:
    assert edit().work_type is None


def test_every_wrong_edit_field_is_named_at_once() -> None:
    errors = errors_of(edit, duration="0m", work_date="2026-11-26", note="y" * 2001, work_type="-")
    assert sorted(errors) == ["duration", "note", "work_date", "work_type"]
    assert "zero" in errors["duration"] and "already done" in errors["work_date"]


def test_an_edit_is_limited_to_the_longest_entry() -> None:
    assert edit(duration="2h", max_minutes=120).minutes == 120
    assert list(errors_of(edit, duration="2h", max_minutes=119)) == ["duration"]
