"""Every block sold here reaches the PSA once, through the outbox (issue 26, part 2): against the local
fake of each vendor's API (a ConnectWise agreement addition, an Autotask contract block, a HaloPSA
pre-pay record), on both databases. The PSA down, a create stored but answered too late, a refusal in
the vendor's words, a void, and ``psa import-blocks`` never adding a block twice."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from bot.clock import FixedClock
from bot.services import Actor, Context, psa_admin
from bot.services.psa_sync import retry_failed
from bot.services.scheduled import digest_facts
from storage.db import Database
from storage.models import AuditLog, Block, OutboxMessage
from tests.conftest import psa_settings
from tests.fakes.autotask import FakeAutotask
from tests.fakes.connectwise import FakeConnectWise
from tests.fakes.halopsa import FakeHalo
from tests.fakes.psa_base import started
from tests.helpers import balance_of, do
from tests.psa_helpers import deliver, linked, psa_of

ADMIN = Actor.local_admin()


@pytest.fixture
def bctx(database: Database, psa_fake: Any, clock: FixedClock) -> Context:
    return linked(Context(database, psa_settings(psa_fake, psa_product_id="12"), clock))


def psa_state(ctx: Context, number: int, handle: str = "acme") -> dict[str, Any]:
    [block] = [b for b in do(ctx, ADMIN, f"blocks {handle}").blocks if b.number == number]
    assert block.psa is not None
    return dict(block.psa)


def block_rows(ctx: Context) -> list[OutboxMessage]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = uow.session.query(OutboxMessage).filter_by(destination="psa", kind="psa_block").all()
        for row in rows:
            uow.session.expunge(row)
        return rows


def test_a_top_up_becomes_one_record_in_the_psa_with_its_hours_and_our_reference(bctx: Context, psa_fake: Any) -> None:
    do(bctx, ADMIN, "topup acme 5 price 500 ref INV-7")
    assert psa_state(bctx, 2) == {"state": "queued", "id": None, "error": None}
    assert deliver(bctx) == 1
    [record] = psa_fake.blocks_written()
    assert record["hours"] == 5 and record["reference"].startswith("blocktime:") and not record["cancelled"]
    state = psa_state(bctx, 2)
    assert state["state"] == "synced" and state["id"] == record["psa_id"]
    assert deliver(bctx) == 0  # nothing more to send
    assert psa_state(bctx, 1) == {"state": "none", "id": None, "error": None}  # sold before the link


def test_a_psa_that_is_down_keeps_the_block_queued_and_gets_it_once_back(
    bctx: Context, psa_fake: Any, clock: FixedClock
) -> None:
    do(bctx, ADMIN, "topup acme 5")
    psa_fake.faults.down = True
    assert deliver(bctx) == 0
    assert psa_state(bctx, 2)["state"] == "queued"
    psa_fake.faults.down = False
    clock.advance(minutes=10)
    assert deliver(bctx) == 1
    assert len(psa_fake.blocks_written()) == 1


def test_a_timeout_after_the_psa_stored_the_block_does_not_make_a_second(
    database: Database, psa_fake: Any, clock: FixedClock
) -> None:
    bctx = linked(Context(database, psa_settings(psa_fake, psa_product_id="12", psa_timeout_seconds=0.5), clock))
    do(bctx, ADMIN, "topup acme 5")
    psa_fake.faults.slow_create = 1.0  # stored, answered after blocktime gave up (PSA_TIMEOUT 0.5 s)
    assert deliver(bctx) == 0
    assert len(psa_fake.blocks_written()) == 1 and psa_state(bctx, 2)["state"] == "queued"
    psa_fake.faults.slow_create = 0
    clock.advance(minutes=10)
    assert deliver(bctx) == 1
    [record] = psa_fake.blocks_written()  # found by our reference, not made again
    assert psa_state(bctx, 2) == {"state": "synced", "id": record["psa_id"], "error": None}


def test_a_refusal_is_shown_in_the_vendors_words_and_not_tried_again(
    bctx: Context, psa_fake: Any, clock: FixedClock
) -> None:
    words = psa_fake.refuse_blocks()
    do(bctx, ADMIN, "topup acme 5")
    assert deliver(bctx) == 0
    state = psa_state(bctx, 2)
    assert state["state"] == "failed" and state["error"].startswith(f"{psa_fake.vendor} ") and words in state["error"]
    clock.advance(minutes=10)
    assert deliver(bctx) == 0 and psa_fake.blocks_written() == []


def test_a_void_cancels_the_psas_record(bctx: Context, psa_fake: Any) -> None:
    do(bctx, ADMIN, "topup acme 5")
    deliver(bctx)
    do(bctx, ADMIN, "void topup acme 2 sold twice")
    assert psa_state(bctx, 2)["state"] == "queued"
    assert deliver(bctx) == 1
    [record] = psa_fake.blocks_written()
    assert record["cancelled"]
    assert len(block_rows(bctx)) == 1  # one row per block, queued again for the void


def test_a_block_voided_before_it_was_sent_never_reaches_the_psa(bctx: Context, psa_fake: Any) -> None:
    do(bctx, ADMIN, "topup acme 5")
    do(bctx, ADMIN, "void topup acme 2 typo")
    assert deliver(bctx) == 1
    assert psa_fake.blocks_written() == []


def test_a_client_not_linked_or_no_psa_queues_nothing(database: Database, psa_fake: Any, clock: FixedClock) -> None:
    ctx = linked(Context(database, psa_settings(psa_fake, psa_product_id="12"), clock))
    do(ctx, ADMIN, "client add globex Globex")
    do(ctx, ADMIN, "topup globex 5")
    assert block_rows(ctx) == []
    assert psa_state(ctx, 1, "globex")["state"] == "none"


def test_the_digest_lists_failed_blocks_and_retry_sends_them_again(
    bctx: Context, psa_fake: Any, clock: FixedClock
) -> None:
    psa_fake.refuse_blocks()
    do(bctx, ADMIN, "topup acme 5")
    deliver(bctx)
    with bctx.db.unit_of_work(read_only=True) as uow:
        psa = digest_facts(bctx, uow, bctx.today()).to_json()["psa"]
    assert psa["failed_block_count"] == 1
    [failed] = psa["failed_blocks"]
    assert failed["client"] == "acme" and failed["block_number"] == 2 and failed["minutes"] == 300
    psa_fake.seed()  # the mapping fixed in the PSA
    retried = retry_failed(bctx, ADMIN)
    assert retried.data["requeued_blocks"] == 1 and "1 failed block queued" in retried.message
    assert deliver(bctx) == 1
    assert len(psa_fake.blocks_written()) == 1 and psa_state(bctx, 2)["state"] == "synced"


# -- ConnectWise PSA only -------------------------------------------------------------------------


@pytest.fixture
def cwctx(database: Database, connectwise: FakeConnectWise, clock: FixedClock) -> Context:
    return linked(Context(database, psa_settings(connectwise), clock))


def test_connectwise_writes_an_agreement_addition_of_the_clients_product(
    cwctx: Context, connectwise: FakeConnectWise
) -> None:
    connectwise.products[77] = {"id": 77, "identifier": "ACME-HOURS", "description": "Acme hours", "uom": "Hour"}
    do(cwctx, ADMIN, "client set acme psa-product 77")
    do(cwctx, ADMIN, "topup acme 10 price 950 ref INV-1042")
    assert deliver(cwctx) == 1
    [posted] = [r.body for r in connectwise.calls("POST", "finance/agreements/30/additions")]
    assert posted["product"] == {"id": 77} and posted["quantity"] == 10 and posted["unitPrice"] == 95
    assert posted["billCustomer"] == "Billable" and posted["effectiveDate"] == "2026-11-25T00:00:00Z"
    assert "INV-1042" in posted["description"]


def test_connectwise_without_a_product_fails_saying_how_to_map_one(
    cwctx: Context, connectwise: FakeConnectWise
) -> None:
    do(cwctx, ADMIN, "topup acme 5")
    assert deliver(cwctx) == 0
    assert psa_state(cwctx, 2)["error"] == (
        "Acme Corp has no ConnectWise PSA product for its blocks: `client set acme psa-product <product id>`, "
        "or PSA_PRODUCT_ID for every client"
    )
    assert connectwise.calls("POST", "finance/agreements") == []


def test_import_blocks_never_adds_a_block_twice_nor_writes_an_imported_one_back(
    database: Database, connectwise: FakeConnectWise, clock: FixedClock
) -> None:
    ctx = linked(Context(database, psa_settings(connectwise, psa_product_id="12"), clock))
    connectwise.additions[30] = [
        {"id": 7, "quantity": 10, "uom": "Hour", "unitPrice": 95, "billCustomer": "Billable", "description": "extra"}
    ]
    psa = psa_of(ctx)
    psa_admin.import_blocks(ctx, ADMIN, psa, "acme", confirmed=True)
    assert block_rows(ctx) == [] and deliver(ctx) == 0  # imported: it is in the PSA already
    shown = [b.psa for b in do(ctx, ADMIN, "blocks acme").blocks if b.number != 1]
    assert sorted(str(p["id"]) for p in shown if p) == ["addition:7", "agreement:30:2026-11-01"]
    assert {p["state"] for p in shown if p} == {"synced"}
    before = balance_of(ctx, "acme").remaining_minutes
    do(ctx, ADMIN, "topup acme 5")  # sold here: written to the PSA, then offered back by an import
    assert deliver(ctx) == 1
    offered = psa_admin.import_blocks(ctx, ADMIN, psa, "acme", confirmed=True).data["blocks"]
    statuses = {b["source"]: b["status"] for b in offered}
    written = connectwise.blocks_written()[0]["psa_id"]
    assert statuses["addition:7"] == "imported before" and statuses[written] == "written by blocktime"
    assert balance_of(ctx, "acme").remaining_minutes == before + 300  # the block written is not imported back
    assert len(connectwise.blocks_written()) == 1


def test_autotask_writes_the_blocks_paid_flag_and_its_contract_dates(
    database: Database, psa_servers: dict[str, Any], clock: FixedClock
) -> None:
    autotask: FakeAutotask = started(psa_servers, "autotask").seed()
    ctx = linked(Context(database, psa_settings(autotask), clock))
    do(ctx, ADMIN, "topup acme 10 price 1000 ref INV-1042")
    with ctx.db.unit_of_work() as uow:  # sold before it is paid (issue 26 part 1 marks it so)
        uow.session.execute(update(Block).where(Block.number == 2).values(paid=False))
        uow.commit()
    assert deliver(ctx) == 1
    [posted] = [r.body for r in autotask.requests if r.method == "POST" and r.path == "Contracts/30/Blocks"]
    assert posted["isPaid"] is False and posted["hours"] == 10 and posted["hourlyRate"] == 100
    assert posted["endDate"] == "2027-10-31T00:00:00" and posted["invoiceNumber"] == "INV-1042"


def test_the_fakes_refuse_what_their_vendors_refuse(psa_servers: dict[str, Any]) -> None:
    """Each fake's checks of a block can fail: a missing product or field, a wrong type, a field the
    vendor's model does not have."""
    cw: FakeConnectWise = started(psa_servers, "connectwise").seed()
    auth = httpx.BasicAuth(f"{cw.company}+{cw.public_key}", cw.private_key)
    with httpx.Client(auth=auth, headers={"clientId": cw.client_id}) as http:
        url = f"{cw.url}/finance/agreements/30/additions"
        good = {"product": {"id": 12}, "quantity": 5, "billCustomer": "Billable"}
        assert http.post(url, json=good).status_code == 201
        missing = http.post(url, json={"quantity": 5, "billCustomer": "Billable"})
        assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "product"
        assert http.post(url, json={**good, "billCustomer": "Sometimes"}).status_code == 400
        assert http.post(url, json={**good, "hours": 5}).status_code == 400  # not a field of an addition
        assert http.post(url, json={**good, "quantity": 0}).status_code == 400
    at: FakeAutotask = started(psa_servers, "autotask").seed()
    headers = {"ApiIntegrationCode": at.integration_code, "UserName": at.username, "Secret": at.secret}
    with httpx.Client(headers=headers) as http:
        url = f"{at.url}/Contracts/30/Blocks"
        good = {
            "contractID": 30,
            "datePurchased": "2026-11-25T00:00:00",
            "startDate": "2026-11-25T00:00:00",
            "endDate": "2027-10-31T00:00:00",
            "hours": 5,
            "hourlyRate": 100,
        }
        assert http.post(url, json=good).status_code == 200
        missing = http.post(url, json={k: v for k, v in good.items() if k != "hours"})
        assert missing.status_code == 500 and missing.json()["errors"] == ["hours is required"]
        assert http.post(url, json={**good, "notes": "x"}).status_code == 500
    halo: FakeHalo = started(psa_servers, "halopsa").seed()
    form = {"grant_type": "client_credentials", "client_id": halo.client_id, "scope": "all"}
    token = httpx.post(
        f"{halo.url}/auth/token?tenant={halo.tenant}", data={**form, "client_secret": halo.client_secret}
    ).json()["access_token"]
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as http:
        url = f"{halo.url}/api/ClientPrepay"
        good = {"client_id": 250, "date": "2026-11-25T00:00:00", "hours": 5}
        assert http.post(url, json=[good]).status_code == 201
        assert http.post(url, json=[{**good, "hours": "five"}]).json() == "hours must be a number greater than 0"
        assert http.post(url, json=[{**good, "client_id": 999}]).status_code == 400
        assert http.post(url, json=[{**good, "minutes": 300}]).status_code == 400


