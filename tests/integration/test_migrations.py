"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import Database, current_revision, head_revision
from storage.models import Base


def test_models_and_migrations_agree(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_database_is_at_the_newest_migration(database: Database) -> None:
    assert current_revision(database.engine) == head_revision(database.engine)


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
