"""Time logged here lands in ConnectWise PSA through the outbox: entries, edits and voids; the PSA down,
slow or rate limiting; missing mappings; reconcile and import of prepaid blocks. Against the local fake
of ConnectWise's API (which validates every request) on both databases."""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from bot.bootstrap import connect, transports_for
from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.dates import parse_period
from bot.domain.errors import NotFound
from bot.domain.roles import Standing
from bot.jobs.dispatcher import Dispatcher
from bot.psa.connectwise import ConnectWise
from bot.services import Actor, Context, psa_admin
from bot.services.people import remember_person
from bot.services.scheduled import digest_facts
from storage import outbox
from storage.db import Database
from storage.models import AuditLog, Entry, OutboxMessage
from tests.conftest import psa_settings
from tests.fakes.connectwise import FakeConnectWise
from tests.helpers import balance_of, do

TECH = Actor("UTECH", "Tess Tech")


@pytest.fixture
def pctx(database: Database, connectwise: FakeConnectWise, clock: FixedClock) -> Context:
    """A context connected to the fake PSA, with Acme linked to company 250 and agreement 30."""
    ctx = Context(database, psa_settings(connectwise), clock)
    admin = Actor.local_admin()
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "topup acme 10")
    do(ctx, admin, "client set acme psa-company 250 psa-agreement 30")
    psa_admin.member(ctx, admin, None, "UTECH", "17")
    return ctx


def deliver(ctx: Context) -> int:
    return Dispatcher(ctx, transports_for(ctx), rng=random.Random(0)).run_once()


def row_of(ctx: Context, entry_id: int) -> OutboxMessage:
    with ctx.db.unit_of_work(read_only=True) as uow:
        entry = uow.session.get(Entry, entry_id)
        assert entry is not None
        root = entry.root_id or entry.id
        found = uow.session.query(OutboxMessage).filter_by(destination="psa", entry_id=root).one()
        uow.session.expunge(found)
        return found


def entries_psa(ctx: Context) -> dict[int, str | None]:
    shown = do(ctx, Actor.local_admin(), "entries acme this month")
    return {e.id: e.psa for e in shown.entries}


def only_record(fake: FakeConnectWise) -> dict[str, Any]:
    assert len(fake.time_entries) == 1, fake.time_entries
    return next(iter(fake.time_entries.values()))


def test_an_entry_becomes_a_time_entry_on_its_ticket_member_agreement_and_hours(
    pctx: Context, connectwise: FakeConnectWise
) -> None:
    logged = do(pctx, TECH, "logtime acme 1h30m laptop advice #1234")
    assert logged.psa == "queued for ConnectWise PSA"
    assert entries_psa(pctx)[logged.entry_id] == "queued"
    assert deliver(pctx) == 1
    record = only_record(connectwise)
    assert record["chargeToType"] == "ServiceTicket" and record["chargeToId"] == 1234
    assert record["company"]["id"] == 250 and record["agreement"]["id"] == 30
    assert record["member"] == {"id": 17, "identifier": "tess"}
    assert record["actualHours"] == Decimal("1.5") and record["billableOption"] == "Billable"
    assert record["timeStart"] == "2026-11-25T09:00:00Z" and record["timeEnd"] == "2026-11-25T10:30:00Z"
    assert record["notes"] == "laptop advice #1234"
    assert entries_psa(pctx)[logged.entry_id] == f"synced (#{record['id']})"
    with pctx.db.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Entry, logged.entry_id).psa_id == str(record["id"])  # type: ignore[union-attr]
    assert deliver(pctx) == 0  # nothing more to send


def test_without_a_ticket_time_goes_to_the_company_and_non_billable_is_not_billed(
    pctx: Context, connectwise: FakeConnectWise
) -> None:
    do(pctx, TECH, "logtime acme 20m --nb internal tidy-up")
    deliver(pctx)
    record = only_record(connectwise)
    assert "chargeToId" not in record and record["company"]["id"] == 250
    assert record["billableOption"] == "DoNotBill" and record["actualHours"] == Decimal("0.33")


