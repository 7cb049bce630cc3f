"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import Database, current_revision, head_revision, newest_revision, stored_revision, upgrade
from storage.models import Base


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
