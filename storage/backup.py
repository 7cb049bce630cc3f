"""Export every row of every table as JSON, and restore it into an empty database, losslessly:
datetimes as ISO 8601 with their offset, dates as ISO, Decimals as strings, ids kept."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, DateTime, Integer, Numeric, TypeDecorator, func, insert, select, text

from storage.db import Database, current_revision
from storage.models import Base

FORMAT = "blocktime-export"
VERSION = 1
CHUNK = 1000


class BackupError(Exception):
    """The file cannot be restored here (wrong format, other schema, database not empty)."""


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decoder(column: Any) -> Any:
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    if isinstance(kind, DateTime):
        return datetime.fromisoformat
    if isinstance(kind, Date):
        return date.fromisoformat
    if isinstance(kind, Numeric):
        return Decimal
    return lambda v: v


def export_data(db: Database) -> dict[str, Any]:
    tables: dict[str, list[dict[str, Any]]] = {}
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            rows = connection.execute(select(table).order_by(*order)).mappings()
            tables[table.name] = [{k: _encode(v) for k, v in row.items()} for row in rows]
    return {"format": FORMAT, "version": VERSION, "schema": current_revision(db.engine), "tables": tables}


def import_data(db: Database, data: dict[str, Any]) -> dict[str, int]:
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise BackupError("this is not a blocktime export (format/version)")
    here = current_revision(db.engine)
    if data.get("schema") != here:
        raise BackupError(
            f"the export is of schema {data.get('schema')}, this database is at {here}; "
            "import it into a blocktime of the same version"
        )
    counts: dict[str, int] = {}
    with db.engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            if connection.execute(select(func.count()).select_from(table)).scalar():
                raise BackupError(f"the database is not empty (table {table.name} has rows); import needs an empty one")
        for table in Base.metadata.sorted_tables:
            decoders = {c.name: _decoder(c) for c in table.columns}
            rows = [
                {k: (None if v is None else decoders[k](v)) for k, v in row.items() if k in decoders}
                for row in data["tables"].get(table.name, [])
            ]
            for start in range(0, len(rows), CHUNK):
                connection.execute(insert(table), rows[start : start + CHUNK])
            counts[table.name] = len(rows)
        if connection.dialect.name == "postgresql":
            for table in Base.metadata.sorted_tables:
                key = list(table.primary_key.columns)
                if len(key) == 1 and isinstance(key[0].type, Integer) and counts.get(table.name):
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key[0].name}'), "
                            f"(SELECT max({key[0].name}) FROM {table.name}))"
                        )
                    )
    return counts