def test_an_edit_updates_the_same_record_and_a_void_removes_it(pctx: Context, connectwise: FakeConnectWise) -> None:
    logged = do(pctx, TECH, "logtime acme 30m printer #1234")
    deliver(pctx)
    created = only_record(connectwise)
    edited = do(pctx, TECH, f"edit {logged.entry_id} 45m")
    assert entries_psa(pctx)[edited.entry_id].startswith("queued")
    deliver(pctx)
    record = only_record(connectwise)
    assert record["id"] == created["id"] and record["actualHours"] == Decimal("0.75")
    assert len(connectwise.calls("POST")) == 1 and len(connectwise.calls("PATCH")) == 1
    do(pctx, TECH, f"void {edited.entry_id} wrong client")
    deliver(pctx)
    assert connectwise.time_entries == {}
    assert entries_psa(pctx)[edited.entry_id] == "removed"


def test_an_edit_before_the_first_sync_creates_one_record_with_the_edit(
    pctx: Context, connectwise: FakeConnectWise
) -> None:
    logged = do(pctx, TECH, "logtime acme 30m printer")
    do(pctx, TECH, f"edit {logged.entry_id} 1h")
    assert deliver(pctx) == 1  # one row per chain: the latest state goes once
    assert only_record(connectwise)["actualHours"] == Decimal("1")
    assert len(connectwise.calls("POST")) == 1


def test_the_psa_down_for_a_minute_loses_nothing_and_doubles_nothing(
    pctx: Context, connectwise: FakeConnectWise, clock: FixedClock
) -> None:
    connectwise.faults.down = True
    first = do(pctx, TECH, "logtime acme 15m one")
    second = do(pctx, TECH, "logtime acme 15m two #1234")
    assert deliver(pctx) == 0
    assert len(connectwise.requests) == 1  # once it failed, the pass left the PSA alone (alerts still go)
    state = entries_psa(pctx)[first.entry_id]
    assert state is not None and state.startswith("retrying: ConnectWise 503")
    clock.advance(seconds=30)
    assert deliver(pctx) == 0  # still down
    connectwise.faults.down = False
    clock.advance(seconds=60)
    assert deliver(pctx) == 2
    assert sorted(r["notes"] for r in connectwise.time_entries.values()) == ["one", "two #1234"]
    assert {entries_psa(pctx)[e.entry_id][:6] for e in (first, second)} == {"synced"}
    clock.advance(minutes=10)
    assert deliver(pctx) == 0 and len(connectwise.time_entries) == 2


def test_a_timeout_after_the_psa_stored_the_record_never_makes_a_second(
    database: Database, connectwise: FakeConnectWise, clock: FixedClock
) -> None:
    ctx = Context(database, psa_settings(connectwise, psa_timeout_seconds=1.0), clock)
    admin = Actor.local_admin()
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "topup acme 10")
    do(ctx, admin, "client set acme psa-company 250 psa-agreement 30")
    psa_admin.member(ctx, admin, None, "UTECH", "17")
    connectwise.faults.slow_create = 2.5  # stored at once, answered after the client gave up
    logged = do(ctx, TECH, "logtime acme 45m server patching")
    assert deliver(ctx) == 0
    assert len(connectwise.time_entries) == 1  # ConnectWise has it; we do not know its id
    assert "did not answer" in (entries_psa(ctx)[logged.entry_id] or "")
    connectwise.faults.slow_create = 0
    clock.advance(minutes=2)
    assert deliver(ctx) == 1
    record = only_record(connectwise)  # found by our reference, not created again
    assert len(connectwise.calls("POST")) == 1
    assert entries_psa(ctx)[logged.entry_id] == f"synced (#{record['id']})"


def test_a_rate_limit_waits_as_long_as_the_psa_says(
    pctx: Context, connectwise: FakeConnectWise, clock: FixedClock
) -> None:
    connectwise.rate_limit(1, retry_after=40)
    logged = do(pctx, TECH, "logtime acme 15m quick question")
    assert deliver(pctx) == 0
    row = row_of(pctx, logged.entry_id)
    waited = (row.next_attempt_at - clock.now()).total_seconds()
    assert 40 <= waited <= 41 and "429" in (row.last_error or "")
    clock.advance(seconds=30)
    assert deliver(pctx) == 0  # not yet due
    clock.advance(seconds=11)
    assert deliver(pctx) == 1 and len(connectwise.time_entries) == 1


