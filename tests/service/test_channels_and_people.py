"""Linking channels, what Slack said of people and channels, and the Undo button, without a database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import FixedClock
from bot.domain.commands import Link
from bot.domain.errors import NotFound, PermissionDenied, Refused
from bot.domain.roles import Standing
from bot.services import Actor, Context
from bot.services.channels import (
    client_facing,
    link_channel,
    linked_client,
    replies_in_public,
    thread_message_deleted,
    thread_message_edited,
    undo_entry,
)
from bot.services.people import known_standing, remember_channel, remember_person
from tests.fakes.memory import MemoryDatabase
from tests.service.conftest import add_client, add_entry


def test_an_admin_links_a_channel_and_commands_there_find_the_client(
    ctx: Context, admin: Actor, memory: MemoryDatabase
) -> None:
    acme = add_client(ctx)
    message = link_channel(ctx, admin, "C1", Link("acme"))
    assert message.data == {"channel": "C1", "client": "acme", "shared": False}
    assert linked_client(ctx, "C1") == (acme.id, "acme")
    assert client_facing(ctx, "C1") == "linked to a client"
    audit = memory.tables.audit[-1]
    assert (audit.action, audit.before, audit.after) == ("link", {"client_id": None}, {"client_id": acme.id})


def test_unlinking_forgets_the_link_at_once(ctx: Context, admin: Actor, memory: MemoryDatabase) -> None:
    acme = add_client(ctx)
    link_channel(ctx, admin, "C1", Link("acme"))
    assert linked_client(ctx, "C1") is not None
    link_channel(ctx, admin, "C1", Link(None))
    assert linked_client(ctx, "C1") is None
    assert memory.tables.audit[-1].before == {"client_id": acme.id}


def test_a_technician_may_not_link_channels(ctx: Context, tech: Actor, memory: MemoryDatabase) -> None:
    add_client(ctx)
    with pytest.raises(PermissionDenied):
        link_channel(ctx, tech, "C1", Link("acme"))
    assert memory.tables.links == {}


def test_an_archived_client_is_not_linked(ctx: Context, admin: Actor) -> None:
    add_client(ctx, archived=True)
    with pytest.raises(Refused, match="archived"):
        link_channel(ctx, admin, "C1", Link("acme"))


def test_public_replies_are_refused_in_a_shared_channel_and_allowed_elsewhere(ctx: Context, admin: Actor) -> None:
    add_client(ctx)
    remember_channel(ctx, "CSHARED", True, "shared with another organisation")
    with pytest.raises(Refused, match="stay private"):
        link_channel(ctx, admin, "CSHARED", Link("acme", public_replies=True))
    shared = link_channel(ctx, admin, "CSHARED", Link("acme"))
    assert shared.data["shared"] and "the client reads it" in shared.message
    link_channel(ctx, admin, "C2", Link("acme", public_replies=True))
    assert replies_in_public(ctx, "C2") and not replies_in_public(ctx, "CSHARED")


def test_a_shared_channel_is_client_facing_and_an_internal_one_is_not(ctx: Context) -> None:
    remember_channel(ctx, "CSHARED", True, "shared with guests")
    remember_channel(ctx, "CINTERNAL", False, "")
    assert client_facing(ctx, "CSHARED") == "shared with guests"
    assert client_facing(ctx, "CINTERNAL") is None
    assert client_facing(ctx, None) is None


def test_what_slack_said_of_a_person_is_kept_and_an_email_it_no_longer_gives_stays(
    ctx: Context, memory: MemoryDatabase
) -> None:
    assert known_standing(ctx, "UBOB") is None
    remember_person(ctx, "UBOB", "T1", Standing.GUEST, "Bob", "bob@example.com")
    remember_person(ctx, "UBOB", "T1", Standing.STAFF, "Bob Smith")
    assert known_standing(ctx, "UBOB") is Standing.STAFF
    assert (memory.tables.people["UBOB"].name, memory.tables.people["UBOB"].email) == ("Bob Smith", "bob@example.com")


def test_only_the_author_may_undo_an_entry(ctx: Context) -> None:
    entry = add_entry(ctx, add_client(ctx).id)
    with pytest.raises(PermissionDenied, match="Only the person who logged"):
        undo_entry(ctx, Actor("UOTHER", "Otto"), entry.id)


def test_undo_works_for_ten_minutes(ctx: Context, tech: Actor, clock: FixedClock) -> None:
    entry = add_entry(ctx, add_client(ctx).id)
    clock.advance(minutes=11)
    with pytest.raises(Refused, match="Undo works for 10 minutes"):
        undo_entry(ctx, tech, entry.id)


def test_an_entry_undone_already_or_unknown_is_refused(ctx: Context, tech: Actor) -> None:
    voided = add_entry(ctx, add_client(ctx).id, voided_at=ctx.now() - timedelta(minutes=1))
    with pytest.raises(Refused, match="already undone"):
        undo_entry(ctx, tech, voided.id)
    with pytest.raises(Refused, match="There is no entry 999"):
        undo_entry(ctx, tech, 999)


def test_a_thread_message_edited_without_changing_its_time_changes_nothing(ctx: Context, tech: Actor) -> None:
    acme = add_client(ctx)
    add_entry(ctx, acme.id, source_ref="C1:1.5", note="replaced toner", typed="30m", minutes=30)
    edited = thread_message_edited(ctx, tech, acme.id, "C1", "1.5", "+30m replaced toner", "edit:1", None)
    assert edited is None


def test_chat_edited_or_deleted_in_a_thread_logs_nothing(ctx: Context, tech: Actor) -> None:
    acme = add_client(ctx)
    assert thread_message_edited(ctx, tech, acme.id, "C1", "2.5", "thanks, all good now", "edit:2", None) is None
    assert thread_message_deleted(ctx, tech, "C1", "2.5") is None


def test_a_link_to_an_unknown_client_is_refused_with_a_guess(ctx: Context, admin: Actor) -> None:
    add_client(ctx)
    with pytest.raises(NotFound, match="Did you mean `acme`"):
        link_channel(ctx, admin, "C1", Link("acne"))
