"""Alembic environment: the engine comes from the caller (``storage.db.upgrade``) or ``DATABASE_URL``."""

from __future__ import annotations

import os
from typing import Any

from alembic import context
from sqlalchemy import Engine

from storage.db import make_engine
from storage.models import Base


def render_item(type_: str, obj: Any, autogen_context: Any) -> Any:
    """Migrations spell our column types with plain SQLAlchemy so they never import the models."""
    if type_ == "type" and type(obj).__name__ == "UtcDateTime":
        return "sa.DateTime(timezone=True)"
    return False


config = context.config
engine: Engine = config.attributes.get("engine") or make_engine(
    os.environ.get("DATABASE_URL", "sqlite:///blocktime.db")
)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