def test_a_missing_mapping_keeps_the_entry_and_fails_the_sync_with_the_reason(
    pctx: Context, connectwise: FakeConnectWise
) -> None:
    admin = Actor.local_admin()
    do(pctx, admin, "client add globex Globex")
    do(pctx, admin, "topup globex 5")
    logged = do(pctx, TECH, "logtime globex 30m printer")
    assert deliver(pctx) == 0
    state = entries_psa_of(pctx, "globex")[logged.entry_id]
    assert state == "failed: Globex has no ConnectWise PSA company and agreement: run `blocktime psa link globex`"
    assert balance_of(pctx, "globex").remaining_minutes == 270  # the entry counts here all the same
    assert connectwise.time_entries == {}
    assert deliver(pctx) == 0  # a refusal is not retried by itself
    psa = connect(pctx.settings)
    assert psa is not None
    linked = psa_admin.link(pctx, admin, psa, "globex", "300", None)  # its one active agreement: 40
    assert linked.data["psa_agreement_id"] == "40" and linked.data["requeued"] == 1
    assert deliver(pctx) == 1
    assert only_record(connectwise)["agreement"]["id"] == 40


def test_a_technician_without_a_member_is_found_by_the_slack_e_mail_or_fails_with_why(
    pctx: Context, connectwise: FakeConnectWise
) -> None:
    max_ = Actor("UMAX", "Max Manager")
    unknown = Actor("UNEW", "Nina New")
    remember_person(pctx, "UMAX", "T0", Standing.STAFF, "Max Manager", "max@msp.example")
    found = do(pctx, max_, "logtime acme 15m call")
    missing = do(pctx, unknown, "logtime acme 15m call")
    deliver(pctx)
    states = entries_psa(pctx)
    assert states[found.entry_id].startswith("synced")
    assert only_record(connectwise)["member"]["id"] == 18
    assert states[missing.entry_id] == (
        "failed: no ConnectWise PSA member for Nina New (Slack gave no e-mail for them): "
        "run `blocktime psa member UNEW <member id>`"
    )
    admin = Actor.local_admin()
    psa_admin.member(pctx, admin, connect(pctx.settings), "UNEW", "17")
    assert psa_admin.retry(pctx, admin, None).data["requeued"] == 1
    deliver(pctx)
    assert entries_psa(pctx)[missing.entry_id].startswith("synced")


def test_the_psa_refusing_a_record_shows_its_own_words(pctx: Context, connectwise: FakeConnectWise) -> None:
    logged = do(pctx, TECH, "logtime acme 15m globex's printer #4321")  # a ticket of another company
    deliver(pctx)
    assert entries_psa(pctx)[logged.entry_id] == (
        "failed: ConnectWise 400: TimeEntry object is invalid (chargeToId: Ticket 4321 belongs to another company)"
    )


def test_reconcile_lists_every_difference(pctx: Context, connectwise: FakeConnectWise) -> None:
    kept = do(pctx, TECH, "logtime acme 1h kept")
    lost = do(pctx, TECH, "logtime acme 30m lost")
    changed = do(pctx, TECH, "logtime acme 45m changed")
    deliver(pctx)
    ids = {r["notes"]: r["id"] for r in connectwise.time_entries.values()}
    del connectwise.time_entries[ids["lost"]]  # someone deleted it in ConnectWise
    connectwise.time_entries[ids["changed"]]["actualHours"] = Decimal("1.25")
    extra = dict(connectwise.time_entries[ids["kept"]], id=9999, mobileGuid=None, notes="typed in ConnectWise")
    connectwise.time_entries[9999] = extra
    psa = connect(pctx.settings)
    assert psa is not None
    found = psa_admin.reconcile(pctx, Actor.local_admin(), psa, "acme", parse_period("this month", pctx.today()))
    kinds = {(d["kind"], d["entry_id"], d["psa_id"]) for d in found.data["differences"]}
    assert kinds == {
        ("missing", lost.entry_id, None),
        ("hours", changed.entry_id, str(ids["changed"])),
        ("extra", None, "9999"),
    }
    assert not found.data["in_step"] and found.data["ours"] == 3 and found.data["theirs"] == 3
    assert kept.entry_id not in {d["entry_id"] for d in found.data["differences"]}