def test_a_clients_psa_product_is_set_audited_and_shown(cwctx: Context) -> None:
    do(cwctx, ADMIN, "client set acme psa-product 12")
    shown = do(cwctx, ADMIN, "client show acme")
    assert shown.psa_product_id == "12"
    with cwctx.db.unit_of_work(read_only=True) as uow:
        after = uow.session.query(AuditLog.after).order_by(AuditLog.id.desc()).limit(1).scalar()
    assert json.loads(after or "{}")["psa_product_id"] == "12"
    do(cwctx, ADMIN, "client set acme psa-product none")
    assert do(cwctx, ADMIN, "client show acme").psa_product_id is None


def test_an_automatic_refill_reaches_the_psa_like_a_top_up(bctx: Context, psa_fake: Any) -> None:
    do(bctx, ADMIN, "client set acme refill auto 10h")
    do(bctx, ADMIN, "logtime acme 9h30m server migration")  # 10h -> 30m: through 10%, a refill of 10h
    assert psa_state(bctx, 2)["state"] == "queued"
    deliver(bctx)
    [record] = psa_fake.blocks_written()
    assert record["hours"] == 10 and not record["cancelled"]
    assert psa_state(bctx, 2)["state"] == "synced"


# -- a block marked paid or unpaid after it reached the PSA ----------------------------------------


