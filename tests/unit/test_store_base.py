"""The two helpers every store module stands on, directly: the content hash and the race-safe insert.

The content hash is stored (interactions, links): a change in how it is computed would make every stored record
look changed after an upgrade, and the hub would echo them all.  So its exact form is pinned here.  The insert
skips collisions on the named keys only; any other broken constraint is still an error.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from continuum.store.base import content_hash, insert_ignore
from continuum.store.db import utcnow
from continuum.store.tables import dead_letters


def test_the_content_hash_is_sha256_of_compact_sorted_json_with_text_kept_as_is() -> None:
    # The stored form: keys sorted, no spaces, non-ASCII text as UTF-8 (not \\u escapes).
    canonical = '{"a":1,"b":[1,2],"t":"é 🌙"}'
    assert content_hash({"t": "é 🌙", "b": [1, 2], "a": 1}) == hashlib.sha256(canonical.encode()).hexdigest()


def test_values_json_cannot_hold_are_hashed_as_their_text() -> None:
    moment = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert content_hash({"at": moment}) == content_hash({"at": str(moment)})


def test_a_lone_surrogate_in_customer_text_is_hashed_not_refused() -> None:
    # Broken UTF-16 from a vendor API must not make a record unstorable.
    assert content_hash({"t": "a\ud800"}) != content_hash({"t": "a\ud801"})
    assert len(content_hash({"t": "\udfff"})) == 64


def _letter(key: str, **extra: Any) -> dict[str, Any]:
    now = utcnow()
    return {"pipeline": "p", "system": "jira", "stream": "s", "stage": "apply", "record_key": key, "error": "e",
            "payload": {}, "attempts": 1, "state": "open", "created_at": now, "updated_at": now, **extra}


KEYS = ["system", "stage", "record_key"]


def test_insert_ignore_counts_what_went_in_and_skips_collisions_on_its_keys(any_db: Engine) -> None:
    with any_db.begin() as conn:
        assert insert_ignore(conn, dead_letters, [], KEYS) == 0
        assert insert_ignore(conn, dead_letters, [_letter("k1"), _letter("k2")], KEYS) == 2
        assert insert_ignore(conn, dead_letters, [_letter("k1", error="again")], KEYS) == 0
        assert insert_ignore(conn, dead_letters, [_letter("k2", error="again"), _letter("k3")], KEYS) == 1
        rows = {r.record_key: r.error for r in conn.execute(select(dead_letters))}
    assert rows == {"k1": "e", "k2": "e", "k3": "e"}


def test_insert_ignore_on_one_key_column(any_db: Engine) -> None:
    with any_db.begin() as conn:
        assert insert_ignore(conn, dead_letters, [_letter("k1", id=7)], ["id"]) == 1
        assert insert_ignore(conn, dead_letters, [_letter("k2", id=7)], ["id"]) == 0


def test_insert_ignore_still_refuses_a_collision_on_another_constraint(any_db: Engine) -> None:
    with any_db.begin() as conn:
        insert_ignore(conn, dead_letters, [_letter("k1", id=1)], KEYS)
    # A new (system, stage, record_key) but an id that is taken: not the collision the caller asked to skip.
    with pytest.raises(IntegrityError), any_db.begin() as conn:
        insert_ignore(conn, dead_letters, [_letter("k2", id=1)], KEYS)


def test_insert_ignore_refuses_a_database_it_does_not_support_by_name() -> None:
    conn: Any = SimpleNamespace(dialect=SimpleNamespace(name="mysql"))
    with pytest.raises(RuntimeError, match=r"^unsupported database dialect 'mysql'$"):
        insert_ignore(conn, dead_letters, [_letter("k1")], KEYS)