def test_reading_time_entries_follows_every_page(pctx: Context, connectwise: FakeConnectWise) -> None:
    template = {
        "company": {"id": 250},
        "agreement": {"id": 30},
        "member": {"id": 17, "identifier": "tess"},
        "timeStart": "2026-11-10T09:00:00Z",
        "actualHours": Decimal("0.25"),
    }
    for number in range(1, 1206):
        connectwise.time_entries[number] = dict(template, id=number)
    psa = ConnectWise.from_settings(pctx.settings)
    found = psa.times("30", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert len(found) == 1205 and len({t.psa_id for t in found}) == 1205
    pages = list(connectwise.calls("GET", "time/entries"))
    assert len(pages) == 2 and pages[1].query["page"] == "2"


def test_import_blocks_offers_the_agreements_prepaid_hours_and_adds_them_once(
    pctx: Context, connectwise: FakeConnectWise
) -> None:
    connectwise.additions[30] = [
        {
            "id": 7,
            "quantity": 10,
            "uom": "Hour",
            "unitPrice": 95,
            "description": "10 extra hours",
            "billCustomer": "Billable",
            "effectiveDate": "2026-11-15T00:00:00Z",
        },
        {"id": 8, "quantity": 1, "uom": "Each", "unitPrice": 50, "billCustomer": "Billable"},  # not hours
        {"id": 9, "quantity": 5, "uom": "Hour", "cancelledDate": "2026-11-20T00:00:00Z", "billCustomer": "Billable"},
    ]
    psa = connect(pctx.settings)
    assert psa is not None
    admin = Actor.local_admin()
    before = balance_of(pctx, "acme").remaining_minutes
    offered = psa_admin.import_blocks(pctx, admin, psa, "acme", confirmed=False)
    assert [(b["source"], b["minutes"], b["status"]) for b in offered.data["blocks"]] == [
        ("agreement:30", 1200, "offered"),
        ("addition:7", 600, "offered"),
    ]
    assert balance_of(pctx, "acme").remaining_minutes == before  # offering writes nothing
    imported = psa_admin.import_blocks(pctx, admin, psa, "acme", confirmed=True)
    assert [b["status"] for b in imported.data["blocks"]] == ["imported", "imported"]
    assert balance_of(pctx, "acme").remaining_minutes == before + 1800
    again = psa_admin.import_blocks(pctx, admin, psa, "acme", confirmed=True)
    assert [b["status"] for b in again.data["blocks"]] == ["imported before", "imported before"]
    assert balance_of(pctx, "acme").remaining_minutes == before + 1800
    blocks = do(pctx, admin, "blocks acme").blocks
    assert {(b.minutes, str(b.price)) for b in blocks} >= {(1200, "2000.00"), (600, "950.00")}


def test_check_says_what_is_missing(pctx: Context, connectwise: FakeConnectWise) -> None:
    admin = Actor.local_admin()
    do(pctx, admin, "client add globex Globex")
    do(pctx, admin, "client add initech Initech")
    do(pctx, admin, "client set initech psa-company 300 psa-agreement 30")  # agreement of another company
    do(pctx, admin, "topup globex 1")
    do(pctx, Actor("UNEW", "Nina New"), "logtime globex 15m call")
    psa_admin.work_type(pctx, admin, "standard", "77", None)  # no such work type in ConnectWise
    psa = connect(pctx.settings)
    assert psa is not None
    checked = psa_admin.check(pctx, admin, psa)
    assert not checked.complete
    data = checked.message.data
    assert data["reachable"] and data["version"] == "v2025.1.12345"
    assert data["missing"]["clients"] == ["globex"]
    assert data["missing"]["members"] == ["Nina New (UNEW): no e-mail from Slack"]
    assert data["problems"] == [
        "initech: agreement 30 belongs to company 250, not 300",
        "work type standard: ConnectWise PSA has no work type 77",
    ]
    assert "standard" not in data["missing"]["work_types"]


def test_link_lists_the_companies_named_like_the_client(pctx: Context, connectwise: FakeConnectWise) -> None:
    psa = connect(pctx.settings)
    assert psa is not None
    listed = psa_admin.link(pctx, Actor.local_admin(), psa, "acme", None, None)
    assert {c["id"] for c in listed.data["companies"]} == {"250", "251"}
    assert "blocktime psa link acme <company id> <agreement id>" in listed.message


def test_a_work_type_goes_as_its_psa_work_type(pctx: Context, connectwise: FakeConnectWise) -> None:
    admin = Actor.local_admin()
    do(pctx, admin, "worktype add onsite 1.5")
    psa_admin.work_type(pctx, admin, "onsite", "5", None)
    do(pctx, TECH, "logtime acme 1h as onsite server room")
    deliver(pctx)
    assert only_record(connectwise)["workType"] == {"id": 5}


def test_a_newer_change_while_a_sync_is_in_flight_is_not_marked_sent(pctx: Context) -> None:
    logged = do(pctx, TECH, "logtime acme 15m first")
    row = row_of(pctx, logged.entry_id)
    now = pctx.now()
    with pctx.db.unit_of_work() as uow:
        assert outbox.claim(uow.session, row.id, "w1", now, now.replace(year=now.year + 1)) is not None
        uow.commit()
    do(pctx, TECH, f"edit {logged.entry_id} 30m")  # queued again (the void, the corrected entry): version 2
    with pctx.db.unit_of_work() as uow:
        assert not outbox.mark_sent(uow.session, row.id, "w1", now, "1001", version=0)
        uow.commit()
    again = row_of(pctx, logged.entry_id)
    assert again.status == "pending" and again.claimed_until is None and again.version == 2


def test_without_a_psa_nothing_is_queued(ctx: Context) -> None:
    admin = Actor.local_admin()
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "topup acme 10")
    logged = do(ctx, admin, "logtime acme 15m call")
    assert logged.psa is None
    with ctx.db.unit_of_work(read_only=True) as uow:
        assert uow.session.query(OutboxMessage).filter_by(destination="psa").count() == 0


