"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from storage.db import Database, current_revision, head_revision, newest_revision, stored_revision, upgrade
from storage.models import Base
from tests.conftest import BACKENDS, PG_URL, pg_schema_url


def test_models_and_migrations_agree(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_database_is_at_the_newest_migration(database: Database) -> None:
    assert current_revision(database.engine) == head_revision(database.engine)


def test_the_start_up_shortcut_knows_alembics_head_and_still_upgrades_an_older_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path}/old.db")
    assert stored_revision(db.engine) is None
    upgrade(db.engine, "0010")
    assert stored_revision(db.engine) == "0010"
    assert newest_revision() == head_revision(db.engine)
    db.migrate()  # not at the newest: Alembic runs
    assert stored_revision(db.engine) == head_revision(db.engine)
    assert "psa_members" in inspect(db.engine).get_table_names()
    db.dispose()


def test_migrating_again_changes_nothing(database: Database) -> None:
    before = sorted(inspect(database.engine).get_table_names())
    database._migrated = False
    database.migrate()
    assert sorted(inspect(database.engine).get_table_names()) == before


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path}/x.db")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with no schema yet, to migrate step by step."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path}/steps.db")
        yield db
        db.dispose()
        return
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    schema = f"bt_steps_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(pg_schema_url(schema))
    yield db
    db.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_ledger_lines_written_before_0013_keep_the_day_their_statements_showed_them_on(
    empty_database: Database,
) -> None:
    upgrade(empty_database.engine, "0012")
    with empty_database.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO clients (id, handle, display_name, timezone, archived, rounding_minutes, "
                "minimum_minutes, overage_policy, purchased_minutes, used_minutes, forfeited_minutes, "
                "open_overage_minutes, billed_overage_minutes, created_at, client_view, client_notes) VALUES "
                "(1, 'acme', 'Acme', 'America/Chicago', false, 1, 0, 'carry', 600, 0, 0, 0, 0, :at, false, false)"
            ),
            {"at": datetime(2026, 11, 1, tzinfo=UTC)},
        )
        conn.execute(
            text(
                "INSERT INTO ledger_lines (client_id, at, kind, minutes, balance_after, actor, note) "
                "VALUES (1, :at, 'topup', 600, 600, 'cli', '')"
            ),
            {"at": datetime(2026, 12, 1, 3, 0, tzinfo=UTC)},  # 30 November, 21:00 in Chicago
        )
    upgrade(empty_database.engine)
    with empty_database.engine.connect() as conn:
        assert conn.execute(text("SELECT recorded_on FROM ledger_lines")).scalar() in (date(2026, 11, 30), "2026-11-30")


def test_0017_adds_the_share_links_table_and_takes_it_away_again(empty_database: Database) -> None:
    from alembic import command

    from storage.db import alembic_config

    engine = empty_database.engine
    upgrade(engine, "0016")
    assert "share_links" not in inspect(engine).get_table_names()
    upgrade(engine, "0017")
    assert {c["name"] for c in inspect(engine).get_columns("share_links")} >= {"token_hash", "expires_at", "revoked_at"}
    command.downgrade(alembic_config(engine), "0016")
    assert "share_links" not in inspect(engine).get_table_names() and stored_revision(engine) == "0016"
    upgrade(engine)
    assert "share_links" in inspect(engine).get_table_names()


def test_0019_adds_purchases_stripe_events_and_offers_and_takes_them_away_again(empty_database: Database) -> None:
    from alembic import command

    from storage.db import alembic_config

    engine = empty_database.engine
    below = _revision_below("0019")
    upgrade(engine, below)
    assert "purchases" not in inspect(engine).get_table_names()
    upgrade(engine, "0019")
    tables = inspect(engine).get_table_names()
    assert {"purchases", "stripe_events"} <= set(tables)
    assert "buy_offers" in {c["name"] for c in inspect(engine).get_columns("clients")}
    command.downgrade(alembic_config(engine), below)
    assert "purchases" not in inspect(engine).get_table_names() and stored_revision(engine) == below
    assert "buy_offers" not in {c["name"] for c in inspect(engine).get_columns("clients")}
    upgrade(engine)
    assert "stripe_events" in inspect(engine).get_table_names()


def test_0020_adds_the_statement_email_addresses_and_takes_them_away_again(empty_database: Database) -> None:
    from alembic import command

    from storage.db import alembic_config

    engine = empty_database.engine
    below = _revision_below("0020")
    upgrade(engine, "0020")
    assert "statement_emails" in {c["name"] for c in inspect(engine).get_columns("clients")}
    command.downgrade(alembic_config(engine), below)
    assert "statement_emails" not in {c["name"] for c in inspect(engine).get_columns("clients")}
    upgrade(engine)
    assert "statement_emails" in {c["name"] for c in inspect(engine).get_columns("clients")}


def test_0021_puts_the_minutes_into_the_ledger_lines_day_index_and_takes_them_out_again(
    empty_database: Database,
) -> None:
    from alembic import command

    from storage.db import alembic_config

    def indexes() -> dict[str, list[str]]:
        return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("ledger_lines")}

    engine = empty_database.engine
    below = _revision_below("0021")
    upgrade(engine, "0021")
    assert indexes()["ix_ledger_lines_client_id_recorded_on_minutes"] == ["client_id", "recorded_on", "minutes"]
    assert "ix_ledger_lines_client_id_recorded_on" not in indexes()
    command.downgrade(alembic_config(engine), below)
    assert indexes()["ix_ledger_lines_client_id_recorded_on"] == ["client_id", "recorded_on"]
    assert "ix_ledger_lines_client_id_recorded_on_minutes" not in indexes()
    upgrade(engine)
    assert "ix_ledger_lines_client_id_recorded_on_minutes" in indexes()


def _revision_below(revision: str) -> str:
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config(create_engine("sqlite://")))
    below = script.get_revision(revision).down_revision
    assert isinstance(below, str)
    return below