def test_a_mark_after_the_block_reached_the_psa_updates_its_record_never_makes_a_second(
    bctx: Context, psa_fake: Any
) -> None:
    """Autotask's contract block takes isPaid; ConnectWise's additions and HaloPSA's pre-pay records
    have no paid flag: the mark is ours there, and it neither fails nor writes a second record."""
    do(bctx, ADMIN, "topup acme 5 unpaid invoice INV-9")
    assert deliver(bctx) == 1
    [before] = psa_fake.blocks_written()
    do(bctx, ADMIN, "block paid acme 2")
    assert psa_state(bctx, 2)["state"] == "queued"
    assert deliver(bctx) == 1
    [after] = psa_fake.blocks_written()
    assert after["psa_id"] == before["psa_id"] and after["reference"] == before["reference"]
    assert psa_state(bctx, 2) == {"state": "synced", "id": after["psa_id"], "error": None}
    if isinstance(psa_fake, FakeAutotask):
        assert before["paid"] is False and after["paid"] is True
    do(bctx, ADMIN, "block unpaid acme 2 cheque bounced")
    assert deliver(bctx) == 1
    [again] = psa_fake.blocks_written()
    assert again["psa_id"] == before["psa_id"] and len(block_rows(bctx)) == 1  # one row, queued again
    if isinstance(psa_fake, FakeAutotask):
        assert again["paid"] is False