def test_the_fake_refuses_what_connectwise_refuses(connectwise: FakeConnectWise) -> None:
    """The fake's checks can fail: an unknown field, a wrong key, a missing start, a bad patch path."""
    auth = (f"{connectwise.company}+{connectwise.public_key}", connectwise.private_key)
    headers = {"clientId": connectwise.client_id}
    base = connectwise.url + "/time/entries"
    good = {"company": {"id": 250}, "member": {"id": 17}, "timeStart": "2026-11-25T09:00:00Z", "actualHours": 1}
    with httpx.Client(headers=headers, auth=auth) as http:
        unknown = http.post(base, json={**good, "hours": 1})
        assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "hours"
        no_start = http.post(base, json={k: v for k, v in good.items() if k != "timeStart"})
        assert no_start.status_code == 400 and no_start.json()["errors"][0]["code"] == "NullValue"
        created = http.post(base, json=good)
        assert created.status_code == 201
        bad_patch = http.patch(
            f"{base}/{created.json()['id']}", json=[{"op": "replace", "path": "hoursWorked", "value": 2}]
        )
        assert bad_patch.status_code == 400
        assert http.get(base, params={"conditions": 'notes = "x"', "limit": 5}).status_code == 400
    assert httpx.post(base, json=good, headers=headers, auth=(auth[0], "wrong")).status_code == 401
    assert httpx.post(base, json=good, auth=auth).status_code == 400  # no clientId


def entries_psa_of(ctx: Context, handle: str) -> dict[int, str | None]:
    shown = do(ctx, Actor.local_admin(), f"entries {handle} this month")
    return {e.id: e.psa for e in shown.entries}


def test_the_record_json_is_what_the_reference_names(pctx: Context, connectwise: FakeConnectWise) -> None:
    """Every body we sent validated against ConnectWise's TimeEntry schema (the fake checks on receipt);
    the reference rides in mobileGuid and is the same on every call for one chain."""
    logged = do(pctx, TECH, "logtime acme 15m one")
    deliver(pctx)
    do(pctx, TECH, f"edit {logged.entry_id} 20m")
    deliver(pctx)
    posted = connectwise.calls("POST")[0].body
    reference = json.loads(row_of(pctx, logged.entry_id).payload)["reference"]
    assert posted["mobileGuid"] == reference
    assert all(c.status < 300 for c in connectwise.requests)


def test_a_member_is_named_by_slack_id_mention_or_name(pctx: Context, connectwise: FakeConnectWise) -> None:
    admin = Actor.local_admin()
    remember_person(pctx, "USAM", "T0", Standing.STAFF, "Sam Smith")
    assert psa_admin.member(pctx, admin, connect(pctx.settings), "@sam", "18").data["user"] == "USAM"
    assert psa_admin.member(pctx, admin, None, "<@UZED|zed>", "17").data["user"] == "UZED"
    with pytest.raises(NotFound, match="No one is named @nobody"):
        psa_admin.member(pctx, admin, None, "@nobody", "17")
    with pytest.raises(NotFound, match="There is no member 99"):
        psa_admin.member(pctx, admin, connect(pctx.settings), "USAM", "99")
    do(pctx, Actor("USAM", "Sam Smith"), "logtime acme 15m call")
    deliver(pctx)
    assert only_record(connectwise)["member"]["id"] == 18
    with pctx.db.unit_of_work(read_only=True) as uow:  # who mapped whom, and when, is in the audit log
        targets = [a.target for a in uow.session.query(AuditLog).filter_by(action="psa_member").order_by(AuditLog.id)]
    assert targets == ["user:UTECH", "user:USAM", "user:UZED"]


