"""Persistence: models, engine and unit of work, queries, Alembic migrations."""
