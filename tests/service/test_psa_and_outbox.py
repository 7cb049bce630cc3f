"""The PSA's outbox rows (queued, queued again, retried, backfilled), its mappings, and the outbox
dispatcher's claims and retries, without a database."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.domain.dates import month_period
from bot.domain.errors import NotFound, PermissionDenied, Refused
from bot.jobs.dispatcher import Dispatcher
from bot.jobs.transports import Delivery, DeliveryFailed
from bot.services import Actor, Context, psa_admin
from bot.services.psa_sync import queue_chain, retry_failed, sync_states
from storage.outbox import new_row
from tests.fakes.memory import MemoryDatabase
from tests.service.conftest import add_client, add_entry


@pytest.fixture
def pctx(ctx: Context) -> Context:
    """A context with a PSA connected."""
    return Context(ctx.db, replace(ctx.settings, psa="connectwise"), ctx.clock)


def _queue(ctx: Context, entry_id: int) -> None:
    with ctx.db.unit_of_work() as uow:
        entry = uow.entries.get(entry_id)
        assert entry is not None
        queue_chain(uow, ctx, entry)  # type: ignore[arg-type]
        uow.commit()


def test_an_entry_queues_one_pending_row_for_its_chain_and_tells_the_dispatcher(
    pctx: Context, memory: MemoryDatabase
) -> None:
    told: list[str] = []
    memory.outbox_subscribers.append(lambda: told.append("kick"))
    entry = add_entry(pctx, add_client(pctx).id)
    _queue(pctx, entry.id)
    [row] = memory.tables.outbox.values()
    assert (row.destination, row.entry_id, row.status, row.version) == ("psa", entry.id, "pending", 0)
    assert json.loads(row.payload)["create_sent"] is False and told == ["kick"]


def test_an_edit_queues_the_same_row_again_with_a_newer_version_and_its_reference_kept(
    pctx: Context, memory: MemoryDatabase
) -> None:
    acme = add_client(pctx)
    first = add_entry(pctx, acme.id)
    _queue(pctx, first.id)
    reference = json.loads(next(iter(memory.tables.outbox.values())).payload)["reference"]
    edit = add_entry(pctx, acme.id, root_id=first.id, replaces_id=first.id)
    _queue(pctx, edit.id)
    [row] = memory.tables.outbox.values()
    assert (row.version, row.status, json.loads(row.payload)["reference"]) == (1, "pending", reference)


def test_without_a_psa_nothing_is_queued(ctx: Context, memory: MemoryDatabase) -> None:
    _queue(ctx, add_entry(ctx, add_client(ctx).id).id)
    assert memory.tables.outbox == {}


def test_each_entry_says_where_it_stands_in_the_psa(pctx: Context, memory: MemoryDatabase) -> None:
    acme = add_client(pctx)
    queued, never = add_entry(pctx, acme.id), add_entry(pctx, acme.id)
    _queue(pctx, queued.id)
    with pctx.db.unit_of_work(read_only=True) as uow:
        states = sync_states(uow, pctx, [uow.entries.get(queued.id), uow.entries.get(never.id)])  # type: ignore[arg-type,list-item]
    assert states[queued.id] != states[never.id]


def _fail_all(memory: MemoryDatabase) -> None:
    for row in memory.tables.outbox.values():
        row.status, row.last_error = "failed", "no member"


def test_a_manager_queues_failed_syncs_of_one_client_again(pctx: Context, admin: Actor, memory: MemoryDatabase) -> None:
    acme, globex = add_client(pctx), add_client(pctx, "globex", "Globex")
    _queue(pctx, add_entry(pctx, acme.id).id)
    _queue(pctx, add_entry(pctx, globex.id).id)
    _fail_all(memory)
    assert retry_failed(pctx, admin, handle="acme").data == {"requeued": 1}
    statuses = {r.client_id: (r.status, r.version, r.last_error) for r in memory.tables.outbox.values()}
    assert statuses == {acme.id: ("pending", 1, None), globex.id: ("failed", 0, "no member")}
    assert retry_failed(pctx, admin).data == {"requeued": 1}
    assert retry_failed(pctx, admin).message == "Nothing failed."


def test_a_technician_may_not_retry_and_learns_nothing_of_the_psa(ctx: Context, tech: Actor) -> None:
    with pytest.raises(PermissionDenied):
        retry_failed(ctx, tech)
    assert retry_failed(ctx, Actor.local_admin()).data == {"requeued": 0}  # no PSA: said so, nothing queued


def test_a_backfill_queues_the_periods_entries_never_queued_and_leaves_the_others(
    pctx: Context, admin: Actor, memory: MemoryDatabase
) -> None:
    acme = add_client(pctx)
    queued = add_entry(pctx, acme.id)
    _queue(pctx, queued.id)
    fresh = add_entry(pctx, acme.id)
    add_entry(pctx, acme.id, voided_at=pctx.now())
    today = pctx.today()
    message = psa_admin.backfill(pctx, admin, "acme", month_period(today.year, today.month))
    assert message.data == {"client": "acme", "queued": 1, "already": 1}
    assert sorted(r.entry_id for r in memory.tables.outbox.values()) == [queued.id, fresh.id]


def test_a_backfill_needs_a_psa_and_a_manager(ctx: Context, pctx: Context, tech: Actor) -> None:
    add_client(ctx)
    today = ctx.today()
    with pytest.raises(Refused, match="No PSA is connected"):
        psa_admin.backfill(ctx, Actor.local_admin(), "acme", month_period(today.year, today.month))
    with pytest.raises(PermissionDenied):
        psa_admin.backfill(pctx, tech, "acme", month_period(today.year, today.month))


def test_a_member_is_mapped_by_an_admin_with_the_old_mapping_in_the_audit(
    ctx: Context, admin: Actor, memory: MemoryDatabase
) -> None:
    psa_admin.member(ctx, admin, None, "<@UTECH>", "17")
    psa_admin.member(ctx, admin, None, "UTECH", "18")
    assert memory.tables.psa_members["UTECH"].member_id == "18"
    assert memory.tables.audit[-1].before == {"member_id": "17", "source": "set"}
    psa_admin.member(ctx, admin, None, "UTECH", None)
    assert "UTECH" not in memory.tables.psa_members


def test_a_member_named_by_a_first_name_two_people_share_is_refused(ctx: Context, admin: Actor) -> None:
    acme = add_client(ctx)
    add_entry(ctx, acme.id, user_id="U1", user_name="Sam Smith")
    add_entry(ctx, acme.id, user_id="U2", user_name="Sam Jones")
    with pytest.raises(NotFound, match="More than one person"):
        psa_admin.member(ctx, admin, None, "@sam", "17")
    psa_admin.member(ctx, admin, None, "@sam smith", "17")


def test_a_work_type_maps_to_the_psa_once_it_exists_here(ctx: Context, admin: Actor, memory: MemoryDatabase) -> None:
    with pytest.raises(NotFound, match="no work type onsite"):
        psa_admin.work_type(ctx, admin, "onsite", "5", None)
    psa_admin.work_type(ctx, admin, "standard", "5", "3")
    assert memory.tables.psa_work_types["standard"].psa_work_role_id == "3"
    with pytest.raises(PermissionDenied):
        psa_admin.work_type(ctx, Actor("UTECH", "Tess"), "standard", "6", None)


# -- the dispatcher --------------------------------------------------------------------------------


class Receiver:
    """A destination that answers as told: "ok", "down" (may pass), "refused" (for good)."""

    def __init__(self, answer: str = "ok") -> None:
        self.answer = answer
        self.got: list[Delivery] = []

    def deliver(self, delivery: Delivery) -> str | None:
        self.got.append(delivery)
        if self.answer == "down":
            raise DeliveryFailed("503 from the destination")
        if self.answer == "refused":
            raise DeliveryFailed("400 channel_not_found", permanent=True)
        return f"ref-{delivery.outbox_id}"


def _message(ctx: Context, destination: str, key: str) -> int:
    with ctx.db.unit_of_work() as uow:
        row = uow.outbox.add(  # type: ignore[attr-defined]
            new_row(kind="digest", destination=destination, now=ctx.now(), payload="{}", dedupe_key=key, client_id=None)
        )
        uow.commit()
    return int(row.id)


def test_a_delivered_message_is_marked_sent_with_its_reference(ctx: Context, memory: MemoryDatabase) -> None:
    slack = Receiver()
    outbox_id = _message(ctx, "slack", "a")
    assert Dispatcher(ctx, {"slack": slack}, worker="w1").run_once() == 1
    row = memory.tables.outbox[outbox_id]
    assert (row.status, row.delivery_ref, row.attempts, row.claimed_until) == ("sent", f"ref-{outbox_id}", 1, None)
    assert Dispatcher(ctx, {"slack": slack}, worker="w1").run_once() == 0  # sent once


def test_a_refused_message_fails_for_good(ctx: Context, memory: MemoryDatabase) -> None:
    outbox_id = _message(ctx, "slack", "a")
    Dispatcher(ctx, {"slack": Receiver("refused")}, worker="w1").run_once()
    row = memory.tables.outbox[outbox_id]
    assert (row.status, row.last_error) == ("failed", "400 channel_not_found")


def test_a_destination_that_is_down_is_tried_later_and_holds_up_no_other(ctx: Context, memory: MemoryDatabase) -> None:
    first, second = _message(ctx, "webhook", "a"), _message(ctx, "webhook", "b")
    slack_id = _message(ctx, "slack", "c")
    webhook, slack = Receiver("down"), Receiver()
    dispatcher = Dispatcher(ctx, {"webhook": webhook, "slack": slack}, worker="w1", rng=random.Random(1))
    assert dispatcher.run_once() == 1
    assert [d.outbox_id for d in webhook.got] == [first]  # no second try at a destination that is down
    row = memory.tables.outbox[first]
    assert (row.status, row.attempts, row.claimed_until, row.last_error) == (
        "pending",
        1,
        None,
        "503 from the destination",
    )
    assert ctx.now() + timedelta(seconds=2) <= row.next_attempt_at <= ctx.now() + timedelta(seconds=5)
    assert memory.tables.outbox[second].attempts == 0 and memory.tables.outbox[slack_id].status == "sent"


def test_a_message_queued_again_while_it_was_out_goes_again(ctx: Context, memory: MemoryDatabase) -> None:
    outbox_id = _message(ctx, "psa", "a")

    class Requeuing(Receiver):
        def deliver(self, delivery: Delivery) -> str | None:
            memory.tables.outbox[outbox_id].version += 1  # an edit queued the chain meanwhile
            return super().deliver(delivery)

    receiver = Requeuing()
    assert Dispatcher(ctx, {"psa": receiver}, worker="w1").run_once() == 0
    row = memory.tables.outbox[outbox_id]
    assert (row.status, row.claimed_until) == ("pending", None)
    assert Dispatcher(ctx, {"psa": Receiver()}, worker="w1").run_once() == 1


def test_a_message_claimed_by_another_worker_is_left_to_it(ctx: Context, memory: MemoryDatabase) -> None:
    outbox_id = _message(ctx, "slack", "a")
    with ctx.db.unit_of_work() as uow:
        assert uow.outbox.claim(outbox_id, "w0", ctx.now(), ctx.now() + timedelta(minutes=2)) is not None
        uow.commit()
    slack = Receiver()
    assert Dispatcher(ctx, {"slack": slack}, worker="w1").run_once() == 0 and slack.got == []