def test_two_dispatchers_at_once_write_one_record(pctx: Context, connectwise: FakeConnectWise) -> None:
    """Two bot processes' dispatchers see the same queued entry: one claims it, the other passes."""
    connectwise.faults.slow_create = 0.8  # the first is still waiting for ConnectWise's answer
    do(pctx, TECH, "logtime acme 15m call")
    first = Dispatcher(pctx, transports_for(pctx), worker="host-a:1")
    second = Dispatcher(pctx, transports_for(pctx), worker="host-b:2")
    results: list[int] = []
    running = threading.Thread(target=lambda: results.append(first.run_once()))
    running.start()
    deadline = time.monotonic() + 5
    while not connectwise.calls("POST") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert second.run_once() == 0  # claimed by the first
    running.join(10)
    assert results == [1] and len(connectwise.calls("POST")) == 1 and len(connectwise.time_entries) == 1


def test_entries_from_before_the_psa_are_sent_on_request_once(
    database: Database, connectwise: FakeConnectWise, clock: FixedClock
) -> None:
    """The PSA is connected mid-month: reconcile shows the earlier entries missing; `psa sync` queues
    them (not those queued already, not voided ones) and reconcile is then in step."""
    before = Context(database, Settings(admins=frozenset({"UADMIN"})), clock)
    admin = Actor.local_admin()
    do(before, admin, "client add acme Acme Corp")
    do(before, admin, "topup acme 10")
    old = [do(before, TECH, f"logtime acme {m}m earlier work") for m in (15, 30)]
    do(before, TECH, f"void {old[1].entry_id} wrong client")
    ctx = Context(database, psa_settings(connectwise), clock)
    do(ctx, admin, "client set acme psa-company 250 psa-agreement 30")
    psa_admin.member(ctx, admin, None, "UTECH", "17")
    new = do(ctx, TECH, "logtime acme 45m after the switch")
    deliver(ctx)
    psa = connect(ctx.settings)
    assert psa is not None
    month = parse_period("this month", ctx.today())
    missing = psa_admin.reconcile(ctx, admin, psa, "acme", month).data["differences"]
    assert [(d["kind"], d["entry_id"]) for d in missing] == [("missing", old[0].entry_id)]
    sent = psa_admin.backfill(ctx, admin, "acme", month)
    assert sent.data == {"client": "acme", "queued": 1, "already": 1}
    assert deliver(ctx) == 1
    assert psa_admin.reconcile(ctx, admin, psa, "acme", month).data["in_step"]
    assert psa_admin.backfill(ctx, admin, "acme", month).data["queued"] == 0  # a second run sends nothing
    assert len(connectwise.calls("POST")) == 2 and new.entry_id != old[0].entry_id


def test_voiding_time_the_psa_already_billed_is_flagged_not_lost(pctx: Context, connectwise: FakeConnectWise) -> None:
    """The entry was invoiced in ConnectWise, then voided here: the balance comes back here, and the
    record that ConnectWise will not delete is shown as failed, in its words, and in the digest."""
    logged = do(pctx, TECH, "logtime acme 1h server patching")
    deliver(pctx)
    record = only_record(connectwise)
    record["status"] = "Billed"
    do(pctx, TECH, f"void {logged.entry_id} wrong client")
    assert deliver(pctx) == 0
    assert balance_of(pctx, "acme").remaining_minutes == 600
    assert entries_psa(pctx)[logged.entry_id] == (
        "failed: ConnectWise 400: TimeEntry object is invalid (status: A billed time entry cannot be changed)"
    )
    assert only_record(connectwise)["id"] == record["id"]  # still there, still billed
    with pctx.db.unit_of_work(read_only=True) as uow:
        failed = digest_facts(pctx, uow.session, pctx.today())["psa"]
    assert failed["failed_count"] == 1 and failed["failed"][0]["entry_id"] == logged.entry_id
