"""The outbox: every effect planned on an external system, recorded before the call.

States: pending → sending → done | failed (retried later) | dead (given up,
visible) | expired (retried for longer than the retry period: final, visible)
| held (the platform's policy forbids it now: offered to the connector again
on every run, never failed).
Effects wait in order per record and target object: a later one of the same
(pipeline, system, record, target) is held back while an earlier one is
pending, sending, failed or dead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, bindparam, exists, func, select, update

from continuum.connector import JSON
from continuum.store.base import insert_ignore
from continuum.store.db import utcnow
from continuum.store.rows import OutboxRow
from continuum.store.tables import outbox

OPEN_STATES = ("pending", "sending", "failed", "held")
# An earlier effect of the same record in one of these states holds the later ones back.
HOLDING_STATES = ("pending", "sending", "failed", "dead", "held")


def _rows(result: Any) -> list[OutboxRow]:
    return [cast(OutboxRow, dict(row)) for row in result.mappings()]


_BUFFER = "continuum.outbox_buffer"


def add_effect(conn: Connection, *, key: str, pipeline: str, system: str, action: str, object_type: str,
               record_type: str, record_id: int, fields: JSON, target_id: str | None, context: JSON) -> None:
    """Record a pending effect; planning the same key again is a no-op (the key is unique).

    Between :func:`buffer_effects` and :func:`flush_effects` the row waits in memory and the page's
    effects go in with one statement (the first of a key wins, as the unique key would have it)."""
    now = utcnow()
    row = {
        "idempotency_key": key, "pipeline": pipeline, "system": system, "action": action,
        "object_type": object_type, "record_type": record_type, "record_id": record_id,
        "target_id": target_id, "payload": fields, "context": context, "state": "pending",
        "attempts": 0, "created_at": now, "updated_at": now,
    }
    buffer: dict[str, JSON] | None = conn.info.get(_BUFFER)
    if buffer is not None:
        buffer.setdefault(key, row)
        return
    insert_ignore(conn, outbox, [row], ["idempotency_key"])


def buffer_effects(conn: Connection) -> None:
    """Keep this connection's planned effects in memory until :func:`flush_effects` (a triage page).

    Only for code that does not read the outbox back before the flush: nothing there sees them yet."""
    conn.info[_BUFFER] = {}


def flush_effects(conn: Connection) -> int:
    """Insert the buffered effects in plan order (one executemany) and stop buffering; returns how many went in."""
    buffer: dict[str, JSON] = conn.info.pop(_BUFFER, None) or {}
    return insert_ignore(conn, outbox, list(buffer.values()), ["idempotency_key"])


def drop_buffer(conn: Connection) -> None:
    """Forget a buffer whose transaction failed (its rows were never written)."""
    conn.info.pop(_BUFFER, None)


def _blocker(system: str, pipeline: str) -> Any:
    earlier = outbox.alias("earlier")
    return exists().where(
        earlier.c.system == system, earlier.c.pipeline == pipeline,
        earlier.c.record_type == outbox.c.record_type, earlier.c.record_id == outbox.c.record_id,
        func.coalesce(earlier.c.target_id, "") == func.coalesce(outbox.c.target_id, ""),
        earlier.c.id < outbox.c.id, earlier.c.state.in_(HOLDING_STATES))


def queue_heads(conn: Connection, system: str, pipeline: str, states: tuple[str, ...], after_id: int,
                limit: int) -> list[OutboxRow]:
    """The next effects in ``states`` that no earlier effect of their record holds back, in id order."""
    return _rows(conn.execute(
        select(outbox).where(outbox.c.system == system, outbox.c.pipeline == pipeline,
                             outbox.c.state.in_(states), outbox.c.id > after_id, ~_blocker(system, pipeline))
        .order_by(outbox.c.id).limit(limit)))


def count_held_back(conn: Connection, system: str, pipeline: str) -> int:
    """Open effects waiting behind an earlier effect of the same record."""
    return int(conn.execute(select(func.count()).select_from(outbox).where(
        outbox.c.system == system, outbox.c.pipeline == pipeline,
        outbox.c.state.in_(OPEN_STATES), _blocker(system, pipeline))).scalar_one())


def failing_since_before(conn: Connection, system: str, pipeline: str, cutoff: datetime) -> list[OutboxRow]:
    """Failed, dead or held effects that started failing (or were first held) before ``cutoff``."""
    return _rows(conn.execute(select(outbox).where(
        outbox.c.system == system, outbox.c.pipeline == pipeline,
        outbox.c.state.in_(("failed", "dead", "held")), outbox.c.retry_since < cutoff)))


def open_effects(conn: Connection, pipeline: str) -> list[OutboxRow]:
    """The pipeline's effects still to apply, by system, oldest first."""
    return _rows(conn.execute(select(outbox).where(outbox.c.pipeline == pipeline, outbox.c.state.in_(OPEN_STATES))
                              .order_by(outbox.c.system, outbox.c.id)))


def mark_sending(conn: Connection, effect_ids: list[int]) -> None:
    """The batch is about to be sent: from the commit of this on, a crash means "maybe applied"."""
    conn.execute(update(outbox).where(outbox.c.id.in_(effect_ids)).values(
        state="sending", attempts=outbox.c.attempts + 1, updated_at=utcnow()))


def set_effect(conn: Connection, effect_id: int, **values: Any) -> None:
    conn.execute(update(outbox).where(outbox.c.id == effect_id).values(**values))


def mark_done_many(conn: Connection, done: dict[int, str]) -> None:
    """Effects applied, each with the id of what it made (``effect id → external id``), in one ``executemany``."""
    if done:
        conn.execute(update(outbox).where(outbox.c.id == bindparam("effect_id")).values(
            state="done", external_id=bindparam("made"), last_error=None, updated_at=utcnow()),
            [{"effect_id": i, "made": made} for i, made in sorted(done.items())])


def mark_failed(conn: Connection, effect_id: int, *, final: bool, error: str, now: datetime) -> None:
    """A failed attempt: ``dead`` when it was the last one; the retry clock starts at the first failure."""
    conn.execute(update(outbox).where(outbox.c.id == effect_id).values(
        state="dead" if final else "failed", last_error=error, updated_at=now,
        retry_since=func.coalesce(outbox.c.retry_since, now)))


def reopen(conn: Connection, effect_id: int) -> int:
    """A failed, dead or expired effect goes out again on the next sync; returns 0 if it was none of those."""
    return int(conn.execute(update(outbox).where(
        outbox.c.id == effect_id, outbox.c.state.in_(("failed", "dead", "expired"))).values(
        state="failed", retry_since=utcnow(), updated_at=utcnow())).rowcount)


def state_of(conn: Connection, effect_id: int) -> str | None:
    return cast("str | None", conn.execute(select(outbox.c.state).where(outbox.c.id == effect_id)).scalar())


def first_attempt_keys(conn: Connection, system: str, pipeline: str, action: str) -> list[str]:
    """Keys of the open ``action`` effects never sent yet (a send would not look for an earlier one)."""
    return list(conn.execute(select(outbox.c.idempotency_key).where(
        outbox.c.system == system, outbox.c.pipeline == pipeline, outbox.c.action == action,
        outbox.c.state.in_(OPEN_STATES), outbox.c.attempts == 0).order_by(outbox.c.id)).scalars())


def known_keys(conn: Connection, keys: list[str]) -> set[str]:
    """Which of these idempotency keys the outbox holds (in any state)."""
    if not keys:
        return set()
    return set(conn.execute(select(outbox.c.idempotency_key).where(outbox.c.idempotency_key.in_(keys))).scalars())
