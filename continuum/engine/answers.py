"""Answer back, and tell everyone when it ships.

A ticket stands for one interaction or for a feature request's many.  A
public answer on it goes back once to each thread behind it, on that
thread's own channel (a thread with the request and three "+1"s gets one
reply, not four), and every interaction in that thread becomes answered.
When a feature request ships, every customer who asked is told once: in
the thread of their first request for it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from continuum.engine import outbox
from continuum.engine.context import RunStats, SyncContext
from continuum.mapping import MappingError, map_outbound
from continuum.store import repo
from continuum.store.db import utcnow
from continuum.store.tables import feature_requests, interactions

Thread = tuple[str, str]


def askers(conn: Connection, record_type: str, record_id: int) -> list[dict[str, Any]]:
    """The inbound interactions a ticket stands for, oldest first."""
    if record_type == "interaction":
        where = interactions.c.id == record_id
    elif record_type == "feature_request":
        where = interactions.c.feature_request_id == record_id
    else:
        return []
    rows = conn.execute(select(interactions).where(where, interactions.c.direction == "inbound")
                        .order_by(interactions.c.id)).mappings()
    return [dict(row) for row in rows]


def _by_thread(rows: list[dict[str, Any]]) -> dict[Thread, list[dict[str, Any]]]:
    threads: dict[Thread, list[dict[str, Any]]] = {}
    for row in rows:
        threads.setdefault((row["source_system"], str(row["thread_id"] or row["source_id"])), []).append(row)
    return threads


def plan_answer(conn: Connection, ctx: SyncContext, answer: dict[str, Any], record_type: str,
                record_id: int, stats: RunStats) -> None:
    for (system, thread), rows in _by_thread(askers(conn, record_type, record_id)).items():
        subject = f"{answer['source_system']}:{answer['source_id']}>{system}:{thread}"
        if _plan(conn, ctx, "reply", subject, answer["id"], rows, {"answer": answer}):
            stats.add("replies_planned")


def shipped(ctx: SyncContext, mapped: dict[str, Any]) -> bool:
    policy = ctx.rulebook.feature_requests
    return bool(mapped.get("resolution") in policy.shipped_resolutions
                or (policy.shipped_on_release and mapped.get("released")))


def plan_notice(conn: Connection, ctx: SyncContext, record_type: str, record_id: int, stats: RunStats) -> None:
    """Tell each customer who asked, once, in the thread of their first request."""
    rows = askers(conn, record_type, record_id)
    if record_type == "feature_request":
        conn.execute(update(feature_requests).where(feature_requests.c.id == record_id).values(
            status="shipped", shipped_at=utcnow()))
        feature = dict(conn.execute(select(feature_requests).where(
            feature_requests.c.id == record_id)).mappings().one())
    else:
        feature = {"title": rows[0]["title"] if rows else "", "votes": len(rows)}
    first_thread: dict[Any, Thread] = {}
    for row in rows:
        first_thread.setdefault(row["customer_id"], (row["source_system"], str(row["thread_id"] or row["source_id"])))
    told = set(first_thread.values())
    for (system, thread), thread_rows in _by_thread(rows).items():
        if (system, thread) not in told:
            continue
        subject = f"notice:{record_type}:{record_id}>{system}:{thread}"
        if _plan(conn, ctx, "notice", subject, None, thread_rows, {"feature": feature}):
            stats.add("notices_planned")
    repo.audit(conn, record_type, record_id, "shipped", {"customers_told": len(first_thread)}, ctx.pipeline_name)


def _plan(conn: Connection, ctx: SyncContext, action: str, subject: str, answer_id: int | None,
          rows: list[dict[str, Any]], extra: dict[str, Any]) -> bool:
    from continuum.engine.triage import template_context  # triage imports modules that import this one

    first = rows[0]
    system = first["source_system"]
    mapping_name = ctx.pipeline.reply_mapping.get(system)
    if mapping_name is None or system not in ctx.connectors:
        return False
    mapping = ctx.mapping(mapping_name)
    if action not in mapping.outbound:
        return False
    context = {**template_context(conn, ctx, first, system), **extra}
    try:
        fields = map_outbound(mapping, action, context, ctx.connector(system).escape_text)
    except MappingError as exc:
        repo.dead_letter(conn, pipeline=ctx.pipeline_name, system=system, stream="outbound", stage="plan",
                         record_key=f"{action}/{subject}", field=exc.field,
                         error=f"{action} to {system} ({subject}): field {exc.field}: {exc.message}",
                         payload={"interaction_ids": [r["id"] for r in rows]})
        return False
    spec = mapping.outbound[action]
    # Replies and notices are both a post in the customer's thread for the connector.
    outbox.plan(conn, ctx, system=system, action="reply", object_type=spec.object_type or mapping.object,
                record_type="interaction", record_id=answer_id if answer_id is not None else first["id"],
                subject=subject, fields=fields, target_id=str(first["thread_id"]),
                context={"answers_interaction_ids": [r["id"] for r in rows], "in_reply_to": first["source_id"],
                         "purpose": action})
    return True
