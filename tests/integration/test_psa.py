"""Time logged here lands in the MSP's PSA through the outbox: entries, edits and voids; the PSA down,
slow or rate limiting; missing mappings; reconcile and import of prepaid blocks. Each test that every
PSA must pass runs against the local fake of each vendor's API (ConnectWise PSA, HaloPSA, Autotask:
each validates every request it receives), on both databases; vendor-only behaviour is tested below."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.bootstrap import transports_for
from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.dates import parse_period
from bot.domain.errors import NotFound
from bot.domain.roles import Standing
from bot.jobs.dispatcher import Dispatcher
from bot.services import Actor, Context, psa_admin
from bot.services.people import remember_person
from bot.services.scheduled import digest_facts
from storage import outbox
from storage.db import Database
from storage.models import AuditLog, Entry, OutboxMessage
from tests.conftest import psa_settings
from tests.fakes.connectwise import FakeConnectWise
from tests.fakes.psa_base import Record
from tests.helpers import balance_of, do, eventually
from tests.psa_helpers import TECH, deliver, linked, psa_of


@pytest.fixture
def pctx(database: Database, psa_fake: Any, clock: FixedClock) -> Context:
    return linked(Context(database, psa_settings(psa_fake), clock))


def row_of(ctx: Context, entry_id: int) -> OutboxMessage:
    with ctx.db.unit_of_work(read_only=True) as uow:
        entry = uow.session.get(Entry, entry_id)
        assert entry is not None
        root = entry.root_id or entry.id
        found = uow.session.query(OutboxMessage).filter_by(destination="psa", entry_id=root).one()
        uow.session.expunge(found)
        return found


def entries_psa(ctx: Context, handle: str = "acme") -> dict[int, str | None]:
    shown = do(ctx, Actor.local_admin(), f"entries {handle} this month")
    return {e.id: e.psa for e in shown.entries}


def only_record(fake: Any) -> Record:
    records = fake.records()
    assert len(records) == 1, records
    return records[0]


def test_an_entry_becomes_a_time_record_on_its_ticket_member_agreement_and_hours(pctx: Context, psa_fake: Any) -> None:
    logged = do(pctx, TECH, "logtime acme 1h30m laptop advice #1234")
    assert logged.psa == f"queued for {psa_fake.label}"
    assert entries_psa(pctx)[logged.entry_id] == "queued"
    assert deliver(pctx) == 1
    record = only_record(psa_fake)
    assert (record.ticket, record.company, record.agreement, record.member) == (1234, 250, 30, 17)
    assert record.minutes == 90 and record.billable
    assert record.start == "2026-11-25T09:00:00Z" and record.end == "2026-11-25T10:30:00Z"
    assert record.notes == "laptop advice #1234"
    assert entries_psa(pctx)[logged.entry_id] == f"synced (#{record.id})"
    with pctx.db.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Entry, logged.entry_id).psa_id == str(record.id)  # type: ignore[union-attr]
    assert deliver(pctx) == 0  # nothing more to send


def test_without_a_ticket_time_goes_to_the_clients_ticket_for_other_time_and_non_billable_is_not_billed(
    pctx: Context, psa_fake: Any
) -> None:
    do(pctx, TECH, "logtime acme 20m --nb internal tidy-up")
    deliver(pctx)
    record = only_record(psa_fake)
    assert record.ticket == 5000 and record.company == 250 and record.agreement == 30
    assert not record.billable and record.minutes == 20


def test_without_any_ticket_time_goes_to_the_company_or_fails_where_the_psa_needs_one(
    database: Database, psa_fake: Any, clock: FixedClock
) -> None:
    ctx = linked(Context(database, psa_settings(psa_fake), clock))
    do(ctx, Actor.local_admin(), "client set acme psa-ticket none")
    logged = do(ctx, TECH, "logtime acme 20m phone call")
    psa = psa_of(ctx)
    if not psa.needs_ticket:  # ConnectWise: charged to the company
        assert deliver(ctx) == 1
        record = only_record(psa_fake)
        assert record.ticket is None and record.company == 250
        return
    assert deliver(ctx) == 0
    assert entries_psa(ctx)[logged.entry_id] == (
        f"failed: {psa.name} records time only on tickets and this entry names none: put #1234 in its note, "
        "or set Acme Corp's ticket for other time: `client set acme psa-ticket <ticket id>`"
    )
    assert balance_of(ctx, "acme").remaining_minutes == 580  # the entry counts here all the same
    do(ctx, Actor.local_admin(), "client set acme psa-ticket 5000")
    assert psa_admin.retry(ctx, Actor.local_admin(), "acme").data["requeued"] == 1
    assert deliver(ctx) == 1 and only_record(psa_fake).ticket == 5000


def test_an_edit_updates_the_same_record_and_a_void_removes_it(pctx: Context, psa_fake: Any) -> None:
    logged = do(pctx, TECH, "logtime acme 30m printer #1234")
    deliver(pctx)
    created = only_record(psa_fake)
    edited = do(pctx, TECH, f"edit {logged.entry_id} 45m")
    assert (entries_psa(pctx)[edited.entry_id] or "").startswith("queued")
    deliver(pctx)
    record = only_record(psa_fake)
    assert record.id == created.id and record.minutes == 45
    assert psa_fake.count("create") == 1 and psa_fake.count("update") == 1
    do(pctx, TECH, f"void {edited.entry_id} wrong client")
    deliver(pctx)
    assert psa_fake.records() == [] and psa_fake.count("delete") == 1
    assert entries_psa(pctx)[edited.entry_id] == "removed"


def test_a_record_deleted_in_the_psa_comes_back_on_an_edit_and_a_void_of_it_passes(
    pctx: Context, psa_fake: Any
) -> None:
    logged = do(pctx, TECH, "logtime acme 30m printer #1234")
    deliver(pctx)
    psa_fake.remove(only_record(psa_fake).id)  # someone deleted it in the PSA
    edited = do(pctx, TECH, f"edit {logged.entry_id} 45m")
    assert deliver(pctx) == 1
    again = only_record(psa_fake)  # the entry still counts here, so its record goes back
    assert again.minutes == 45 and entries_psa(pctx)[edited.entry_id] == f"synced (#{again.id})"
    psa_fake.remove(again.id)
    do(pctx, TECH, f"void {edited.entry_id} wrong client")
    assert deliver(pctx) == 1  # gone already is what a void wants
    assert entries_psa(pctx)[edited.entry_id] == "removed" and psa_fake.records() == []


def test_an_edit_before_the_first_sync_creates_one_record_with_the_edit(pctx: Context, psa_fake: Any) -> None:
    logged = do(pctx, TECH, "logtime acme 30m printer")
    do(pctx, TECH, f"edit {logged.entry_id} 1h")
    assert deliver(pctx) == 1  # one row per chain: the latest state goes once
    assert only_record(psa_fake).minutes == 60
    assert psa_fake.count("create") == 1


def test_the_psa_down_for_a_minute_loses_nothing_and_doubles_nothing(
    pctx: Context, psa_fake: Any, clock: FixedClock
) -> None:
    psa_fake.faults.down = True
    first = do(pctx, TECH, "logtime acme 15m one")
    second = do(pctx, TECH, "logtime acme 15m two #1234")
    assert deliver(pctx) == 0
    assert len(psa_fake.requests) == 1  # once it failed, the pass left the PSA alone (alerts still go)
    state = entries_psa(pctx)[first.entry_id]
    assert state is not None and state.startswith(f"retrying: {psa_fake.vendor} 503")
    clock.advance(seconds=30)
    assert deliver(pctx) == 0  # still down
    psa_fake.faults.down = False
    clock.advance(seconds=60)
    assert deliver(pctx) == 2
    assert sorted(r.notes for r in psa_fake.records()) == ["one", "two #1234"]
    assert {(entries_psa(pctx)[e.entry_id] or "")[:6] for e in (first, second)} == {"synced"}
    clock.advance(minutes=10)
    assert deliver(pctx) == 0 and len(psa_fake.records()) == 2


def test_a_timeout_after_the_psa_stored_the_record_never_makes_a_second(
    database: Database, psa_fake: Any, clock: FixedClock
) -> None:
    ctx = linked(Context(database, psa_settings(psa_fake, psa_timeout_seconds=1.0), clock))
    psa_fake.faults.slow_create = 2.5  # stored at once, answered after the client gave up
    logged = do(ctx, TECH, "logtime acme 45m server patching")
    assert deliver(ctx) == 0
    assert len(psa_fake.records()) == 1  # the PSA has it; we do not know its id
    assert "did not answer" in (entries_psa(ctx)[logged.entry_id] or "")
    psa_fake.faults.slow_create = 0
    clock.advance(minutes=2)
    assert deliver(ctx) == 1
    record = only_record(psa_fake)  # found by our reference, not created again
    assert psa_fake.count("create") == 1
    assert entries_psa(ctx)[logged.entry_id] == f"synced (#{record.id})"


def test_a_timeout_then_an_edit_to_another_ticket_still_makes_one_record(
    database: Database, psa_fake: Any, clock: FixedClock
) -> None:
    """The PSA stored the record but its answer came too late; before the retry, the entry was edited
    onto another ticket. The retry finds the record (on the ticket it was on) and moves it."""
    ctx = linked(Context(database, psa_settings(psa_fake, psa_timeout_seconds=1.0), clock))
    psa_fake.faults.slow_create = 2.5
    logged = do(ctx, TECH, "logtime acme 45m server patching #1234")
    assert deliver(ctx) == 0 and len(psa_fake.records()) == 1
    psa_fake.faults.slow_create = 0
    edited = do(ctx, TECH, f"edit {logged.entry_id} 1h server patching #5000")
    clock.advance(minutes=2)
    assert deliver(ctx) == 1
    record = only_record(psa_fake)
    assert (record.ticket, record.minutes) == (5000, 60) and psa_fake.count("create") == 1
    assert entries_psa(ctx)[edited.entry_id] == f"synced (#{record.id})"


def test_a_rate_limit_waits_as_long_as_the_psa_says(pctx: Context, psa_fake: Any, clock: FixedClock) -> None:
    logged = do(pctx, TECH, "logtime acme 15m quick question")
    psa_fake.rate_limit(1, retry_after=40)
    assert deliver(pctx) == 0
    row = row_of(pctx, logged.entry_id)
    waited = (row.next_attempt_at - clock.now()).total_seconds()
    assert 40 <= waited <= 41 and "429" in (row.last_error or "")
    clock.advance(seconds=30)
    assert deliver(pctx) == 0  # not yet due
    clock.advance(seconds=11)
    assert deliver(pctx) == 1 and len(psa_fake.records()) == 1


def test_a_missing_mapping_keeps_the_entry_and_fails_the_sync_with_the_reason(pctx: Context, psa_fake: Any) -> None:
    admin = Actor.local_admin()
    do(pctx, admin, "client add globex Globex")
    do(pctx, admin, "topup globex 5")
    logged = do(pctx, TECH, "logtime globex 30m printer #4321")
    assert deliver(pctx) == 0
    state = entries_psa(pctx, "globex")[logged.entry_id]
    assert state == f"failed: Globex has no {psa_fake.label} company and agreement: run `blocktime psa link globex`"
    assert balance_of(pctx, "globex").remaining_minutes == 270  # the entry counts here all the same
    assert psa_fake.records() == []
    assert deliver(pctx) == 0  # a refusal is not retried by itself
    linked_now = psa_admin.link(pctx, admin, psa_of(pctx), "globex", "300", None)  # its one active agreement: 40
    assert linked_now.data["psa_agreement_id"] == "40" and linked_now.data["requeued"] == 1
    assert deliver(pctx) == 1
    assert only_record(psa_fake).agreement == 40


def test_a_technician_without_a_member_is_found_by_the_slack_e_mail_or_fails_with_why(
    pctx: Context, psa_fake: Any
) -> None:
    max_ = Actor("UMAX", "Max Manager")
    unknown = Actor("UNEW", "Nina New")
    remember_person(pctx, "UMAX", "T0", Standing.STAFF, "Max Manager", "max@msp.example")
    found = do(pctx, max_, "logtime acme 15m call")
    missing = do(pctx, unknown, "logtime acme 15m call")
    deliver(pctx)
    states = entries_psa(pctx)
    assert (states[found.entry_id] or "").startswith("synced")
    assert only_record(psa_fake).member == 18
    assert states[missing.entry_id] == (
        f"failed: no {psa_fake.label} member for Nina New (Slack gave no e-mail for them): "
        "run `blocktime psa member UNEW <member id>`"
    )
    admin = Actor.local_admin()
    psa_admin.member(pctx, admin, psa_of(pctx), "UNEW", "17")
    assert psa_admin.retry(pctx, admin, None).data["requeued"] == 1
    deliver(pctx)
    assert (entries_psa(pctx)[missing.entry_id] or "").startswith("synced")


def test_the_psa_refusing_a_record_shows_its_own_words(pctx: Context, psa_fake: Any) -> None:
    logged = do(pctx, TECH, "logtime acme 15m globex's printer #4321")  # a ticket of another company
    deliver(pctx)
    state = entries_psa(pctx)[logged.entry_id] or ""
    assert state.startswith(f"failed: {psa_fake.vendor} ") and "4321" in state, state  # 400 (Autotask: 500)
    assert psa_fake.records() == []


def test_reconcile_lists_every_difference(pctx: Context, psa_fake: Any) -> None:
    kept = do(pctx, TECH, "logtime acme 1h kept")
    lost = do(pctx, TECH, "logtime acme 30m lost #1234")
    changed = do(pctx, TECH, "logtime acme 45m changed")
    deliver(pctx)
    ids = {r.notes.split()[0]: r.id for r in psa_fake.records()}
    psa_fake.remove(ids["lost"])  # someone deleted it in the PSA
    psa_fake.tamper(ids["changed"], 75)
    psa_fake.plant(ids["kept"], 9999, "typed in the PSA")
    found = psa_admin.reconcile(
        pctx, Actor.local_admin(), psa_of(pctx), "acme", parse_period("this month", pctx.today())
    )
    kinds = {(d["kind"], d["entry_id"], d["psa_id"]) for d in found.data["differences"]}
    assert kinds == {
        ("missing", lost.entry_id, None),
        ("hours", changed.entry_id, str(ids["changed"])),
        ("extra", None, "9999"),
    }
    assert not found.data["in_step"] and found.data["ours"] == 3 and found.data["theirs"] == 3
    assert kept.entry_id not in {d["entry_id"] for d in found.data["differences"]}


def test_reading_time_records_follows_every_page(pctx: Context, psa_fake: Any) -> None:
    count = psa_fake.page_size + 5
    psa_fake.fill(count, agreement=30, member=17)
    found = psa_of(pctx).times("30", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert len(found) == count and len({t.psa_id for t in found}) == count
    assert {t.minutes for t in found} == {15}


def test_check_says_what_is_missing(pctx: Context, psa_fake: Any) -> None:
    admin = Actor.local_admin()
    do(pctx, admin, "client add globex Globex")
    do(pctx, admin, "client add initech Initech")
    do(pctx, admin, "client set initech psa-company 300 psa-agreement 30")  # agreement of another company
    do(pctx, admin, "topup globex 1")
    do(pctx, Actor("UNEW", "Nina New"), "logtime globex 15m call")
    psa_admin.work_type(pctx, admin, "standard", "77", None)  # no such work type in the PSA
    psa = psa_of(pctx)
    checked = psa_admin.check(pctx, admin, psa)
    assert not checked.complete
    data = checked.message.data
    assert data["reachable"] and data["version"]
    assert data["missing"]["clients"] == ["globex"]
    assert data["missing"]["members"] == ["Nina New (UNEW): no e-mail from Slack"]
    assert data["problems"] == [
        "initech: agreement 30 belongs to company 250, not 300",
        f"work type standard: {psa.name} has no work type 77",
    ]
    assert "standard" not in data["missing"]["work_types"]
    assert data["missing"]["tickets"] == (["initech"] if psa.needs_ticket else [])


def test_link_lists_the_companies_named_like_the_client(pctx: Context, psa_fake: Any) -> None:
    listed = psa_admin.link(pctx, Actor.local_admin(), psa_of(pctx), "acme", None, None)
    assert {c["id"] for c in listed.data["companies"]} == {"250", "251"}
    assert "blocktime psa link acme <company id> <agreement id>" in listed.message


def test_a_work_type_goes_as_its_psa_work_type(pctx: Context, psa_fake: Any) -> None:
    admin = Actor.local_admin()
    do(pctx, admin, "worktype add onsite 1.5")
    psa_admin.work_type(pctx, admin, "onsite", "5", None)
    do(pctx, TECH, "logtime acme 1h as onsite server room")
    deliver(pctx)
    assert only_record(psa_fake).work_type == 5


def test_the_reference_rides_in_the_record_and_stays_one_per_chain(pctx: Context, psa_fake: Any) -> None:
    """Every body we sent passed the fake's checks against the vendor's model; our reference is in the
    record and is the same on every call for one chain."""
    logged = do(pctx, TECH, "logtime acme 15m one")
    deliver(pctx)
    do(pctx, TECH, f"edit {logged.entry_id} 20m")
    deliver(pctx)
    reference = json.loads(row_of(pctx, logged.entry_id).payload)["reference"]
    assert only_record(psa_fake).reference == reference
    # none refused (but a sign-in token a PSA dropped since an earlier test: fetched again, then accepted)
    assert [c for c in psa_fake.requests if c.status >= 300 and c.status != 401] == []


def test_a_member_is_named_by_slack_id_mention_or_name(pctx: Context, psa_fake: Any) -> None:
    admin = Actor.local_admin()
    remember_person(pctx, "USAM", "T0", Standing.STAFF, "Sam Smith")
    assert psa_admin.member(pctx, admin, psa_of(pctx), "@sam", "18").data["user"] == "USAM"
    assert psa_admin.member(pctx, admin, None, "<@UZED|zed>", "17").data["user"] == "UZED"
    with pytest.raises(NotFound, match="No one is named @nobody"):
        psa_admin.member(pctx, admin, None, "@nobody", "17")
    with pytest.raises(NotFound, match="There is no member 99"):
        psa_admin.member(pctx, admin, psa_of(pctx), "USAM", "99")
    do(pctx, Actor("USAM", "Sam Smith"), "logtime acme 15m call")
    deliver(pctx)
    assert only_record(psa_fake).member == 18
    with pctx.db.unit_of_work(read_only=True) as uow:  # who mapped whom, and when, is in the audit log
        targets = [a.target for a in uow.session.query(AuditLog).filter_by(action="psa_member").order_by(AuditLog.id)]
    assert targets == ["user:UTECH", "user:USAM", "user:UZED"]


def test_two_dispatchers_at_once_write_one_record(pctx: Context, psa_fake: Any) -> None:
    """Two bot processes' dispatchers see the same queued entry: one claims it, the other passes."""
    psa_fake.faults.slow_create = 0.8  # the first is still waiting for the PSA's answer
    do(pctx, TECH, "logtime acme 15m call")
    first = Dispatcher(pctx, transports_for(pctx), worker="host-a:1")
    second = Dispatcher(pctx, transports_for(pctx), worker="host-b:2")
    results: list[int] = []
    running = threading.Thread(target=lambda: results.append(first.run_once()))
    running.start()
    eventually(lambda: psa_fake.count("create"), timeout=5, interval=0.01, message="the first never asked the PSA")
    assert second.run_once() == 0  # claimed by the first
    running.join(10)
    assert results == [1] and psa_fake.count("create") == 1 and len(psa_fake.records()) == 1


