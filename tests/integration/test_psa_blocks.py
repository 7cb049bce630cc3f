"""Every block sold here reaches the PSA once, through the outbox (issue 26, part 2): against the local
fake of each vendor's API (a ConnectWise agreement addition, an Autotask contract block, a HaloPSA
pre-pay record), on both databases. The PSA down, a create stored but answered too late, a refusal in
the vendor's words, a void, and ``psa import-blocks`` never adding a block twice."""

from __future__ import annotations

from typing import Any

import pytest

from bot.clock import FixedClock
from bot.services import Actor, Context, psa_admin
from bot.services.psa_sync import retry_failed
from bot.services.scheduled import digest_facts
from storage.db import Database
from storage.models import OutboxMessage
from tests.conftest import psa_settings
from tests.fakes.connectwise import FakeConnectWise
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
    bctx: Context, psa_fake: Any, clock: FixedClock
) -> None:
    do(bctx, ADMIN, "topup acme 5")
    psa_fake.faults.slow_create = 2.5  # stored, answered after blocktime gave up (PSA_TIMEOUT 2 s)
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
