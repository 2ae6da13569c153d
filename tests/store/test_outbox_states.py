"""The outbox's named queries, directly: whose effects are open, when the retry clock starts, what reopens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, Engine, select

from continuum.store import outbox as effects
from continuum.store.db import utcnow
from continuum.store.tables import outbox


def _add(conn: Connection, key: str, pipeline: str = "p", system: str = "jira") -> int:
    effects.add_effect(conn, key=key, pipeline=pipeline, system=system, action="create", object_type="issue",
                       record_type="interaction", record_id=1, fields={}, target_id=None, context={})
    return int(conn.execute(select(outbox.c.id).where(outbox.c.idempotency_key == key)).scalar_one())


def test_open_effects_are_one_pipelines_by_system_then_age(sqlite_db: Engine) -> None:
    with sqlite_db.begin() as conn:
        for key, pipeline, system in [("k1", "p", "slack"), ("k2", "other", "jira"), ("k3", "p", "jira"),
                                      ("k4", "p", "slack"), ("k5", "p", "jira")]:
            _add(conn, key, pipeline, system)
        done = _add(conn, "k6")
        effects.set_effect(conn, done, state="done")
        assert [r["idempotency_key"] for r in effects.open_effects(conn, "p")] == ["k3", "k5", "k1", "k4"]
        assert [r["idempotency_key"] for r in effects.open_effects(conn, "other")] == ["k2"]


def test_the_retry_clock_starts_at_the_first_failure_and_a_final_one_is_dead(sqlite_db: Engine) -> None:
    first = utcnow().replace(microsecond=0)
    with sqlite_db.begin() as conn:
        effect = _add(conn, "k")
        effects.mark_failed(conn, effect, final=False, error="boom", now=first)
        effects.mark_failed(conn, effect, final=True, error="boom again", now=first + timedelta(hours=1))
        row = conn.execute(select(outbox).where(outbox.c.id == effect)).mappings().one()
    assert (row["state"], row["last_error"]) == ("dead", "boom again")
    assert row["retry_since"].replace(tzinfo=None) == first.replace(tzinfo=None)


def test_reopen_takes_failed_dead_and_expired_effects_only_and_restarts_their_clock(sqlite_db: Engine) -> None:
    long_ago = utcnow() - timedelta(days=3)
    with sqlite_db.begin() as conn:
        ids = {state: _add(conn, f"k-{state}") for state in ("failed", "dead", "expired", "done", "pending")}
        for state, effect in ids.items():
            effects.set_effect(conn, effect, state=state, retry_since=long_ago, updated_at=long_ago)
        reopened = {state: effects.reopen(conn, effect) for state, effect in ids.items()}
        rows = {r["id"]: r for r in conn.execute(select(outbox)).mappings()}
    assert reopened == {"failed": 1, "dead": 1, "expired": 1, "done": 0, "pending": 0}
    for state in ("failed", "dead", "expired"):
        row = rows[ids[state]]
        assert row["state"] == "failed"
        assert row["retry_since"].replace(tzinfo=None) > long_ago.replace(tzinfo=None) + timedelta(days=2)
        assert row["updated_at"].replace(tzinfo=None) > long_ago.replace(tzinfo=None) + timedelta(days=2)
    with sqlite_db.connect() as conn:
        assert (effects.state_of(conn, ids["done"]), effects.state_of(conn, 10_000)) == ("done", None)