def test_entries_from_before_the_psa_are_sent_on_request_once(
    database: Database, psa_fake: Any, clock: FixedClock
) -> None:
    """The PSA is connected mid-month: reconcile shows the earlier entries missing; `psa sync` queues
    them (not those queued already, not voided ones) and reconcile is then in step."""
    before = Context(database, Settings(admins=frozenset({"UADMIN"})), clock)
    admin = Actor.local_admin()
    do(before, admin, "client add acme Acme Corp")
    do(before, admin, "topup acme 10")
    old = [do(before, TECH, f"logtime acme {m}m earlier work") for m in (15, 30)]
    do(before, TECH, f"void {old[1].entry_id} wrong client")
    ctx = Context(database, psa_settings(psa_fake), clock)
    do(ctx, admin, "client set acme psa-company 250 psa-agreement 30 psa-ticket 5000")
    psa_admin.member(ctx, admin, None, "UTECH", "17")
    new = do(ctx, TECH, "logtime acme 45m after the switch")
    deliver(ctx)
    psa = psa_of(ctx)
    month = parse_period("this month", ctx.today())
    missing = psa_admin.reconcile(ctx, admin, psa, "acme", month).data["differences"]
    assert [(d["kind"], d["entry_id"]) for d in missing] == [("missing", old[0].entry_id)]
    sent = psa_admin.backfill(ctx, admin, "acme", month)
    assert sent.data == {"client": "acme", "queued": 1, "already": 1}
    assert deliver(ctx) == 1
    assert psa_admin.reconcile(ctx, admin, psa, "acme", month).data["in_step"]
    assert psa_admin.backfill(ctx, admin, "acme", month).data["queued"] == 0  # a second run sends nothing
    assert psa_fake.count("create") == 2 and new.entry_id != old[0].entry_id


