"""The store on SQLite and on a real PostgreSQL: migrations, and uniqueness held by the database itself."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import IntegrityError

import continuum.store.request_matching  # noqa: F401  (its tables join the same metadata)
from continuum.store.base import content_hash, insert_ignore
from continuum.store.cursors import get_cursor, save_cursor
from continuum.store.db import migrate, utcnow
from continuum.store.status import counts as store_counts
from continuum.store.tables import customers, interactions, links, metadata, outbox


def _interaction(source_id: str) -> dict:
    now = utcnow()
    return {"source_system": "forum", "source_id": source_id, "direction": "inbound", "kind": "bug",
            "title": "", "text": "t", "status": "new", "content_hash": "h", "first_seen_at": now,
            "last_seen_at": now, "is_thread_start": True}


def test_migrations_create_every_table_and_rerun_cleanly(any_db: Engine) -> None:
    migrate(any_db)  # a second time: nothing to do, no error
    names = set(inspect(any_db).get_table_names())
    assert set(metadata.tables) <= names
    assert "alembic_version" in names


def test_the_migrated_schema_is_the_one_the_code_declares(any_db: Engine) -> None:
    """Every column, type, index and constraint the migrations made, on both databases, matches tables.py
    and its siblings: a migration that forgot a column or an index (0006's attachments) shows here."""
    with any_db.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_one_interaction_per_source_object_is_enforced_by_the_database(any_db: Engine) -> None:
    with any_db.begin() as conn:
        conn.execute(interactions.insert().values(**_interaction("post:1")))
    with pytest.raises(IntegrityError), any_db.begin() as conn:
        conn.execute(interactions.insert().values(**_interaction("post:1")))


def test_one_link_per_external_object_is_enforced_by_the_database(any_db: Engine) -> None:
    row = {"record_type": "interaction", "record_id": 1, "system": "tracker", "object_type": "issue",
           "external_id": "10001", "synced_at": utcnow()}
    with any_db.begin() as conn:
        conn.execute(links.insert().values(**row))
    with pytest.raises(IntegrityError), any_db.begin() as conn:
        conn.execute(links.insert().values(**{**row, "record_id": 2}))


def test_outbox_keys_are_unique_and_insert_ignore_keeps_the_first(any_db: Engine) -> None:
    now = utcnow()
    row = {"idempotency_key": "ck-1", "pipeline": "p", "system": "s", "action": "create", "object_type": "issue",
           "record_type": "interaction", "record_id": 1, "payload": {"a": 1}, "context": {}, "state": "pending",
           "attempts": 0, "created_at": now, "updated_at": now}
    with any_db.begin() as conn:
        insert_ignore(conn, outbox, [row], ["idempotency_key"])
        insert_ignore(conn, outbox, [{**row, "payload": {"a": 2}}], ["idempotency_key"])
        payloads = conn.execute(select(outbox.c.payload)).scalars().all()
    assert payloads == [{"a": 1}]


def test_cursor_round_trip_and_overwrite(any_db: Engine) -> None:
    with any_db.begin() as conn:
        assert get_cursor(conn, "p", "s", "posts") is None
        save_cursor(conn, "p", "s", "posts", {"last": 1})
        save_cursor(conn, "p", "s", "posts", {"last": 5})
        save_cursor(conn, "p", "s", "posts", {"other": True}, partition="b")
    with any_db.connect() as conn:
        assert get_cursor(conn, "p", "s", "posts") == {"last": 5}
        assert get_cursor(conn, "p", "s", "posts", "b") == {"other": True}


def test_counts_use_the_same_keys_as_the_demo(any_db: Engine) -> None:
    now = utcnow()
    with any_db.begin() as conn:
        conn.execute(customers.insert().values(display_name="Ann", created_at=now, updated_at=now))
        conn.execute(interactions.insert().values(**_interaction("post:9")))
        counts = store_counts(conn)
    assert counts["customers"] == 1 and counts["interactions"] == 1
    assert counts["by_status"] == {"new": 1}
    assert {"links", "outbox_pending", "dead_letters"} <= set(counts)


def test_content_hash_ignores_key_order() -> None:
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})
