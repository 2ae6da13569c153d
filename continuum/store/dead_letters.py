"""Dead letters: records and effects that failed, with their payload and a clear error.

States: ``open`` (waiting for a fix or a retry), ``resolved``, and
``expired`` (retried for longer than the retry period: final and visible).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, and_, func, select, update

from continuum.connector import JSON
from continuum.store.base import insert_ignore
from continuum.store.db import utcnow
from continuum.store.rows import DeadLetterRow
from continuum.store.tables import dead_letters


def dead_letter(conn: Connection, *, pipeline: str, system: str, stream: str, stage: str, record_key: str,
                error: str, payload: Any, field: str | None = None) -> None:
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


def hold_effect_letter(conn: Connection, system: str, record_key: str, state: str,
                       failing_since: datetime | None) -> None:
    """Give an effect's letter its state, and the moment its effect started failing (kept once set)."""
    conn.execute(update(dead_letters).where(
        dead_letters.c.system == system, dead_letters.c.stage == "apply", dead_letters.c.record_key == record_key,
    ).values(state=state, retry_since=func.coalesce(dead_letters.c.retry_since, failing_since or utcnow())))


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


def find_dead_letters(conn: Connection, system: str | None, error: str | None,
                      states: Sequence[str]) -> list[DeadLetterRow]:
    """Dead letters in ``states`` (``"all"`` among them: every state), oldest first."""
    query = select(dead_letters).order_by(dead_letters.c.id)
    if "all" not in states:
        query = query.where(dead_letters.c.state.in_(states))
    if system:
        query = query.where(dead_letters.c.system == system)
    if error:
        query = query.where(dead_letters.c.error.contains(error))
    return [cast(DeadLetterRow, dict(row)) for row in conn.execute(query).mappings()]


def expire_waiting(conn: Connection, cutoff: datetime, pipeline: str | None) -> int:
    """Open ``map``/``plan`` letters retried since before ``cutoff`` become ``expired``; returns how many."""
    clock = func.coalesce(dead_letters.c.retry_since, dead_letters.c.created_at)
    query = update(dead_letters).where(dead_letters.c.state == "open", dead_letters.c.stage != "apply",
                                       clock < cutoff)
    if pipeline is not None:
        query = query.where(dead_letters.c.pipeline == pipeline)
    return int(conn.execute(query.values(state="expired", updated_at=utcnow())).rowcount or 0)


# A replay outcome: the letter failed again and the stage that failed it has recorded why already.
STILL_FAILING = "still_failing"


def settle_replayed(conn: Connection, letter_id: int, outcome: str) -> None:
    """After a replay: ``replayed`` resolves the letter, ``requeued`` reopens it with a fresh retry clock,
    ``still_failing`` leaves it as the failing stage left it, anything else is its new error."""
    if outcome == STILL_FAILING:
        return
    if outcome == "replayed":
        values: JSON = {"state": "resolved", "updated_at": utcnow()}
    elif outcome == "requeued":
        # The effect runs again on the next sync; its letter stays open until it succeeds.
        values = {"state": "open", "retry_since": utcnow(), "updated_at": utcnow()}
    else:
        values = {"attempts": dead_letters.c.attempts + 1, "updated_at": utcnow(), "error": outcome}
    conn.execute(update(dead_letters).where(dead_letters.c.id == letter_id).values(**values))


def _failed_since(pipeline: str, since: datetime) -> Any:
    return and_(dead_letters.c.pipeline == pipeline, dead_letters.c.updated_at >= since,
                dead_letters.c.state.in_(("open", "expired")))


def failed_since(conn: Connection, pipeline: str, since: datetime) -> int:
    """Dead letters of ``pipeline`` that a run since ``since`` made or failed again (open or expired)."""
    return int(conn.execute(select(func.count()).select_from(dead_letters).where(
        _failed_since(pipeline, since))).scalar_one())


def letters_since(conn: Connection, pipeline: str, since: datetime) -> list[DeadLetterRow]:
    """Those dead letters themselves, oldest first."""
    return [cast(DeadLetterRow, dict(row)) for row in conn.execute(
        select(dead_letters).where(_failed_since(pipeline, since)).order_by(dead_letters.c.id)).mappings()]