def test_a_mark_before_the_block_was_sent_makes_the_create_carry_the_flag(bctx: Context, psa_fake: Any) -> None:
    do(bctx, ADMIN, "topup acme 5 unpaid")
    do(bctx, ADMIN, "block paid acme 2")
    assert deliver(bctx) == 1
    [record] = psa_fake.blocks_written()
    if isinstance(psa_fake, FakeAutotask):
        assert record["paid"] is True
        assert [r.method for r in psa_fake.requests if r.path == "Contracts/30/Blocks"] == ["POST"]  # no update


def test_a_mark_leaves_a_block_sold_before_the_link_and_an_imported_one_out_of_the_psa(
    database: Database, psa_servers: dict[str, Any], clock: FixedClock
) -> None:
    autotask: FakeAutotask = started(psa_servers, "autotask").seed()
    ctx = linked(Context(database, psa_settings(autotask), clock))  # block 1 sold before the link
    psa_admin.import_blocks(ctx, ADMIN, psa_of(ctx), "acme", confirmed=True)  # Autotask's block 7: paid there
    [imported] = [b for b in do(ctx, ADMIN, "blocks acme").blocks if b.source == "psa"]
    for number in (1, imported.number):
        do(ctx, ADMIN, f"block unpaid acme {number} wrong block")
        do(ctx, ADMIN, f"block paid acme {number}")
    assert block_rows(ctx) == [] and deliver(ctx) == 0
    assert autotask.blocks_written() == [] and autotask.tables["ContractBlocks"][7]["isPaid"] is True
    assert [r for r in autotask.requests if r.method == "PATCH"] == []


