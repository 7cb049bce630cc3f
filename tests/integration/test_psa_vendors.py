"""What only HaloPSA or only Autotask does, against the local fake of its API (the behaviour every PSA
shares is tested for each in test_psa.py): Halo's sign-in and its prepaid contract hours; Autotask's
roles, its refusals said as HTTP 500, and its contract blocks; each fake refusing what its vendor
refuses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.clock import FixedClock
from bot.services import Actor, Context, psa_admin
from storage.db import Database
from tests.conftest import psa_settings
from tests.fakes.autotask import FakeAutotask
from tests.fakes.halopsa import FakeHalo
from tests.fakes.psa_base import started
from tests.helpers import balance_of, do
from tests.psa_helpers import TECH, deliver, linked, psa_of


@pytest.fixture
def halo(psa_servers: dict[str, Any]) -> FakeHalo:
    fake: FakeHalo = started(psa_servers, "halopsa").seed()
    return fake


@pytest.fixture
def autotask(psa_servers: dict[str, Any]) -> FakeAutotask:
    fake: FakeAutotask = started(psa_servers, "autotask").seed()
    return fake


def linked_to(database: Database, fake: Any, clock: FixedClock, **changes: Any) -> Context:
    return linked(Context(database, psa_settings(fake, **changes), clock))


def states(ctx: Context) -> list[str | None]:
    return [e.psa for e in do(ctx, Actor.local_admin(), "entries acme this month").entries]


def import_twice(ctx: Context, source: str, minutes: int, price: str) -> None:
    """Offered first (nothing written), then imported once: a second import adds nothing."""
    psa = psa_of(ctx)
    admin = Actor.local_admin()
    before = balance_of(ctx, "acme").remaining_minutes
    offered = psa_admin.import_blocks(ctx, admin, psa, "acme", confirmed=False)
    assert [(b["source"], b["minutes"], b["status"]) for b in offered.data["blocks"]] == [(source, minutes, "offered")]
    assert balance_of(ctx, "acme").remaining_minutes == before
    imported = psa_admin.import_blocks(ctx, admin, psa, "acme", confirmed=True)
    assert [b["status"] for b in imported.data["blocks"]] == ["imported"]
    again = psa_admin.import_blocks(ctx, admin, psa, "acme", confirmed=True)
    assert [b["status"] for b in again.data["blocks"]] == ["imported before"]
    assert balance_of(ctx, "acme").remaining_minutes == before + minutes
    assert (minutes, price) in {(b.minutes, str(b.price)) for b in do(ctx, admin, "blocks acme").blocks}


# -- HaloPSA ---------------------------------------------------------------------------------------


def test_halo_signs_in_once_and_again_when_its_token_is_dropped(
    database: Database, halo: FakeHalo, clock: FixedClock
) -> None:
    ctx = linked_to(database, halo, clock)
    halo.requests.clear()
    do(ctx, TECH, "logtime acme 15m one")
    do(ctx, TECH, "logtime acme 15m two")
    assert deliver(ctx) == 2
    signs = [r for r in halo.requests if r.path == "/auth/token"]
    assert len(signs) <= 1  # one token for both (none when an earlier test's is still good)
    halo.revoke()  # Halo restarted or the secret was rolled: the token stops working
    do(ctx, TECH, "logtime acme 15m three")
    assert deliver(ctx) == 1
    assert [r.status for r in halo.requests if r.path == "/auth/token"][-1] == 200
    assert len(halo.records()) == 3 and [s[:6] for s in states(ctx)] == ["synced"] * 3


def test_halo_refusing_the_sign_in_fails_the_sync_with_its_words_and_is_not_retried(
    database: Database, halo: FakeHalo, clock: FixedClock
) -> None:
    ctx = linked_to(database, halo, clock, halopsa_client_secret="wrong")
    do(ctx, TECH, "logtime acme 15m call")
    assert deliver(ctx) == 0
    assert states(ctx) == ["failed: HaloPSA refused the sign-in (401: The client id or secret is wrong)"]
    clock.advance(minutes=10)
    assert deliver(ctx) == 0 and halo.records() == []


def test_halo_actions_are_private_and_carry_the_contract_and_hours(
    database: Database, halo: FakeHalo, clock: FixedClock
) -> None:
    ctx = linked_to(database, halo, clock)
    do(ctx, TECH, "logtime acme 1h15m --nb printer #1234")
    deliver(ctx)
    [action] = halo.actions.values()
    assert action["hiddenfromuser"] is True  # the client's users never see a technician's note
    assert action["actioncontractid"] == 30 and action["who_agentid"] == 17 and action["ticket_id"] == 1234
    assert (action["timetaken"], action["nonbilltime"], action["actisbillable"]) == (1.25, 1.25, False)


def test_halo_saving_by_upsert_a_deleted_action_keeps_the_new_one(
    database: Database, halo: FakeHalo, clock: FixedClock
) -> None:
    """Posted with the id of an action deleted in Halo, the action may come back under a new id: that
    id is kept, so the next edit updates it instead of making a third."""
    halo.upsert = True
    ctx = linked_to(database, halo, clock)
    logged = do(ctx, TECH, "logtime acme 30m printer #1234")
    deliver(ctx)
    [first] = halo.records()
    halo.remove(first.id)
    edited = do(ctx, TECH, f"edit {logged.entry_id} 45m")
    assert deliver(ctx) == 1
    [again] = halo.records()
    assert again.id != first.id and states(ctx)[-1] == f"synced (#{again.id})"
    do(ctx, TECH, f"edit {edited.entry_id} 1h")
    assert deliver(ctx) == 1
    [last] = halo.records()
    assert (last.id, last.minutes) == (again.id, 60)


def test_halo_import_blocks_offers_the_contracts_prepaid_hours(
    database: Database, halo: FakeHalo, clock: FixedClock
) -> None:
    import_twice(linked_to(database, halo, clock), "contract:30", 1200, "2000.00")


def test_the_fake_refuses_what_halo_refuses(halo: FakeHalo) -> None:
    """The fake's checks can fail: a wrong secret, no token, an unknown field, a missing ticket."""
    form = {"grant_type": "client_credentials", "client_id": halo.client_id, "scope": "all"}
    token_url = f"{halo.url}/auth/token?tenant={halo.tenant}"
    assert httpx.post(token_url, data={**form, "client_secret": "wrong"}).status_code == 401
    assert httpx.post(f"{halo.url}/auth/token", data={**form, "client_secret": halo.client_secret}).status_code == 400
    token = httpx.post(token_url, data={**form, "client_secret": halo.client_secret}).json()["access_token"]
    good = {"ticket_id": 1234, "who_agentid": 17, "timetaken": 1, "note": "x"}
    assert httpx.post(f"{halo.url}/api/Actions", json=[good]).status_code == 401
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as http:
        unknown = http.post(f"{halo.url}/api/Actions", json=[{**good, "hours": 1}])
        assert unknown.status_code == 400 and "hours is not a field" in unknown.json()
        assert http.post(f"{halo.url}/api/Actions", json=[{**good, "ticket_id": 9}]).status_code == 400
        assert http.post(f"{halo.url}/api/Actions", json=good).status_code == 400  # a list, not an object
        assert http.get(f"{halo.url}/api/Actions").status_code == 400  # ticket_id is required
        assert http.get(f"{halo.url}/api/Client", params={"name": "acme"}).status_code == 400
        assert http.post(f"{halo.url}/api/Actions", json=[good]).status_code == 201


