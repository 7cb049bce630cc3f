"""Client and role administration, without a database."""

from __future__ import annotations

import pytest

from bot.domain.errors import NotFound, PermissionDenied, Refused
from bot.domain.roles import Standing
from bot.services import Actor, Context
from bot.services.people import remember_person
from tests.fakes.memory import MemoryDatabase
from tests.helpers import do
from tests.service.conftest import add_client


def test_an_admin_adds_a_client_with_the_default_policy_and_it_is_audited(
    ctx: Context, admin: Actor, memory: MemoryDatabase
) -> None:
    view = do(ctx, admin, "client add acme Acme Corp")
    assert (view.handle, view.display_name, view.timezone, view.archived) == ("acme", "Acme Corp", "UTC", False)
    [audit] = memory.tables.audit
    assert (audit.action, audit.target, audit.before) == ("client_add", f"client:{view.id}", None)
    assert audit.after["display_name"] == "Acme Corp"


def test_a_technician_may_not_add_clients_and_nothing_is_written(
    ctx: Context, tech: Actor, memory: MemoryDatabase
) -> None:
    with pytest.raises(PermissionDenied):
        do(ctx, tech, "client add acme Acme Corp")
    assert memory.tables.clients == {} and memory.commits == 0


def test_a_handle_or_alias_in_use_is_refused(ctx: Context, admin: Actor) -> None:
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "client alias acme acme-corp")
    with pytest.raises(Refused, match="already a client handle or alias"):
        do(ctx, admin, "client add acme Acme Two")
    with pytest.raises(Refused, match="already a client handle or alias"):
        do(ctx, admin, "client add acme-corp Acme Three")
    do(ctx, admin, "client add globex Globex")
    with pytest.raises(Refused, match="already a client handle or alias"):
        do(ctx, admin, "client alias globex acme-corp")


def test_an_alias_finds_its_client_and_the_change_is_audited(
    ctx: Context, admin: Actor, memory: MemoryDatabase
) -> None:
    do(ctx, admin, "client add acme Acme Corp")
    view = do(ctx, admin, "client alias acme roadrunner")
    assert view.aliases == ["roadrunner"]
    assert do(ctx, admin, "client show roadrunner").handle == "acme"
    audit = memory.tables.audit[-1]
    assert (audit.action, audit.before, audit.after) == ("client_alias", {"aliases": []}, {"aliases": ["roadrunner"]})


def test_an_unknown_client_gets_a_did_you_mean(ctx: Context, admin: Actor) -> None:
    do(ctx, admin, "client add acme Acme Corp")
    with pytest.raises(NotFound, match="Did you mean `acme`"):
        do(ctx, admin, "client show acm")


def test_with_no_clients_at_all_the_answer_says_how_to_add_one(ctx: Context, admin: Actor) -> None:
    with pytest.raises(NotFound, match="there are no clients yet"):
        do(ctx, admin, "client show acme")


def test_the_client_list_leaves_archived_clients_out_unless_asked(ctx: Context, admin: Actor, tech: Actor) -> None:
    add_client(ctx, "acme", "Acme Corp")
    add_client(ctx, "globex", "Globex", archived=True)
    assert [c.handle for c in do(ctx, tech, "client list").clients] == ["acme"]
    assert [c.handle for c in do(ctx, tech, "client list all").clients] == ["acme", "globex"]


def test_an_admin_gives_a_role_with_before_and_after_in_the_audit(
    ctx: Context, admin: Actor, memory: MemoryDatabase
) -> None:
    do(ctx, admin, "role <@UBOB> manager")
    assert memory.tables.roles["UBOB"].role == "manager"
    assert (memory.tables.audit[-1].before, memory.tables.audit[-1].after) == (
        {"role": "technician"},
        {"role": "manager"},
    )
    do(ctx, admin, "role <@UBOB> admin")
    assert memory.tables.audit[-1].before == {"role": "manager"}


def test_a_stored_role_is_the_role_a_person_acts_with(ctx: Context, admin: Actor) -> None:
    do(ctx, admin, "role <@UBOB> admin")
    bob = Actor("UBOB", "Bob")
    assert do(ctx, bob, "client add acme Acme Corp").handle == "acme"


def test_a_member_of_another_organisation_gets_no_role(ctx: Context, admin: Actor, memory: MemoryDatabase) -> None:
    remember_person(ctx, "UEXT", "TOTHER", Standing.EXTERNAL, "Ext Ernal")
    with pytest.raises(Refused, match="belongs to another organisation"):
        do(ctx, admin, "role <@UEXT> manager")
    assert "UEXT" not in memory.tables.roles


def test_a_technician_may_not_give_roles(ctx: Context, tech: Actor) -> None:
    with pytest.raises(PermissionDenied):
        do(ctx, tech, "role <@UTECH> admin")
