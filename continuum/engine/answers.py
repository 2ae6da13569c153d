"""Answer back, and tell everyone when it ships.

A ticket stands for one interaction or for a feature request's many.  A
public answer on it goes back once to each thread behind it, on that
thread's own channel (a thread with the request and three "+1"s gets one
reply, not four), and every interaction in that thread becomes answered.
When a feature request ships, every customer who asked is told once: in
the thread of their first request for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from continuum.connector import JSON
from continuum.engine.context import RunStats, SyncContext
from continuum.engine.conversations import conversations
from continuum.engine.outbound import Failure, Outbound, plan_outbound
from continuum.engine.read import external_id
from continuum.store import feature_requests
from continuum.store.audit import audit
from continuum.store.interactions import askers
from continuum.store.rows import InteractionRow

Thread = tuple[str, str]


def _by_thread(conn: Connection, rows: list[InteractionRow]) -> dict[Thread, list[InteractionRow]]:
    """The askers by conversation: a thread, or one commenter's branch under the company's own post."""
    threads: dict[Thread, list[InteractionRow]] = {}
    where = conversations(conn, rows)
    for row in rows:
        threads.setdefault((row["source_system"], where[row["id"]]), []).append(row)
    return threads


def plan_answer(conn: Connection, ctx: SyncContext, answer: Mapping[str, Any], record_type: str,
                record_id: int, stats: RunStats) -> None:
    for (system, thread), rows in _by_thread(conn, askers(conn, record_type, record_id)).items():
        subject = f"{answer['source_system']}:{answer['source_id']}>{system}:{thread}"
        if _plan(conn, ctx, "reply", subject, answer["id"], rows, {"answer": answer}):
            stats.add("replies_planned")


def shipped(ctx: SyncContext, mapped: JSON) -> bool:
    policy = ctx.rulebook.feature_requests
    return bool(mapped.get("resolution") in policy.shipped_resolutions
                or (policy.shipped_on_release and mapped.get("released")))


def plan_notice(conn: Connection, ctx: SyncContext, record_type: str, record_id: int, stats: RunStats) -> None:
    """Tell each customer who asked, once, in the thread of their first request."""
    rows = askers(conn, record_type, record_id)
    feature: Mapping[str, Any]
    if record_type == "feature_request":
        feature_requests.mark_shipped(conn, record_id)
        feature = dict(feature_requests.get_feature_request(conn, record_id))
    else:
        feature = {"title": rows[0]["title"] if rows else "", "votes": len(rows)}
    first_thread: dict[Any, Thread] = {}
    where = conversations(conn, rows)
    for row in rows:
        first_thread.setdefault(row["customer_id"], (row["source_system"], where[row["id"]]))
    told = set(first_thread.values())
    for (system, thread), thread_rows in _by_thread(conn, rows).items():
        if (system, thread) not in told:
            continue
        subject = f"notice:{record_type}:{record_id}>{system}:{thread}"
        if _plan(conn, ctx, "notice", subject, None, thread_rows, {"feature": feature}):
            stats.add("notices_planned")
    audit(conn, record_type, record_id, "shipped", {"customers_told": len(first_thread)}, ctx.pipeline_name)


def _plan(conn: Connection, ctx: SyncContext, action: str, subject: str, answer_id: int | None,
          rows: list[InteractionRow], extra: JSON) -> bool:
    """A post in the thread of ``rows`` (a reply or a notice), if the channel's mapping says how to write it."""
    first = rows[0]
    system = first["source_system"]
    mapping_name = ctx.pipeline.reply_mapping.get(system)
    if mapping_name is None or system not in ctx.connectors:
        return False
    mapping = ctx.mapping(mapping_name)
    if action not in mapping.outbound:
        return False
    ids = [r["id"] for r in rows]
    # Replies and notices are both a post in the customer's thread for the connector.
    return plan_outbound(conn, ctx, Outbound(
        system=system, mapping=mapping, render=action, action="reply",
        object_type=mapping.outbound[action].object_type or mapping.object, record_type="interaction",
        record_id=answer_id if answer_id is not None else first["id"], subject=subject,
        target_id=str(first["thread_id"]), about=first, extra=extra,
        context={"answers_interaction_ids": ids, "in_reply_to": external_id(first["source_id"]), "purpose": action}),
        Failure(system=system, record_key=f"{action}/{subject}", about=f"{action} to {system} ({subject})",
                payload={"interaction_ids": ids})) is not None
