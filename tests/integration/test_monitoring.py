"""``storage.monitoring``'s figures on SQLite and PostgreSQL, and the outbox's queue time they read:
a row queued again after it was sent or failed waits from then, a row still waiting keeps its place."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.clock import FixedClock
from bot.services import Context
from storage import monitoring, outbox, psa_blocks
from storage.models import OutboxMessage


def psa_row(ctx: Context, key: str) -> dict[str, object]:
    return outbox.new_row(
        kind="psa_time", destination="psa", now=ctx.now(), payload="{}", dedupe_key=key, client_id=None
    )


def oldest(ctx: Context, destination: str) -> monitoring.OutboxState:
    with ctx.db.unit_of_work(read_only=True) as uow:
        return monitoring.read_figures(uow.session).outbox[destination]


def test_a_sent_row_queued_again_waits_from_then(ctx: Context, clock: FixedClock) -> None:
    with ctx.db.unit_of_work() as uow:
        outbox.requeue(uow.session, psa_row(ctx, "chain-1"), entry_id=1)
        uow.commit()
    with ctx.db.unit_of_work() as uow:
        uow.session.execute(update(OutboxMessage).values(status="sent"))
        uow.commit()
    clock.advance(days=30)
    with ctx.db.unit_of_work() as uow:
        outbox.requeue(uow.session, psa_row(ctx, "chain-1-again"), entry_id=1)
        uow.commit()
    state = oldest(ctx, "psa")
    assert state.waiting == 1 and state.oldest_waiting_since == clock.now()


def test_a_waiting_row_queued_again_keeps_its_place(ctx: Context, clock: FixedClock) -> None:
    started = clock.now()
    with ctx.db.unit_of_work() as uow:
        outbox.requeue(uow.session, psa_row(ctx, "chain-2"), entry_id=2)
        uow.commit()
    clock.advance(minutes=40)
    with ctx.db.unit_of_work() as uow:
        outbox.requeue(uow.session, psa_row(ctx, "chain-2-again"), entry_id=2)
        uow.commit()
    assert oldest(ctx, "psa").oldest_waiting_since == started


def test_failed_rows_queued_again_by_hand_wait_from_then(ctx: Context, clock: FixedClock) -> None:
    with ctx.db.unit_of_work() as uow:
        outbox.requeue(uow.session, psa_row(ctx, "chain-3"), entry_id=3)
        uow.session.add(OutboxMessage(**{**psa_row(ctx, "block-4"), "kind": psa_blocks.KIND}, block_id=4))
        uow.commit()
    with ctx.db.unit_of_work() as uow:
        uow.session.execute(update(OutboxMessage).values(status="failed"))
        uow.commit()
    assert oldest(ctx, "psa").failed == 2 and oldest(ctx, "psa").waiting == 0
    clock.advance(hours=5)
    with ctx.db.unit_of_work() as uow:
        assert outbox.requeue_failed(uow.session, "psa", clock.now(), [3]) == 1
        uow.commit()
    assert oldest(ctx, "psa") == monitoring.OutboxState(waiting=1, oldest_waiting_since=clock.now(), failed=1)
    clock.advance(minutes=1)
    with ctx.db.unit_of_work() as uow:
        assert psa_blocks.requeue_failed(uow.session, clock.now()) == 1
        uow.commit()
    assert oldest(ctx, "psa") == monitoring.OutboxState(
        waiting=2, oldest_waiting_since=clock.now() - timedelta(minutes=1), failed=0
    )
