"""The service ring's fake ledger (``tests.fakes.memory``) against the real one: random stories (top-ups,
entries, voids, edits, voided top-ups, days passing, policy changes) run through the same use cases on
the in-memory unit of work and on a real database give the same answer at every step. The fake
copies the writer's rules (``storage.postings.store``) and the read of current blocks; this keeps the
copy honest, so what the service ring proves holds for the databases too."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from bot.clock import FixedClock
from bot.config import Settings
from bot.services import Actor, Context
from tests.conftest import NOW, FreshDatabases
from tests.fakes.memory import MemoryDatabase
from tests.helpers import do
from tests.stories import apply, operations


def _answers(db: Any, story: list[tuple]) -> list[Any]:  # type: ignore[type-arg]
    clock = FixedClock(NOW)
    ctx = Context(db, Settings(), clock)
    admin = Actor.local_admin()
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "client set acme overdraft 2h rounding 15m thresholds 50%,2h")
    entries: list[int] = []
    blocks: list[int] = []
    answers = [apply(ctx, clock, admin, op, entries, blocks) for op in story]
    answers.append(do(ctx, admin, "balance acme"))
    return [a.as_dict() if hasattr(a, "as_dict") else a for a in answers]


def test_random_stories_answer_the_same_on_the_fake_ledger_and_a_real_database(
    fresh_databases: FreshDatabases,
) -> None:
    examples = 40 if fresh_databases.backend == "sqlite" else 15

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(operations)
    def same(story: list[tuple]) -> None:  # type: ignore[type-arg]
        with fresh_databases.open() as db:
            real = _answers(db, story)
        assert _answers(MemoryDatabase(), story) == real

    same()


def test_the_comparison_can_fail(fresh_databases: FreshDatabases) -> None:
    """Guard for the test above: a story with one more entry on one side is told apart."""
    story = [("topup", 2, None), ("log", 30, False, 0)]
    with fresh_databases.open() as db:
        real = _answers(db, story)
    assert _answers(MemoryDatabase(), [*story, ("log", 15, False, 0)]) != real