def test_voiding_time_the_psa_already_billed_is_flagged_not_lost(pctx: Context, psa_fake: Any) -> None:
    """The entry was invoiced in the PSA, then voided here: the balance comes back here, and the
    record that the PSA will not delete is shown as failed, in its words, and in the digest."""
    logged = do(pctx, TECH, "logtime acme 1h server patching")
    deliver(pctx)
    record = only_record(psa_fake)
    psa_fake.bill(record.id)
    do(pctx, TECH, f"void {logged.entry_id} wrong client")
    assert deliver(pctx) == 0
    assert balance_of(pctx, "acme").remaining_minutes == 600
    state = entries_psa(pctx)[logged.entry_id] or ""
    assert state.startswith(f"failed: {psa_fake.vendor} ") and "cannot be changed" in state, state
    assert only_record(psa_fake).id == record.id  # still there, still billed
    with pctx.db.unit_of_work(read_only=True) as uow:
        failed = digest_facts(pctx, uow.session, pctx.today()).to_json()["psa"]
    assert failed["failed_count"] == 1 and failed["failed"][0]["entry_id"] == logged.entry_id


def test_no_secret_reaches_a_log_a_state_or_the_settings_repr(
    pctx: Context, psa_fake: Any, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logged = do(pctx, TECH, "logtime acme 15m call")
    psa_fake.faults.down = True
    assert deliver(pctx) == 0
    psa_fake.faults.down = False
    clock.advance(minutes=5)
    assert deliver(pctx) == 1
    do(pctx, TECH, "logtime acme 15m globex printer #4321")  # refused, in the PSA's words
    deliver(pctx)
    secret_words = ("secret", "key", "client_id", "integration")
    secrets = [str(v) for k, v in psa_fake.settings_values().items() if any(w in k for w in secret_words)]
    secrets += list(getattr(psa_fake, "tokens", {}))  # HaloPSA's bearer tokens
    assert secrets
    seen = (
        caplog.text
        + repr(pctx.settings)
        + json.dumps(entries_psa(pctx))
        + str(row_of(pctx, logged.entry_id).last_error)
    )
    assert [s for s in secrets if s in seen] == []


def test_no_technicians_e_mail_reaches_the_log_at_info_over_a_first_sync(
    pctx: Context, psa_fake: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A first sync looks each technician up by their Slack e-mail (ConnectWise: in the URL's query,
    which httpx logs at INFO); the log says an id or a hash, never the address."""
    caplog.set_level(logging.INFO)
    remember_person(pctx, "UMAX", "T0", Standing.STAFF, "Max Manager", "max@msp.example")
    remember_person(pctx, "UNEW", "T0", Standing.STAFF, "Nina New", "nina.new@msp.example")
    do(pctx, Actor("UMAX", "Max Manager"), "logtime acme 15m call")
    missing = do(pctx, Actor("UNEW", "Nina New"), "logtime acme 15m call")
    assert deliver(pctx) == 1
    assert only_record(psa_fake).member == 18  # found by the e-mail
    assert "n…@msp.example" in (entries_psa(pctx)[missing.entry_id] or "")  # whose it is, masked
    assert caplog.records  # the requests were logged
    assert [r.getMessage() for r in caplog.records if "max@" in r.getMessage() or "nina.new@" in r.getMessage()] == []


def test_a_newer_change_while_a_sync_is_in_flight_is_not_marked_sent(cwctx: Context) -> None:
    pctx = cwctx
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


# -- ConnectWise PSA only -------------------------------------------------------------------------


@pytest.fixture
def cwctx(database: Database, connectwise: FakeConnectWise, clock: FixedClock) -> Context:
    return linked(Context(database, psa_settings(connectwise), clock))


def test_import_blocks_offers_the_agreements_prepaid_hours_and_adds_them_once(
    cwctx: Context, connectwise: FakeConnectWise
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
    psa = psa_of(cwctx)
    admin = Actor.local_admin()
    before = balance_of(cwctx, "acme").remaining_minutes
    offered = psa_admin.import_blocks(cwctx, admin, psa, "acme", confirmed=False)
    assert [(b["source"], b["minutes"], b["status"]) for b in offered.data["blocks"]] == [
        ("agreement:30:2026-11-01", 1200, "offered"),
        ("addition:7", 600, "offered"),
    ]
    assert balance_of(cwctx, "acme").remaining_minutes == before  # offering writes nothing
    imported = psa_admin.import_blocks(cwctx, admin, psa, "acme", confirmed=True)
    assert [b["status"] for b in imported.data["blocks"]] == ["imported", "imported"]
    assert balance_of(cwctx, "acme").remaining_minutes == before + 1800
    again = psa_admin.import_blocks(cwctx, admin, psa, "acme", confirmed=True)
    assert [b["status"] for b in again.data["blocks"]] == ["imported before", "imported before"]
    assert balance_of(cwctx, "acme").remaining_minutes == before + 1800
    blocks = do(cwctx, admin, "blocks acme").blocks
    assert {(b.minutes, str(b.price)) for b in blocks} >= {(1200, "2000.00"), (600, "950.00")}


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


def test_a_member_whose_primary_e_mail_is_another_is_found_by_the_office_e_mail(
    cwctx: Context, connectwise: FakeConnectWise
) -> None:
    """ConnectWise's primaryEmail is the one the member's defaultEmail names (here their mobile's);
    integrations commonly match officeEmail: the Slack e-mail is looked for in both."""
    connectwise.add_member(
        19, "olga", "olga@msp.example", "Olga", mobile_email="olga.phone@example.net", default="Mobile"
    )
    remember_person(cwctx, "UOLGA", "T0", Standing.STAFF, "Olga Office", "olga@msp.example")
    do(cwctx, Actor("UOLGA", "Olga Office"), "logtime acme 15m call")
    assert deliver(cwctx) == 1
    assert only_record(connectwise).member == 19


def test_a_connectwise_that_drops_the_mobile_guid_still_finds_a_timed_out_create(
    database: Database, connectwise: FakeConnectWise, clock: FixedClock
) -> None:
    """Our reference rides in mobileGuid and, in case a ConnectWise does not keep it, in internalNotes:
    the retry after a timeout finds the record by the second and makes no second one."""
    connectwise.keeps_mobile_guid = False
    ctx = linked(Context(database, psa_settings(connectwise, psa_timeout_seconds=1.0), clock))
    connectwise.faults.slow_create = 2.5
    logged = do(ctx, TECH, "logtime acme 45m server patching")
    assert deliver(ctx) == 0 and len(connectwise.records()) == 1
    connectwise.faults.slow_create = 0
    clock.advance(minutes=2)
    assert deliver(ctx) == 1
    record = only_record(connectwise)
    assert connectwise.count("create") == 1 and entries_psa(ctx)[logged.entry_id] == f"synced (#{record.id})"


def test_a_new_entry_costs_one_request_and_a_void_before_its_first_sync_none(pctx: Context, psa_fake: Any) -> None:
    """Nothing was ever sent for a new chain, so nothing is looked for before its create: one request
    to the PSA's time records per new entry (a look-up only once a create may have been stored)."""
    do(pctx, TECH, "logtime acme 30m printer #1234")
    psa_fake.requests.clear()
    assert deliver(pctx) == 1
    sent = [r.method for r in psa_fake.time_calls() if r.status != 401]  # (Halo: a dropped token, sent again)
    assert sent == ["POST"] and psa_fake.count("create") == 1
    never_sent = do(pctx, TECH, "logtime acme 15m call #1234")
    do(pctx, TECH, f"void {never_sent.entry_id} wrong client")
    psa_fake.requests.clear()
    assert deliver(pctx) == 1
    assert psa_fake.time_calls() == [] and entries_psa(pctx)[never_sent.entry_id] == "removed"


def test_a_technicians_untimed_entries_of_a_day_follow_one_another_in_the_psa(pctx: Context, psa_fake: Any) -> None:
    """Entries with no start of their own begin at 09:00 plus the technician's earlier untimed time
    that day (a voided one takes no room; another technician's day is their own), so none overlap."""
    remember_person(pctx, "UMAX", "T0", Standing.STAFF, "Max Manager", "max@msp.example")
    do(pctx, TECH, "logtime acme 30m first #1234")
    dropped = do(pctx, TECH, "logtime acme 20m dropped #1234")
    do(pctx, TECH, f"void {dropped.entry_id} wrong client")
    do(pctx, TECH, "logtime acme 15m second #1234")
    do(pctx, Actor("UMAX", "Max Manager"), "logtime acme 10m other technician #1234")
    assert deliver(pctx) == 4
    placed = {r.notes.split()[0]: (r.start, r.end) for r in psa_fake.records()}
    assert placed == {
        "first": ("2026-11-25T09:00:00Z", "2026-11-25T09:30:00Z"),
        "second": ("2026-11-25T09:30:00Z", "2026-11-25T09:45:00Z"),
        "other": ("2026-11-25T09:00:00Z", "2026-11-25T09:10:00Z"),
    }


@pytest.mark.parametrize(
    ("billed", "price"), [("Monthly", "950.00"), ("Yearly", None)], ids=["billed-monthly", "billed-yearly"]
)
def test_import_blocks_offers_a_monthly_agreements_hours_of_this_month_once_a_month(
    cwctx: Context, connectwise: FakeConnectWise, clock: FixedClock, billed: str, price: str | None
) -> None:
    """ConnectWise applies an agreement's hours limit per application cycle and bills its amount per
    billing cycle: a monthly 10 h agreement is 10 h each month, so the block offered is this month's
    (its price the bill amount when billed monthly too; else none is said, and the reason is shown);
    next month offers next month's."""
    connectwise.agreements[30].update(
        applicationLimit=10,
        applicationCycle="CalendarMonth",
        billingCycle={"id": 1, "name": billed},
        startDate="2026-01-01T00:00:00Z",
        endDate="2026-12-31T00:00:00Z",
        billAmount=950,
    )
    psa = psa_of(cwctx)
    admin = Actor.local_admin()
    before = balance_of(cwctx, "acme").remaining_minutes
    [offered] = psa_admin.import_blocks(cwctx, admin, psa, "acme", confirmed=False).data["blocks"]
    assert (offered["source"], offered["minutes"], offered["starts_on"], offered["expires_on"], offered["price"]) == (
        "agreement:30:2026-11-01",
        600,
        "2026-11-01",
        "2026-11-30",
        price,
    )
    assert ("no price" in offered["description"]) == (price is None)
    [imported] = psa_admin.import_blocks(cwctx, admin, psa, "acme", confirmed=True).data["blocks"]
    assert imported["status"] == "imported" and balance_of(cwctx, "acme").remaining_minutes == before + 600
    clock.advance(days=7)  # 2 December: December's hours
    [december] = psa_admin.import_blocks(cwctx, admin, psa, "acme", confirmed=False).data["blocks"]
    assert (december["source"], december["expires_on"], december["status"]) == (
        "agreement:30:2026-12-01",
        "2026-12-31",
        "offered",
    )


def test_a_connectwise_edit_keeps_what_staff_wrote_in_the_internal_notes(
    database: Database, connectwise: FakeConnectWise, clock: FixedClock
) -> None:
    """Our reference goes into internalNotes once, with the create: an edit changes the time, not the
    notes ConnectWise users added since."""
    ctx = linked(Context(database, psa_settings(connectwise), clock))
    logged = do(ctx, TECH, "logtime acme 45m server patching")
    assert deliver(ctx) == 1
    (row,) = connectwise.time_entries.values()
    assert row["internalNotes"].startswith("blocktime:")
    row["internalNotes"] += "\ncustomer asked for a callback"
    do(ctx, TECH, f"edit {logged.entry_id} 1h")
    assert deliver(ctx) == 1
    (row,) = connectwise.time_entries.values()
    assert row["actualHours"] == 1 and row["internalNotes"].endswith("customer asked for a callback")
