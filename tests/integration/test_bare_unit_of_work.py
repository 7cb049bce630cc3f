"""The everyday ``/logtime`` on a bare unit of work (``storage.bare``) against the full one.

The use case is the same code on both, so this checks the bare unit of work as storage:
1. a plain entry is written without a full unit of work; every case it cannot serve (an alias, a work
   type's rate, an alert, a forfeit, an outbox row queued again) goes to the full one, with nothing
   written twice;
2. differential: random stories give the same answers and row-for-row the same ledger with the bare
   unit of work as without it (``BLOCKTIME_FAST_WRITER=off``), compared as the driver returns the stored
   values (so a date or time stored in another format, which the ORM would read back as the same
   value, is a difference)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from bot.clock import FixedClock
from bot.config import Settings
from bot.services import Actor, Context
from handlers.outcome import attempt
from storage.db import Database
from storage.models import Base, Entry
from tests.conftest import NOW, FreshDatabases
from tests.helpers import do, entry_count
from tests.stories import apply, operations


@contextmanager
def full_writes(ctx: Context) -> Iterator[list[bool]]:
    """Counts the full units of work opened for writing while the block runs."""
    opened: list[bool] = []
    real = ctx.db.unit_of_work

    def counting(read_only: bool = False) -> Any:
        if not read_only:
            opened.append(True)
        return real(read_only)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ctx.db, "unit_of_work", counting)
        yield opened


def _log(ctx: Context, actor: Actor, line: str) -> tuple[Any, int]:
    with full_writes(ctx) as opened:
        result = do(ctx, actor, line)
    return result, len(opened)


def test_plain_entries_take_the_bare_unit_of_work_and_match_the_ledger(ctx: Context, admin: Actor, tech: Actor) -> None:
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "topup acme 2")
    do(ctx, admin, "topup acme 1 expires 2027-01-31")
    first, full = _log(ctx, tech, "logtime acme 50m printer #42")
    assert full == 0
    # FIFO: the block that expires first pays, then the other one
    assert (first.remaining_minutes, first.percent_left, first.ticket) == (130, 72, "#42")
    second, full = _log(ctx, tech, "logtime acme 20m cabling")
    assert full == 0 and second.remaining_minutes == 110
    blocks = do(ctx, admin, "blocks acme")
    by_expiry = {b.expires_on is None: b for b in blocks.blocks}
    assert (by_expiry[False].remaining_minutes, by_expiry[True].remaining_minutes) == (0, 110)
    balance = do(ctx, admin, "balance acme").balances[0]
    assert (balance.remaining_minutes, balance.used_minutes) == (110, 70)
    entries = do(ctx, admin, "entries acme").entries
    assert [(e.minutes, e.user_id) for e in entries] == [(50, tech.user_id), (20, tech.user_id)]


def test_an_everyday_entry_is_one_statement_on_postgresql(ctx: Context, admin: Actor, tech: Actor) -> None:
    """The posting of a plain entry has the shape PostgreSQL stores at once (``_one_entry``)."""
    from storage import postings

    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "topup acme 2")
    seen: list[bool] = []
    real = postings._one_entry
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(postings, "_one_entry", lambda posting: seen.append(real(posting)) or seen[-1])
        do(ctx, tech, "logtime acme 15m printer")
        do(ctx, admin, "topup acme 1")
    assert seen == ([] if ctx.db.is_sqlite else [True, False])


def test_with_the_fast_writer_off_every_entry_takes_the_full_unit_of_work(
    ctx: Context, admin: Actor, tech: Actor
) -> None:
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "topup acme 2")
    off = Context(ctx.db, replace(ctx.settings, fast_writer=False), ctx.clock)
    logged, full = _log(off, tech, "logtime acme 15m printer")
    assert full == 1 and logged.remaining_minutes == 105


@pytest.mark.parametrize(
    ("setup", "line", "left"),
    [
        ("client alias acme widgets", "logtime widgets 15m via alias", 105),
        ("worktype add onsite 1.5", "logtime acme 20m as onsite", 90),
        ("", "logtime acme 100m crosses 20% and 10%", 20),  # an alert
    ],
)
def test_what_the_bare_unit_of_work_cannot_serve_goes_to_the_full_one_once(
    ctx: Context, admin: Actor, tech: Actor, setup: str, line: str, left: int
) -> None:
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "topup acme 2")
    if setup:
        do(ctx, admin, setup)
    logged, full = _log(ctx, tech, line)
    assert full == 1 and logged.remaining_minutes == left
    assert entry_count(ctx) == 1


def test_a_refusal_is_the_same_on_the_bare_unit_of_work(ctx: Context, admin: Actor, tech: Actor) -> None:
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "topup acme 2")
    with full_writes(ctx) as opened:
        outcome = attempt(lambda: do(ctx, tech, "logtime acme 3h more than is left"), "logtime")
    assert opened == [] and outcome.error is not None and outcome.error.startswith("Not recorded: Acme has 2h left")
    assert entry_count(ctx) == 0


def test_a_block_past_its_expiry_is_forfeited_by_the_full_unit_of_work(
    ctx: Context, clock: FixedClock, admin: Actor, tech: Actor
) -> None:
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "topup acme 2")
    do(ctx, admin, f"topup acme 1 expires {(clock.now() + timedelta(days=2)).date()}")
    clock.advance(days=10)  # past the closing day (expiry + 7 days' grace): a forfeit is due
    result, full = _log(ctx, tech, "logtime acme 15m after expiry")  # its notice needs the full one
    assert full == 1 and result.remaining_minutes == 105
    assert entry_count(ctx) == 1


RANDOM_COLUMNS = {"outbox": ("dedupe_key", "payload")}  # a PSA sync's reference is a fresh UUID


def _snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.engine.connect() as connection:
        return {
            table.name: [
                {
                    name: "(random)" if name in RANDOM_COLUMNS.get(table.name, ()) else value
                    for name, value in row.items()
                }
                for row in connection.exec_driver_sql(
                    f"SELECT * FROM {table.name} ORDER BY {', '.join(c.name for c in table.primary_key)}"
                ).mappings()
            ]
            for table in Base.metadata.sorted_tables
            if table.name not in ("alembic_version",)
        }


PSA = Settings(
    psa="connectwise",
    connectwise_url="http://127.0.0.1:9/v4_6_release/apis/3.0",  # nothing is delivered in these tests
    connectwise_company="msp",
    connectwise_public_key="p",
    connectwise_private_key="k",
    connectwise_client_id="c",
)


def _run(
    db: Database, story: list[tuple], quick: bool, settings_: Settings | None = None
) -> tuple[list[Any], dict[str, list[dict[str, Any]]]]:  # type: ignore[type-arg]
    """What each step answered, and the rows it left."""
    clock = FixedClock(NOW)
    ctx = Context(db, replace(settings_ or Settings(), fast_writer=quick), clock)
    admin = Actor.local_admin()
    with pytest.MonkeyPatch.context() as patch:
        if not quick:  # and each statement on its own (PostgreSQL writes an entry in one statement)
            patch.setattr("storage.postings._one_entry", lambda posting: False)
        do(ctx, admin, "client add acme Acme")
        do(ctx, admin, "client set acme overdraft 2h rounding 15m thresholds 50%,2h")
        entries: list[int] = []
        blocks: list[int] = []
        answers = [_plain(apply(ctx, clock, admin, op, entries, blocks)) for op in story]
    return answers, _snapshot(db)


def _plain(answer: Any) -> Any:
    return answer.as_dict() if hasattr(answer, "as_dict") else answer


def _both(
    fresh: FreshDatabases, story: list[tuple], quick: bool, settings_: Settings | None = None
) -> tuple[list[Any], dict[str, list[dict[str, Any]]]]:  # type: ignore[type-arg]
    with fresh.open() as db:
        return _run(db, story, quick, settings_)


def test_random_stories_give_the_same_answers_and_rows_with_and_without_the_bare_unit_of_work(
    fresh_databases: FreshDatabases,
) -> None:
    examples = 40 if fresh_databases.backend == "sqlite" else 25

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(operations)
    def same(story: list[tuple]) -> None:  # type: ignore[type-arg]
        assert _both(fresh_databases, story, quick=True) == _both(fresh_databases, story, quick=False)

    same()


def test_with_a_psa_the_bare_unit_of_work_queues_each_entry_as_the_full_one_does(
    fresh_databases: FreshDatabases,
) -> None:
    """PSA=connectwise: every entry is queued for the PSA in its own transaction, on both alike."""
    examples = 12 if fresh_databases.backend == "sqlite" else 8

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(operations)
    def same(story: list[tuple]) -> None:  # type: ignore[type-arg]
        fast = _both(fresh_databases, story, quick=True, settings_=PSA)
        assert fast == _both(fresh_databases, story, quick=False, settings_=PSA)
        chains = {row["id"] for row in fast[1]["entries"] if row["replaces_id"] is None}
        queued = [row["entry_id"] for row in fast[1]["outbox"] if row["destination"] == "psa"]
        assert sorted(queued) == sorted(chains)  # one row per chain (an entry and its edits)

    same()


def test_a_plain_entry_takes_the_bare_unit_of_work_with_a_psa_too(ctx: Context, admin: Actor, tech: Actor) -> None:
    psa_ctx = Context(ctx.db, PSA, ctx.clock)
    do(psa_ctx, admin, "client add acme Acme")
    do(psa_ctx, admin, "topup acme 2")
    logged, full = _log(psa_ctx, tech, "logtime acme 15m printer")
    assert full == 0 and logged.psa == "queued for ConnectWise PSA"
    with ctx.db.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT destination, entry_id, status, version FROM outbox").all()
    assert [tuple(r) for r in rows] == [("psa", logged.entry_id, "pending", 0)]


def test_the_differential_check_can_fail(fresh_databases: FreshDatabases) -> None:
    """Guard for the test above: a story with entries does tell the two databases apart when one of
    them differs (here, an extra entry), so equality there is a real finding."""
    story = [("topup", 2, None), ("log", 30, False, 0)]
    fast_answers, fast = _both(fresh_databases, story, quick=True)
    slow_answers, slow = _both(fresh_databases, [*story, ("log", 15, False, 0)], quick=False)
    assert fast != slow and fast_answers != slow_answers
    assert len(fast[Entry.__tablename__]) == 1


@pytest.mark.postgres
def test_a_commit_that_fails_is_reported_and_never_tried_again(
    pg_database: Database, settings: Settings, clock: FixedClock, admin: Actor, tech: Actor
) -> None:
    """The database refuses the entry at COMMIT itself (a deferred constraint trigger, real PostgreSQL):
    the user is told it was not recorded, nothing is written, and the full unit of work does not try it again
    (a second try after a commit whose outcome is unknown could record it twice)."""
    from tests.conftest import _empty_pg

    _empty_pg(pg_database)
    ctx = Context(pg_database, settings, clock)
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "topup acme 10")
    with pg_database.engine.begin() as connection:
        connection.exec_driver_sql("CREATE SEQUENCE commit_attempts")
        connection.exec_driver_sql(
            "CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM nextval('commit_attempts'); RAISE EXCEPTION 'refused at commit'; END $$"
        )
        connection.exec_driver_sql(
            "CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON entries DEFERRABLE INITIALLY DEFERRED"
            " FOR EACH ROW WHEN (NEW.note = 'refused at commit') EXECUTE FUNCTION refuse_at_commit()"
        )
    try:
        outcome = attempt(lambda: do(ctx, tech, "logtime acme 15m refused at commit"), "logtime")
        assert outcome.unavailable and outcome.error is not None and "Not recorded" in outcome.error
        with pg_database.engine.connect() as connection:
            tries = connection.exec_driver_sql("SELECT last_value, is_called FROM commit_attempts").one()
        assert tuple(tries) == (1, True)  # one commit was attempted, on the bare unit of work, and no second
        assert entry_count(ctx) == 0
        assert do(ctx, tech, "logtime acme 15m printer").remaining_minutes == 585  # the pool is fine
    finally:
        with pg_database.engine.begin() as connection:
            connection.exec_driver_sql("DROP TRIGGER refuse_at_commit ON entries")
            connection.exec_driver_sql("DROP FUNCTION refuse_at_commit()")
            connection.exec_driver_sql("DROP SEQUENCE commit_attempts")


def test_a_column_left_out_of_an_insert_on_the_driver_takes_its_default(ctx: Context) -> None:
    """The driver runs what SQLAlchemy compiled, without its execution step: a column's Python-side
    default (an outbox row's ``attempts`` and ``version``) is still applied, not stored as NULL."""
    from storage.outbox import new_row

    row = new_row(kind="psa_sync", destination="psa", now=NOW, payload="{}", dedupe_key="psa:k", client_id=None)
    without = {k: v for k, v in row.items() if k not in ("attempts", "version")}
    with ctx.db.bare_unit_of_work() as bare:
        bare.outbox.requeue(without, 41)
        bare.commit()
    with ctx.db.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT attempts, version FROM outbox WHERE entry_id = 41").all()
    assert [tuple(r) for r in stored] == [(0, 0)]


def test_an_error_after_the_commit_is_never_sent_to_the_full_unit_of_work(ctx: Context) -> None:
    """Once the bare unit of work has committed, a failing after-commit hook is raised as it is: turned
    into NotHere, the use case would run again on the full unit of work and write the change twice."""
    from sqlalchemy.exc import OperationalError

    def failing() -> None:
        raise OperationalError("SELECT 1", {}, Exception("after the commit"))

    with pytest.raises(OperationalError), ctx.db.bare_unit_of_work() as bare:
        bare.after_commit(failing)
        bare.commit()