# -- Autotask --------------------------------------------------------------------------------------


def test_autotask_uses_the_resources_default_role_or_the_work_types(
    database: Database, autotask: FakeAutotask, clock: FixedClock
) -> None:
    ctx = linked_to(database, autotask, clock)
    admin = Actor.local_admin()
    autotask.add("Roles", id=42, name="Onsite engineer", isActive=True)
    do(ctx, admin, "worktype add onsite 1.5")
    psa_admin.work_type(ctx, admin, "onsite", "5", "42")
    do(ctx, TECH, "logtime acme 30m remote fix #1234")
    do(ctx, TECH, "logtime acme 1h as onsite server room #1234")
    assert deliver(ctx) == 2
    roles = {row["summaryNotes"]: (row["roleID"], row.get("billingCodeID")) for row in autotask.time_entries.values()}
    assert roles == {"remote fix #1234": (29682833, None), "server room #1234": (42, 5)}


def test_autotask_without_a_default_role_fails_with_what_to_do(
    database: Database, autotask: FakeAutotask, clock: FixedClock
) -> None:
    ctx = linked_to(database, autotask, clock)
    psa_admin.member(ctx, Actor.local_admin(), None, "UTECH", "18")
    autotask.tables["ResourceServiceDeskRoles"][2]["isDefault"] = False
    do(ctx, TECH, "logtime acme 30m remote fix")
    assert deliver(ctx) == 0
    [state] = states(ctx)
    assert state is not None and state.startswith("failed: Autotask resource 18 has no default service desk role")


def test_autotask_refusals_said_as_500_are_not_retried_but_its_outages_are(
    database: Database, autotask: FakeAutotask, clock: FixedClock
) -> None:
    ctx = linked_to(database, autotask, clock)
    do(ctx, TECH, "logtime acme 30m globex printer #4321")  # a ticket of another company
    assert deliver(ctx) == 0
    [state] = states(ctx)
    assert state == "failed: Autotask 500: Contract 30 does not belong to the company of ticket 4321"
    sent = len(autotask.requests)
    clock.advance(minutes=10)
    assert deliver(ctx) == 0 and len(autotask.requests) == sent  # refused: not tried again by itself