@pytest.fixture
def atctx(database: Database, psa_servers: dict[str, Any], clock: FixedClock) -> Context:
    started(psa_servers, "autotask").seed()
    return linked(Context(database, psa_settings(psa_servers["autotask"]), clock))


def test_autotask_down_during_the_update_gets_it_once_back(
    atctx: Context, psa_servers: dict[str, Any], clock: FixedClock
) -> None:
    autotask: FakeAutotask = psa_servers["autotask"]
    do(atctx, ADMIN, "topup acme 5 unpaid")
    deliver(atctx)
    do(atctx, ADMIN, "block paid acme 2")
    autotask.faults.down = True
    assert deliver(atctx) == 0
    assert psa_state(atctx, 2)["state"] == "queued" and autotask.blocks_written()[0]["paid"] is False
    autotask.faults.down = False
    clock.advance(minutes=10)
    assert deliver(atctx) == 1
    [record] = autotask.blocks_written()
    assert record["paid"] is True and psa_state(atctx, 2)["state"] == "synced"
    patches = [r.body for r in autotask.requests if r.method == "PATCH" and r.path == "Contracts/30/Blocks"]
    assert patches[-1] == {"id": int(record["psa_id"].removeprefix("block:")), "isPaid": True}


def test_autotask_that_answers_the_update_but_keeps_is_paid_shows_a_failure_not_synced(
    atctx: Context, psa_servers: dict[str, Any]
) -> None:
    autotask: FakeAutotask = psa_servers["autotask"]
    autotask.paid_read_only = True
    do(atctx, ADMIN, "topup acme 5 unpaid")
    deliver(atctx)
    do(atctx, ADMIN, "block paid acme 2")
    assert deliver(atctx) == 0
    state = psa_state(atctx, 2)
    assert state["state"] == "failed" and "kept contract block" in state["error"] and "unpaid" in state["error"]
    assert len(autotask.blocks_written()) == 1


def test_the_autotask_fake_refuses_a_block_update_autotask_refuses(psa_servers: dict[str, Any]) -> None:
    at: FakeAutotask = started(psa_servers, "autotask").seed()
    headers = {"ApiIntegrationCode": at.integration_code, "UserName": at.username, "Secret": at.secret}
    with httpx.Client(headers=headers) as http:
        assert http.patch(f"{at.url}/Contracts/30/Blocks", json={"id": 7, "isPaid": False}).status_code == 200
        other = http.patch(f"{at.url}/Contracts/40/Blocks", json={"id": 7, "isPaid": True})  # not its contract
        assert other.status_code == 500 and "No matching records found" in other.json()["errors"][0]
        worded = http.patch(f"{at.url}/Contracts/30/Blocks", json={"id": 7, "isPaid": "yes"})
        assert worded.status_code == 500 and worded.json()["errors"] == ["isPaid must be true or false"]
        approved = http.patch(f"{at.url}/Contracts/30/Blocks", json={"id": 7, "hoursApproved": 3})
        assert approved.status_code == 500
        assert http.patch(f"{at.url}/Contracts/30/Blocks", json={"id": 7, "paid": True}).status_code == 500
    assert at.tables["ContractBlocks"][7]["isPaid"] is False
