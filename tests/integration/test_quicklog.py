"""The fast path for plain entries (``bot.services.quicklog``, ``storage.quick``) against the ClientBook path.

1. It takes the plain case and declines (writing nothing) every case it leaves to ClientBook.
2. Differential: random stories give the same answers and row-for-row the same ledger with the fast
   path as without it, compared as the driver returns the stored values (so a date or time stored in
   another format, which the ORM would read back as the same value, is a difference)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.commands import LogTime
from bot.domain.grammar import parse_command
from bot.services import Actor, Context
from bot.services.quicklog import quick_log
from handlers.outcome import attempt
from storage.db import Database
from storage.models import Base, Entry
from tests.conftest import NOW, FreshDatabases
from tests.helpers import do, entry_count
from tests.stories import apply, operations


def _try_quick(ctx: Context, actor: Actor, line: str, client_id: int | None = None) -> Any:
    command = parse_command(line, ctx.today(), ctx.settings.max_entry_minutes, client_known=client_id is not None)
    assert isinstance(command, LogTime)
    return quick_log(ctx, actor, command, source="slack", key=None, client_id=client_id, ticket=None, source_ref=None)


def test_plain_entries_take_the_fast_path_and_match_the_ledger(ctx: Context, admin: Actor, tech: Actor) -> None:
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "topup acme 2")
    do(ctx, admin, "topup acme 1 expires 2027-01-31")
    first = _try_quick(ctx, tech, "logtime acme 50m printer #42")
    assert first is not None
    # FIFO: the block that expires first pays, then the other one
    assert (first.remaining_minutes, first.percent_left, first.ticket) == (130, 72, "#42")
    second = _try_quick(ctx, tech, "logtime acme 20m cabling")
    assert second is not None and second.remaining_minutes == 110
    blocks = do(ctx, admin, "blocks acme")
    by_expiry = {b.expires_on is None: b for b in blocks.blocks}
    assert (by_expiry[False].remaining_minutes, by_expiry[True].remaining_minutes) == (0, 110)
    balance = do(ctx, admin, "balance acme").balances[0]
    assert (balance.remaining_minutes, balance.used_minutes) == (110, 70)
    entries = do(ctx, admin, "entries acme").entries
    assert [(e.minutes, e.user_id) for e in entries] == [(50, tech.user_id), (20, tech.user_id)]


@pytest.mark.parametrize(
    ("setup", "line"),
    [
        ("client alias acme widgets", "logtime widgets 15m via alias"),
        ("client archive acme", "logtime acme 15m archived"),
        ("", "logtime acme 3h more than is left"),  # refused (no overdraft)
        ("client set acme overdraft unlimited", "logtime acme 3h overage"),
        ("", "logtime acme 100m crosses 20% and 10%"),  # an alert
    ],
)
def test_every_other_case_is_left_to_the_client_book(
    ctx: Context, admin: Actor, tech: Actor, setup: str, line: str
) -> None:
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "topup acme 2")
    if setup:
        do(ctx, admin, setup)
    assert _try_quick(ctx, tech, line) is None
    assert entry_count(ctx) == 0


def test_a_block_past_its_expiry_is_left_to_the_client_book(
    ctx: Context, clock: FixedClock, admin: Actor, tech: Actor
) -> None:
    do(ctx, admin, "client add acme Acme")
    do(ctx, admin, "topup acme 2")
    do(ctx, admin, f"topup acme 1 expires {(clock.now() + timedelta(days=2)).date()}")
    clock.advance(days=10)  # past the closing day (expiry + 7 days' grace): a forfeit is due
    assert _try_quick(ctx, tech, "logtime acme 15m after expiry") is None
    assert entry_count(ctx) == 0
    result = do(ctx, tech, "logtime acme 15m after expiry")  # the full path forfeits, then logs
    assert result.remaining_minutes == 105


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
    ctx = Context(db, settings_ or Settings(), clock)
    admin = Actor.local_admin()
    with pytest.MonkeyPatch.context() as patch:
        if not quick:
            patch.setattr("bot.services.ledger.quick_log", lambda *args, **kwargs: None)
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


def test_random_stories_give_the_same_answers_and_rows_with_and_without_the_fast_path(
    fresh_databases: FreshDatabases,
) -> None:
    examples = 40 if fresh_databases.backend == "sqlite" else 25

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(operations)
    def same(story: list[tuple]) -> None:  # type: ignore[type-arg]
        assert _both(fresh_databases, story, quick=True) == _both(fresh_databases, story, quick=False)

    same()


def test_with_a_psa_the_fast_path_queues_each_entry_as_the_client_book_does(
    fresh_databases: FreshDatabases,
) -> None:
    """PSA=connectwise: every entry is queued for the PSA in its own transaction, on both paths alike."""
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


def test_a_plain_entry_takes_the_fast_path_with_a_psa_too(ctx: Context, admin: Actor, tech: Actor) -> None:
    psa_ctx = Context(ctx.db, PSA, ctx.clock)
    do(psa_ctx, admin, "client add acme Acme")
    do(psa_ctx, admin, "topup acme 2")
    logged = _try_quick(psa_ctx, tech, "logtime acme 15m printer")
    assert logged is not None and logged.psa == "queued for ConnectWise PSA"
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
    the user is told it was not recorded, nothing is written, and the ORM path does not try it again
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
        assert tuple(tries) == (1, True)  # one commit was attempted, by the fast path, and no second
        assert entry_count(ctx) == 0
        assert do(ctx, tech, "logtime acme 15m printer").remaining_minutes == 585  # the pool is fine
    finally:
        with pg_database.engine.begin() as connection:
            connection.exec_driver_sql("DROP TRIGGER refuse_at_commit ON entries")
            connection.exec_driver_sql("DROP FUNCTION refuse_at_commit()")
            connection.exec_driver_sql("DROP SEQUENCE commit_attempts")
