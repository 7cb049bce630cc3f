"""Work types, timers and nudges, without a database."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.clock import FixedClock
from bot.domain.commands import NudgesSet, TimerDiscard, TimerShow, TimerStart, TimerStop
from bot.domain.errors import NotFound, PermissionDenied, Refused
from bot.domain.roles import Standing
from bot.services import Actor, Context
from bot.services.nudges import note_reply, set_nudges
from bot.services.timers import TimerGone, discard_timer, show_timer, start_timer, stop_timer
from bot.services.worktypes import rate_for, set_client_rates
from tests.fakes.memory import MemoryDatabase
from tests.helpers import do
from tests.service.conftest import add_client

# -- work types ------------------------------------------------------------------------------------


def test_a_work_type_is_defined_by_an_admin_and_listed_after_standard(ctx: Context, admin: Actor, tech: Actor) -> None:
    do(ctx, admin, "worktype add onsite 1.5")
    listed = do(ctx, tech, "worktype list").work_types
    assert [(w.name, w.multiplier) for w in listed] == [("standard", Decimal(1)), ("onsite", Decimal("1.5"))]


def test_standard_is_always_x1_and_a_technician_defines_nothing(ctx: Context, admin: Actor, tech: Actor) -> None:
    with pytest.raises(Refused, match="always x1"):
        do(ctx, admin, "worktype add standard 2")
    with pytest.raises(PermissionDenied):
        do(ctx, tech, "worktype add travel 1.2")


def test_a_new_rate_is_audited_with_the_old_one(ctx: Context, admin: Actor, memory: MemoryDatabase) -> None:
    do(ctx, admin, "worktype add onsite 1.5")
    do(ctx, admin, "worktype add onsite 2")
    audit = memory.tables.audit[-1]
    assert (audit.before, audit.after) == ({"multiplier": "1.5", "archived": False}, {"multiplier": "2"})


def test_an_archived_work_type_is_no_longer_listed_nor_usable(ctx: Context, admin: Actor, tech: Actor) -> None:
    acme = add_client(ctx)
    do(ctx, admin, "worktype add onsite 1.5")
    do(ctx, admin, "worktype archive onsite")
    assert [w.name for w in do(ctx, tech, "worktype list").work_types] == ["standard"]
    with ctx.db.unit_of_work(read_only=True) as uow, pytest.raises(NotFound, match="no work type `onsite`"):
        rate_for(uow, acme.id, "onsite")  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        do(ctx, admin, "worktype archive travel")


def test_a_clients_own_rate_wins_over_the_work_types_and_none_goes_back(ctx: Context, admin: Actor) -> None:
    acme = add_client(ctx)
    do(ctx, admin, "worktype add onsite 1.5")
    with ctx.db.unit_of_work() as uow:
        set_client_rates(uow, acme.id, {"onsite": Decimal(2)})  # type: ignore[arg-type]
        assert rate_for(uow, acme.id, "onsite") == Decimal(2)  # type: ignore[arg-type]
        set_client_rates(uow, acme.id, {"onsite": None})  # type: ignore[arg-type]
        assert rate_for(uow, acme.id, "onsite") == Decimal("1.5")  # type: ignore[arg-type]
        assert rate_for(uow, acme.id, "standard") == Decimal(1)  # type: ignore[arg-type]
        with pytest.raises(Refused, match="always x1"):
            set_client_rates(uow, acme.id, {"standard": Decimal(2)})  # type: ignore[arg-type]
        with pytest.raises(NotFound, match="add it first"):
            set_client_rates(uow, acme.id, {"travel": Decimal(2)})  # type: ignore[arg-type]


# -- timers ----------------------------------------------------------------------------------------


def test_a_timer_starts_for_the_named_client_or_the_linked_channels(
    ctx: Context, tech: Actor, memory: MemoryDatabase
) -> None:
    acme = add_client(ctx)
    started = start_timer(ctx, tech, TimerStart("acme", "printer fix"), None)
    assert started.message.startswith("Timer started for Acme Corp: printer fix.")
    assert memory.tables.timers["UTECH"].client_id == acme.id
    discard_timer(ctx, tech, TimerDiscard())
    start_timer(ctx, tech, TimerStart(None), acme.id)
    assert memory.tables.timers["UTECH"].note == ""


def test_a_timer_needs_a_client_that_is_not_archived(ctx: Context, tech: Actor) -> None:
    add_client(ctx, archived=True)
    with pytest.raises(Refused, match="Say which client"):
        start_timer(ctx, tech, TimerStart(None), None)
    with pytest.raises(Refused, match="archived"):
        start_timer(ctx, tech, TimerStart("acme"), None)


def test_a_running_timer_shows_its_time(ctx: Context, tech: Actor, clock: FixedClock) -> None:
    add_client(ctx)
    assert show_timer(ctx, tech, TimerShow()).data == {"timer": None}
    start_timer(ctx, tech, TimerStart("acme", "migration"), None)
    clock.advance(minutes=95)
    shown = show_timer(ctx, tech, TimerShow())
    assert (shown.data["minutes"], shown.data["client"]) == (95, "acme")
    assert "1h 35m" in shown.message and "(migration)" in shown.message


def test_discarding_logs_nothing_and_a_stale_button_says_the_timer_is_gone(
    ctx: Context, tech: Actor, clock: FixedClock, memory: MemoryDatabase
) -> None:
    add_client(ctx)
    start_timer(ctx, tech, TimerStart("acme"), None)
    first = memory.tables.timers["UTECH"].started_at
    clock.advance(minutes=5)
    discard_timer(ctx, tech, TimerDiscard())
    start_timer(ctx, tech, TimerStart("acme"), None)
    with pytest.raises(TimerGone):
        discard_timer(ctx, tech, TimerDiscard(started_at=first))
    assert "UTECH" in memory.tables.timers and memory.tables.entries == {}


def test_stopping_without_a_timer_says_so(ctx: Context, tech: Actor) -> None:
    with pytest.raises(NotFound, match="no timer running"):
        stop_timer(ctx, tech, TimerStop())


def test_a_timer_left_running_is_logged_only_once_its_time_is_confirmed(
    ctx: Context, tech: Actor, clock: FixedClock, memory: MemoryDatabase
) -> None:
    add_client(ctx)
    start_timer(ctx, tech, TimerStart("acme"), None)
    clock.advance(hours=11)
    with pytest.raises(Refused, match="was it left running"):
        stop_timer(ctx, tech, TimerStop())
    with pytest.raises(Refused, match="more than 24h in one entry"):
        stop_timer(ctx, tech, TimerStop(minutes=25 * 60))
    assert "UTECH" in memory.tables.timers and memory.tables.entries == {}


def test_only_technicians_start_timers(ctx: Context) -> None:
    add_client(ctx)
    with pytest.raises(PermissionDenied):
        start_timer(ctx, Actor("UGUEST", "Guest", standing=Standing.GUEST), TimerStart("acme"), None)


# -- nudges ----------------------------------------------------------------------------------------


def test_a_technicians_thread_reply_is_kept_once(ctx: Context, tech: Actor, memory: MemoryDatabase) -> None:
    assert note_reply(ctx, tech, "C1", "1.5")
    assert note_reply(ctx, tech, "C1", "1.5")
    assert [(r.user_id, r.channel_id, r.thread_ts) for r in memory.tables.replies] == [("UTECH", "C1", "1.5")]


def test_nudges_off_keeps_nothing_and_forgets_what_was_kept(ctx: Context, tech: Actor, memory: MemoryDatabase) -> None:
    note_reply(ctx, tech, "C1", "1.5")
    assert set_nudges(ctx, tech, NudgesSet(False)).data == {"nudges": "off"}
    assert memory.tables.replies == []
    assert not note_reply(ctx, tech, "C1", "2.5")
    set_nudges(ctx, tech, NudgesSet(True))
    assert note_reply(ctx, tech, "C1", "2.5")


def test_a_reply_by_someone_who_is_not_staff_is_not_kept(ctx: Context, memory: MemoryDatabase) -> None:
    guest = Actor("UGUEST", "Guest", standing=Standing.GUEST)
    assert not note_reply(ctx, guest, "C1", "1.5")
    assert memory.tables.replies == []


def test_a_reply_kept_later_moves_to_its_latest_time(
    ctx: Context, tech: Actor, clock: FixedClock, memory: MemoryDatabase
) -> None:
    note_reply(ctx, tech, "C1", "1.5")
    clock.advance(hours=1)
    note_reply(ctx, tech, "C1", "1.5")
    assert memory.tables.replies[0].at == ctx.now()
    assert ctx.now() - timedelta(hours=1) < memory.tables.replies[0].at
