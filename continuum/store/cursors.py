"""Cursors: where an incremental read stopped, per (pipeline, system, stream, partition).

A cursor is saved in the same transaction as the page it covers (the caller
holds that transaction).
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from continuum.connector import JSON
from continuum.store.base import insert_ignore
from continuum.store.db import utcnow
from continuum.store.tables import cursors


def get_cursor(conn: Connection, pipeline: str, system: str, stream: str, partition: str = "") -> JSON | None:
    row = conn.execute(
        select(cursors.c.value).where(
            cursors.c.pipeline == pipeline, cursors.c.system == system,
            cursors.c.stream == stream, cursors.c.partition == partition,
        )
    ).first()
    return None if row is None else dict(row.value)


def save_cursor(conn: Connection, pipeline: str, system: str, stream: str, value: JSON, partition: str = "") -> None:
    key = {"pipeline": pipeline, "system": system, "stream": stream, "partition": partition}
    now = utcnow()
    updated = conn.execute(
        update(cursors).where(*[cursors.c[k] == v for k, v in key.items()]).values(value=value, updated_at=now)
    )
    if updated.rowcount == 0:
        insert_ignore(conn, cursors, [{**key, "value": value, "updated_at": now}], list(key))
        conn.execute(
            update(cursors).where(*[cursors.c[k] == v for k, v in key.items()]).values(value=value, updated_at=now)
        )
