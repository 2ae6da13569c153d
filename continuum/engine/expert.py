"""The expert answers from chat: a routed ticket's notice starts a thread, and the thread talks to the ticket.

When a ticket is made for an interaction whose team has an expert channel (the pipeline's
``expert_threads``), a notice is planned there (the chat mapping's ``expert`` action).  Once posted, its
link (object type ``thread``) ties the chat thread to the interaction, and so to its ticket: links are
the only way to find a counterpart.  The chat system is read back like any target; each reply in such a
thread becomes an internal comment on the ticket (the tracker mapping's ``expert_comment``, keyed by
the reply: once however often it is read), and a reply carrying the answer reaction (the chat system's
``answer_reaction`` option) is the answer: an outbound interaction, one reply per customer thread,
which stops the SLA clock when it is delivered, exactly like a public answer on the tracker.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from continuum.config import TargetSpec
from continuum.connector import JSON, SourceRecord
from continuum.engine import answers
from continuum.engine.context import RunStats, SyncContext
from continuum.engine.outbound import Failure, Outbound, plan_outbound
from continuum.mapping import MappingError, map_inbound
from continuum.store import interactions
from continuum.store.base import content_hash
from continuum.store.db import utcnow
from continuum.store.dead_letters import dead_letter
from continuum.store.links import add_link, find_links, link_in
from continuum.store.rows import OutboxRow

THREAD = "thread"  # the link object type of a notice that starts an expert thread
NOTE = "expert_note"  # the record type of an expert's internal comment (a comment does not re-route anything)


def ticket_made(conn: Connection, ctx: SyncContext, row: OutboxRow, ticket_id: str, url: str | None) -> None:
    """A ticket was made for an interaction: start its expert thread, if its team has a channel."""
    spec = ctx.pipeline.expert_threads
    if spec is None or row["record_type"] != "interaction" or spec.system not in ctx.connectors:
        return
    about = interactions.get_interaction(conn, row["record_id"])
    channel = None if about is None else spec.channels.get(str(about.get("team") or ""), spec.channels.get("*"))
    if about is None or channel is None:
        return
    subject = f"expert:{row['system']}:{ticket_id}"
    plan_outbound(conn, ctx, Outbound(
        system=spec.system, mapping=ctx.mapping(spec.mapping), render="expert", action="notify", object_type=THREAD,
        record_type="interaction", record_id=about["id"], subject=subject, about=about,
        extra={"ticket": {"system": row["system"], "id": ticket_id, "url": url}, "notify": {"channel": channel}},
        defaults={"channel": channel}, context={"purpose": "expert_thread", "ticket": ticket_id}),
        Failure(system=spec.system, record_key=f"expert/{subject}", about=f"expert thread for {subject}",
                payload={"interaction_id": about["id"]}))


def take_replies(conn: Connection, ctx: SyncContext, target: TargetSpec, records: Sequence[SourceRecord],
                 stats: RunStats) -> list[SourceRecord]:
    """Handle the replies in expert threads; return the other records."""
    spec = ctx.pipeline.expert_threads
    if spec is None or target.system != spec.system:
        return list(records)
    threads = find_links(conn, target.system, THREAD, [r.parent_id for r in records if r.parent_id])
    rest: list[SourceRecord] = []
    for record in records:
        link = threads.get(record.parent_id or "")
        if link is None:
            rest.append(record)
        elif not record.deleted and not record.own_key and link["record_type"] == "interaction":
            _reply(conn, ctx, target, record, link["record_id"], stats)
    return rest


def _reply(conn: Connection, ctx: SyncContext, target: TargetSpec, record: SourceRecord, interaction_id: int,
           stats: RunStats) -> None:
    about = interactions.get_interaction(conn, interaction_id)
    route = str(about.get("route") or "") if about is not None else ""
    ticket = link_in(conn, "interaction", interaction_id, route) if route else None
    tracker = next((t for t in ctx.pipeline.targets if t.system == route), None)
    if about is None or ticket is None or tracker is None:
        return
    try:
        mapped = map_inbound(ctx.mapping(target.mapping), record.payload, {"system": ctx.system_context(target.system)})
    except MappingError as exc:  # kept like any record that does not map; the rest of the page goes on
        stats.add("dead_letters")
        dead_letter(conn, pipeline=ctx.pipeline_name, system=target.system, stream=target.stream or "", stage="map",
                    record_key=f"{target.stream}/{record.object_type}:{record.external_id}", field=exc.field,
                    error=f"{target.system} {record.object_type} {record.external_id} (a reply in an expert "
                          f"thread): field {exc.field}: {exc.message}", payload=record.payload)
        return
    stats.add("expert_replies")
    expert: JSON = {"text": mapped.get("text") or "", "author": mapped.get("author_handle"), "url": mapped.get("url")}
    mapping = ctx.mapping(tracker.mapping)
    render = "expert_comment" if "expert_comment" in mapping.outbound else "comment"
    subject = f"{target.system}:{record.object_type}:{record.external_id}"
    plan_outbound(conn, ctx, Outbound(
        system=route, mapping=mapping, render=render, action="comment", object_type="comment", record_type=NOTE,
        record_id=interaction_id, subject=subject, about=about, extra={"expert": expert},
        target_id=ticket["external_id"], context={"internal": True, "purpose": NOTE}),
        Failure(system=route, record_key=f"{NOTE}/{subject}", about=f"expert note {subject} → {route}",
                payload={"interaction_id": interaction_id}))
    if _marked_as_answer(ctx, target.system, record.payload):
        _answer(conn, ctx, target, record, mapped, ticket["external_id"], interaction_id, stats)


def _marked_as_answer(ctx: SyncContext, system: str, payload: JSON) -> bool:
    wanted = str(ctx.hub.systems[system].options.get("answer_reaction") or "white_check_mark").strip(":")
    reactions: list[Any] = payload.get("reactions") or []
    return any(isinstance(r, dict) and r.get("name") == wanted and r.get("count", 1) for r in reactions)


def _answer(conn: Connection, ctx: SyncContext, target: TargetSpec, record: SourceRecord, mapped: JSON,
            ticket_id: str, interaction_id: int, stats: RunStats) -> None:
    """The marked reply goes to the customer once: its interaction is made once, and so is its reply effect."""
    now = utcnow()
    answer: JSON = {
        "source_system": target.system, "source_id": f"{record.object_type}:{record.external_id}",
        "customer_id": None, "thread_id": ticket_id, "direction": "outbound", "kind": "answer", "title": "",
        "text": mapped.get("text") or "", "url": mapped.get("url"), "channel": target.system,
        "created_at": mapped.get("created_at"), "updated_at": mapped.get("updated_at"), "status": "closed",
        "in_reply_to": interaction_id, "feature_request_id": None, "content_hash": content_hash(mapped),
        "first_seen_at": now, "last_seen_at": now, "is_thread_start": False,
    }
    if not interactions.insert_new(conn, [answer]):
        return  # answered before (a re-read, or the reaction added again): the customer hears it once
    answer_id = interactions.id_of(conn, target.system, answer["source_id"])
    add_link(conn, "interaction", answer_id, target.system, record.object_type, record.external_id,
             version=record.version, content_hash_=answer["content_hash"])
    stats.add("expert_answers")
    answers.plan_answer(conn, ctx, {**answer, "id": answer_id}, "interaction", interaction_id, stats)
