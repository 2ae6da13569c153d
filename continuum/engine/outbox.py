"""Effects: planned into the outbox, then applied in batches, each exactly once.

The life of an effect:

1. ``plan`` records it with a deterministic idempotency key (re-planning the
   same thing is a no-op thanks to the unique key).
2. ``apply`` marks a batch ``sending`` and COMMITS before calling the system.
   A crash after that leaves ``attempts > 0``; the next run hands the effect
   to the connector with ``maybe_applied=True`` and the connector looks for
   the object made under the key before creating anything.
3. The results, the links they create and the record status changes are
   committed together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, select, update

from continuum import failpoints
from continuum.connector import Effect, EffectResult
from continuum.engine.context import RunStats, SyncContext
from continuum.store import repo
from continuum.store.db import utcnow
from continuum.store.tables import interactions, outbox

OPEN_STATES = ("pending", "sending", "failed")
DEFAULT_BATCH = 50


def effect_key(pipeline: str, system: str, action: str, subject: str) -> str:
    digest = hashlib.sha256(f"{pipeline}|{system}|{action}|{subject}".encode()).hexdigest()
    return f"ck-{digest[:24]}"


def plan(conn: Connection, ctx: SyncContext, *, system: str, action: str, object_type: str, record_type: str,
         record_id: int, subject: str, fields: dict[str, Any], target_id: str | None = None,
         context: dict[str, Any] | None = None) -> str:
    """Record an effect to apply later; ``subject`` is the stable identity of what it is about."""
    key = effect_key(ctx.pipeline_name, system, action, subject)
    now = utcnow()
    repo.insert_ignore(conn, outbox, [{
        "idempotency_key": key, "pipeline": ctx.pipeline_name, "system": system, "action": action,
        "object_type": object_type, "record_type": record_type, "record_id": record_id,
        "target_id": target_id, "payload": fields, "context": context or {}, "state": "pending",
        "attempts": 0, "created_at": now, "updated_at": now,
    }], ["idempotency_key"])
    return key


# What a successful effect does to the record it was planned for.
OnSuccess = Callable[[Connection, dict[str, Any], EffectResult], None]


def _mark_interaction(status: str, which: str = "record_id") -> OnSuccess:
    def apply(conn: Connection, row: dict[str, Any], _result: EffectResult) -> None:
        target = row["context"].get(which) if which != "record_id" else row["record_id"]
        if target is not None:
            conn.execute(update(interactions).where(interactions.c.id == int(target)).values(status=status))
    return apply


ON_SUCCESS: dict[str, OnSuccess] = {
    "create": _mark_interaction("routed"),
    "comment": _mark_interaction("routed"),
    "reply": _mark_interaction("answered", which="answers_interaction_id"),
}


def apply_effects(ctx: SyncContext, system: str) -> RunStats:
    """Apply every open effect for ``system``, in batches the connector can take at once."""
    stats = RunStats()
    connector = ctx.connector(system)
    last_id = 0
    while True:
        with ctx.db.connect() as conn:
            rows = [dict(r) for r in conn.execute(
                select(outbox).where(outbox.c.system == system, outbox.c.pipeline == ctx.pipeline_name,
                                     outbox.c.state.in_(OPEN_STATES), outbox.c.id > last_id)
                .order_by(outbox.c.id).limit(500)).mappings()]
        if not rows:
            return stats
        last_id = rows[-1]["id"]
        by_action: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_action.setdefault(row["action"], []).append(row)
        for action, group in by_action.items():
            size = max(1, connector.capabilities.bulk_sizes.get(action, DEFAULT_BATCH))
            for start in range(0, len(group), size):
                _apply_batch(ctx, system, group[start:start + size], stats)


def _apply_batch(ctx: SyncContext, system: str, batch: Sequence[dict[str, Any]], stats: RunStats) -> None:
    ids = [row["id"] for row in batch]
    with ctx.db.begin() as conn:
        # Committed before the call: from here on, a crash means "maybe applied".
        conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(
            state="sending", attempts=outbox.c.attempts + 1, updated_at=utcnow()))
    effects = [Effect(key=row["idempotency_key"], action=row["action"], object_type=row["object_type"],
                      fields=row["payload"], target_id=row["target_id"], maybe_applied=row["attempts"] > 0,
                      context=row["context"]) for row in batch]
    try:
        results = ctx.connector(system).write(effects)
    except Exception as exc:  # the whole batch failed; each effect stays retryable
        results = [EffectResult(key=e.key, ok=False, error=f"{type(exc).__name__}: {exc}") for e in effects]
    failpoints.hit(f"after_write:{system}")
    by_key = {result.key: result for result in results}
    with ctx.db.begin() as conn:
        for row in batch:
            result = by_key.get(row["idempotency_key"]) or EffectResult(
                key=row["idempotency_key"], ok=False, error="the connector returned no result for this effect")
            _settle(conn, ctx, system, row, result, stats)
    ctx.tick(f"apply {system}", len(batch))


def _settle(conn: Connection, ctx: SyncContext, system: str, row: dict[str, Any], result: EffectResult,
            stats: RunStats) -> None:
    now = utcnow()
    if result.ok and result.external_id:
        conn.execute(update(outbox).where(outbox.c.id == row["id"]).values(
            state="done", external_id=result.external_id, last_error=None, updated_at=now))
        repo.add_link(conn, row["record_type"], row["record_id"], system, result.object_type or row["object_type"],
                      result.external_id, url=result.url, version=result.version)
        handler = ON_SUCCESS.get(row["action"])
        if handler is not None:
            handler(conn, row, result)
        repo.audit(conn, row["record_type"], row["record_id"], f"{row['action']}_applied",
                   {"system": system, "external_id": result.external_id, "found_existing": result.found_existing},
                   ctx.pipeline_name, system)
        stats.add(f"{row['action']}_found" if result.found_existing else f"{row['action']}_applied")
        return
    if result.ok:  # an effect with nothing to link (e.g. a transition)
        conn.execute(update(outbox).where(outbox.c.id == row["id"]).values(state="done", updated_at=now))
        stats.add(f"{row['action']}_applied")
        return
    attempts = row["attempts"] + 1
    final = attempts >= ctx.max_attempts
    conn.execute(update(outbox).where(outbox.c.id == row["id"]).values(
        state="dead" if final else "failed", last_error=result.error, updated_at=now))
    stats.add("effects_failed")
    if final:
        repo.dead_letter(conn, pipeline=ctx.pipeline_name, system=system, stream=row["action"], stage="apply",
                         record_key=row["idempotency_key"], field=None,
                         error=f"{system} {row['action']} {row['idempotency_key']}: {result.error}",
                         payload={"outbox_id": row["id"], "fields": row["payload"]})
