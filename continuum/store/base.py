"""What every store module shares: race-safe inserts and stable content hashes.

Inserts that may race use the dialect's ``ON CONFLICT`` so that the database,
not the code, settles who wins.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from continuum.connector import JSON


def content_hash(value: Any) -> str:
    """A stable hash of JSON-able content: key order and whitespace do not matter."""
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


def insert_ignore(conn: Connection, table: Table, rows: list[JSON], keys: list[str]) -> int:
    """INSERT rows, silently skipping those that collide on ``keys`` (a unique constraint).

    Returns how many rows were inserted (for one row, 0 means another transaction has it).
    """
    if not rows:
        return 0
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)
    else:  # pragma: no cover - other databases are not supported yet
        raise RuntimeError(f"unsupported database dialect {dialect!r}")
    # RETURNING, not rowcount: psycopg reports -1 for these statements.
    return len(conn.execute(stmt.returning(table.c[keys[0]]), rows).all())
