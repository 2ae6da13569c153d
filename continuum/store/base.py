"""What every store module shares: race-safe inserts and stable content hashes.

Inserts that may race use the dialect's ``ON CONFLICT`` so that the database,
not the code, settles who wins.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from continuum.connector import JSON


def content_hash(value: Any) -> str:
    """A stable hash of JSON-able content: key order and whitespace do not matter."""
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


@lru_cache(maxsize=256)
def _insert_ignore(dialect: str, table: Table, keys: tuple[str, ...], returning: tuple[str, ...]) -> Any:
    """Built once per (dialect, table, keys, returned columns): building it costs more than SQLite running it.

    Without returned columns there is no RETURNING: psycopg then sends the rows as one pipelined batch."""
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    else:  # pragma: no cover - other databases are not supported yet
        raise RuntimeError(f"unsupported database dialect {dialect!r}")
    return stmt.returning(*(table.c[name] for name in returning)) if returning else stmt


def insert_ignore(conn: Connection, table: Table, rows: list[JSON], keys: list[str]) -> int:
    """INSERT rows, silently skipping those that collide on ``keys`` (a unique constraint).

    Returns how many rows were inserted (for one row, 0 means another transaction has it).
    """
    # RETURNING, not rowcount: psycopg reports -1 for these statements.
    return len(insert_ignore_returning(conn, table, rows, keys, keys[:1]))


def insert_ignore_returning(conn: Connection, table: Table, rows: list[JSON], keys: list[str],
                            returning: Sequence[str]) -> list[Any]:
    """:func:`insert_ignore` that gives back ``returning`` of each row inserted (none of those skipped)."""
    if not rows:
        return []
    stmt = _insert_ignore(conn.dialect.name, table, tuple(keys), tuple(returning))  # refuses an unknown database
    return list(conn.execute(stmt, rows).all())


def insert_ignore_all(conn: Connection, table: Table, rows: list[JSON], keys: list[str]) -> None:
    """:func:`insert_ignore` for callers that need no count: no RETURNING."""
    if rows:
        stmt = _insert_ignore(conn.dialect.name, table, tuple(keys), ())
        conn.execute(stmt, rows)