def test_autotask_finds_a_ticket_by_its_ticket_number(
    database: Database, autotask: FakeAutotask, clock: FixedClock
) -> None:
    ctx = linked_to(database, autotask, clock)
    do(ctx, TECH, "logtime acme 30m reset password T20261101.1234")
    do(ctx, TECH, "logtime acme 15m follow-up T20261101.9999")  # no such ticket
    assert deliver(ctx) == 1
    [record] = autotask.records()
    assert record.ticket == 1234 and record.minutes == 30
    assert sorted(s or "" for s in states(ctx))[0] == "failed: Autotask has no ticket T20261101.9999"


def test_a_ticket_number_where_the_psa_numbers_tickets_fails_with_why(
    database: Database, halo: FakeHalo, clock: FixedClock
) -> None:
    ctx = linked_to(database, halo, clock)
    do(ctx, TECH, "logtime acme 30m reset password T20261101.1234")
    assert deliver(ctx) == 0
    assert states(ctx) == ["failed: A HaloPSA ticket id is a number, not 'T20261101.1234'."]


def test_autotask_without_a_url_asks_its_zone_lookup_once(
    database: Database, autotask: FakeAutotask, clock: FixedClock
) -> None:
    zone = autotask.url + "/zoneInformation"
    ctx = linked_to(database, autotask, clock, autotask_url=None, autotask_zone_url=zone)
    do(ctx, TECH, "logtime acme 15m one")
    do(ctx, TECH, "logtime acme 15m two")
    assert deliver(ctx) == 2 and len(autotask.records()) == 2
    asked = [r for r in autotask.requests if r.path == "zoneInformation"]
    assert len(asked) <= 1 and all(r.query == {"user": autotask.username} for r in asked)
    lost = Context(
        database, psa_settings(autotask, autotask_url=None, autotask_zone_url=zone, autotask_username="x@y.z"), clock
    )
    do(lost, TECH, "logtime acme 15m three")
    assert deliver(lost) == 0
    assert states(lost)[-1] == (
        "failed: Autotask's zone lookup for x@y.z failed "
        "(Autotask 500: Invalid user name or no zone found for this user); set AUTOTASK_URL"
    )


def test_autotask_import_blocks_offers_the_contracts_blocks(
    database: Database, autotask: FakeAutotask, clock: FixedClock
) -> None:
    import_twice(linked_to(database, autotask, clock), "block:7", 1200, "2000.00")


def test_autotask_import_blocks_reads_each_blocks_paid_flag(
    database: Database, autotask: FakeAutotask, clock: FixedClock
) -> None:
    """Autotask's contract blocks carry isPaid: an unpaid one is imported unpaid (its paid mark is then
    ours), a paid one paid."""
    autotask.tables["ContractBlocks"][7]["isPaid"] = False
    autotask.add(
        "ContractBlocks",
        id=8,
        contractID=30,
        hours=5,
        hourlyRate=100,
        startDate="2026-11-01T00:00:00",
        endDate="2027-10-31T00:00:00",
        datePurchased="2026-11-01T00:00:00",
        isPaid=True,
        status=1,
    )
    ctx = linked_to(database, autotask, clock)
    admin = Actor.local_admin()
    offered = psa_admin.import_blocks(ctx, admin, psa_of(ctx), "acme", confirmed=False)
    assert [(b["source"], b["paid"]) for b in offered.data["blocks"]] == [("block:7", False), ("block:8", True)]
    psa_admin.import_blocks(ctx, admin, psa_of(ctx), "acme", confirmed=True)
    paid = {b.reference: b.paid for b in do(ctx, admin, "blocks acme").blocks if b.reference}
    assert paid == {"Autotask block:7": False, "Autotask block:8": True}
    assert balance_of(ctx, "acme").unpaid_minutes == 1200


def test_the_fake_refuses_what_autotask_refuses(autotask: FakeAutotask) -> None:
    """The fake's checks can fail: wrong credentials, an unknown field, a missing role, a bad filter."""
    headers = {
        "ApiIntegrationCode": autotask.integration_code,
        "UserName": autotask.username,
        "Secret": autotask.secret,
    }
    base = autotask.url + "/TimeEntries"
    good = {
        "ticketID": 1234,
        "resourceID": 17,
        "roleID": 29682833,
        "dateWorked": "2026-11-25T00:00:00",
        "hoursWorked": 1,
        "summaryNotes": "x",
    }
    assert httpx.post(base, json=good, headers={**headers, "Secret": "wrong"}).status_code == 401
    with httpx.Client(headers=headers) as http:
        unknown = http.post(base, json={**good, "hours": 1})
        assert unknown.status_code == 500 and unknown.json()["errors"] == ["hours is not a field of TimeEntries"]
        no_role = http.post(base, json={k: v for k, v in good.items() if k != "roleID"})
        assert no_role.status_code == 500 and no_role.json()["errors"] == ["roleID is required"]
        bad_field = http.post(f"{base}/query", json={"filter": [{"op": "eq", "field": "notes", "value": "x"}]})
        assert bad_field.status_code == 500
        created = http.post(base, json=good)
        assert created.status_code == 200 and http.get(f"{base}/{created.json()['itemId']}").json()["item"]
        assert http.get(f"{base}/99999").json() == {"item": None}
