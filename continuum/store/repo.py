"""Reads and writes over the store, shared by the engine and the CLI.

Every function takes an open ``Connection`` so that the caller decides the
transaction: the engine commits a page of records together with its cursor.
Inserts that may race use the dialect's ``ON CONFLICT`` so that the database,
not the code, settles who wins.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Table, and_, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from continuum.store.db import utcnow
from continuum.store.tables import (
    audit_events,
    cursors,
    customers,
    dead_letters,
    feature_requests,
    identities,
    interactions,
    links,
    outbox,
)

JSON = dict[str, Any]


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
        stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)
    else:  # pragma: no cover - other databases are not supported yet
        raise RuntimeError(f"unsupported database dialect {dialect!r}")
    # RETURNING, not rowcount: psycopg reports -1 for these statements.
    return len(conn.execute(stmt.returning(table.c[keys[0]]), rows).all())


# -- cursors ------------------------------------------------------------------

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


# -- links --------------------------------------------------------------------

def find_links(conn: Connection, system: str, object_type: str, external_ids: Iterable[str]) -> dict[str, JSON]:
    ids = list(external_ids)
    if not ids:
        return {}
    rows = conn.execute(
        select(links).where(links.c.system == system, links.c.object_type == object_type,
                            links.c.external_id.in_(ids))
    ).mappings()
    return {row["external_id"]: dict(row) for row in rows}


def links_of(conn: Connection, record_type: str, record_ids: Iterable[int], system: str | None = None) -> list[JSON]:
    ids = list(record_ids)
    if not ids:
        return []
    query = select(links).where(links.c.record_type == record_type, links.c.record_id.in_(ids))
    if system is not None:
        query = query.where(links.c.system == system)
    return [dict(row) for row in conn.execute(query).mappings()]


def add_link(conn: Connection, record_type: str, record_id: int, system: str, object_type: str,
             external_id: str, url: str | None = None, version: str | None = None,
             content_hash_: str | None = None) -> None:
    insert_ignore(conn, links, [{
        "record_type": record_type, "record_id": record_id, "system": system, "object_type": object_type,
        "external_id": external_id, "url": url, "external_version": version,
        "content_hash": content_hash_, "synced_at": utcnow(),
    }], ["system", "object_type", "external_id"])


def touch_link(conn: Connection, link_id: int, version: str | None, content_hash_: str | None) -> None:
    conn.execute(update(links).where(links.c.id == link_id).values(
        external_version=version, content_hash=content_hash_, synced_at=utcnow()))


# -- audit and dead letters -----------------------------------------------------

def audit(conn: Connection, record_type: str, record_id: int | None, action: str, changes: JSON,
          pipeline: str | None = None, system: str | None = None) -> None:
    conn.execute(audit_events.insert().values(
        at=utcnow(), pipeline=pipeline, system=system, record_type=record_type,
        record_id=record_id, action=action, changes=changes))


def audit_many(conn: Connection, events: list[JSON]) -> None:
    """Append many audit events in one statement (a page's worth); each is like :func:`audit`'s arguments."""
    if not events:
        return
    now = utcnow()
    conn.execute(audit_events.insert(), [{"at": now, "pipeline": None, "system": None, **event} for event in events])


def dead_letter(conn: Connection, *, pipeline: str, system: str, stream: str, stage: str, record_key: str,
                error: str, payload: JSON, field: str | None = None) -> None:
    """Keep a failed record with its error; a repeat of the same failure bumps ``attempts``."""
    now = utcnow()
    where = and_(dead_letters.c.system == system, dead_letters.c.stage == stage,
                 dead_letters.c.record_key == record_key)
    existing = conn.execute(select(dead_letters.c.id).where(where)).first()
    if existing is None:
        insert_ignore(conn, dead_letters, [{
            "pipeline": pipeline, "system": system, "stream": stream, "stage": stage,
            "record_key": record_key, "field": field, "error": error, "payload": payload,
            "attempts": 1, "state": "open", "created_at": now, "updated_at": now,
        }], ["system", "stage", "record_key"])
    else:
        conn.execute(update(dead_letters).where(where).values(
            error=error, field=field, payload=payload, state="open", updated_at=now,
            attempts=dead_letters.c.attempts + 1))


def resolve_dead_letter(conn: Connection, system: str, stage: str, record_key: str) -> None:
    conn.execute(update(dead_letters).where(
        dead_letters.c.system == system, dead_letters.c.stage == stage,
        dead_letters.c.record_key == record_key, dead_letters.c.state == "open",
    ).values(state="resolved", updated_at=utcnow()))


def resolve_dead_letters(conn: Connection, system: str, stage: str, record_keys: list[str]) -> None:
    """:func:`resolve_dead_letter` for many keys in one statement (the records of a page that now map)."""
    if not record_keys:
        return
    conn.execute(update(dead_letters).where(
        dead_letters.c.system == system, dead_letters.c.stage == stage,
        dead_letters.c.record_key.in_(record_keys), dead_letters.c.state == "open",
    ).values(state="resolved", updated_at=utcnow()))


# -- counts for status / demo -----------------------------------------------------

def counts(conn: Connection) -> JSON:
    def scalar(query: Any) -> int:
        return int(conn.execute(query).scalar_one())

    by_status = {row.status: row.n for row in conn.execute(
        select(interactions.c.status, func.count().label("n")).group_by(interactions.c.status))}
    return {
        "customers": scalar(select(func.count()).select_from(customers).where(customers.c.merged_into.is_(None))),
        "identities": scalar(select(func.count()).select_from(identities)),
        "interactions": scalar(select(func.count()).select_from(interactions)),
        "by_status": dict(sorted(by_status.items())),
        "feature_requests": scalar(select(func.count()).select_from(feature_requests)),
        "links": scalar(select(func.count()).select_from(links)),
        "outbox_pending": scalar(select(func.count()).select_from(outbox).where(
            outbox.c.state.in_(("pending", "sending", "failed")))),
        "outbox_dead": scalar(select(func.count()).select_from(outbox).where(outbox.c.state == "dead")),
        "dead_letters": scalar(select(func.count()).select_from(dead_letters).where(
            dead_letters.c.state == "open")),
        # Final and visible: retried for longer than the retry period (`continuum replay --expired`).
        "outbox_expired": scalar(select(func.count()).select_from(outbox).where(outbox.c.state == "expired")),
        "dead_letters_expired": scalar(select(func.count()).select_from(dead_letters).where(
            dead_letters.c.state == "expired")),
        "audit_events": scalar(select(func.count()).select_from(audit_events)),
    }


def rows_by_keys(conn: Connection, table: Table, columns: tuple[str, str], keys: list[tuple[str, str]]) -> dict[
        tuple[str, str], Mapping[str, Any]]:
    """Fetch rows by a two-column key in one query (a page's worth at a time)."""
    if not keys:
        return {}
    a, b = table.c[columns[0]], table.c[columns[1]]
    rows = conn.execute(select(table).where(tuple_(a, b).in_(keys))).mappings()
    return {(row[columns[0]], row[columns[1]]): row for row in rows}
