"""Read target systems back: ticket changes and staff answers.

Only objects the hub has a link to are considered (links are the only way
to find a counterpart).  What the hub wrote itself is recognised by its link
and never treated as news, so two-way sync cannot ping-pong.  A public staff
comment on a ticket becomes an outbound interaction and a reply effect for
every customer interaction behind that ticket.
"""

from __future__ import annotations

from sqlalchemy import Connection

from continuum import failpoints
from continuum.config import TargetSpec
from continuum.connector import JSON, Page, SourceRecord
from continuum.engine import answers, expert
from continuum.engine.context import RunStats, SyncContext
from continuum.engine.overrides import override
from continuum.engine.pauses import until_window_spent
from continuum.kit.cursors import cursor_json
from continuum.mapping import MappingError, MappingFile, map_inbound
from continuum.policy.overrides import from_labels
from continuum.store import interactions
from continuum.store.audit import audit
from continuum.store.base import content_hash
from continuum.store.cursors import get_cursor, save_cursor
from continuum.store.db import utcnow
from continuum.store.dead_letters import dead_letter
from continuum.store.feature_requests import shipped_at
from continuum.store.links import add_link, find_links, touch_link
from continuum.store.rows import LinkRow


def read_target(ctx: SyncContext, target: TargetSpec) -> RunStats:
    stats = RunStats()
    if not target.stream:
        return stats
    connector = ctx.connector(target.system)
    with ctx.db.connect() as conn:
        cursor = get_cursor(conn, ctx.pipeline_name, target.system, target.stream)
    for page in until_window_spent(connector.read_changes(target.stream, cursor), ctx, stats,
                                   target.system):
        with ctx.db.begin() as conn:
            _ingest(conn, ctx, target, page, stats)
            stored = cursor_json(page.cursor)
            if stored is not None:
                save_cursor(conn, ctx.pipeline_name, target.system, target.stream, stored)
        failpoints.hit(f"after_page:{target.system}")
        ctx.tick(f"read back {target.system}", len(page.records))
    return stats


def _ingest(conn: Connection, ctx: SyncContext, target: TargetSpec, page: Page, stats: RunStats) -> None:
    ticket_mapping = ctx.mapping(target.mapping)
    records = expert.take_replies(conn, ctx, target, page.records, stats)  # replies in a ticket's chat thread
    tickets = [r for r in records if r.object_type == ticket_mapping.object]
    others = [r for r in records if r.object_type != ticket_mapping.object]
    ticket_links = find_links(conn, target.system, ticket_mapping.object, [r.external_id for r in tickets])
    for record in tickets:
        stats.add("tickets_read")
        link = ticket_links.get(record.external_id)
        if link is None:
            continue  # not a ticket the hub made
        _ticket_changed(conn, ctx, target, record, link, stats)
    if others and target.comment_mapping:
        comment_mapping = ctx.mapping(target.comment_mapping)
        comments = [r for r in others if r.object_type == comment_mapping.object]
        known = find_links(conn, target.system, comment_mapping.object, [r.external_id for r in comments])
        parents = find_links(conn, target.system, ticket_mapping.object,
                             [r.parent_id for r in comments if r.parent_id])
        for record in comments:
            stats.add("comments_read")
            if record.external_id in known or record.own_key:
                # The hub's own comment (by link, or by the key it carries before the link exists),
                # or an answer already handled.
                stats.add("own_writes_skipped")
                continue
            parent = parents.get(record.parent_id or "")
            if parent is None:
                continue
            _comment(conn, ctx, target, comment_mapping, record, parent, stats)


def _ticket_changed(conn: Connection, ctx: SyncContext, target: TargetSpec, record: SourceRecord,
                    link: LinkRow, stats: RunStats) -> None:
    try:
        mapped = map_inbound(ctx.mapping(target.mapping), record.payload, {"system": ctx.system_context(target.system)})
    except MappingError as exc:
        _dead_letter(conn, ctx, target, record, exc)
        stats.add("dead_letters")
        return
    digest = content_hash(mapped)
    if digest == link["content_hash"]:
        return  # nothing changed since we last wrote or saw it: no echo
    touch_link(conn, link["id"], record.version, digest)
    if link["content_hash"] is not None:
        audit(conn, link["record_type"], link["record_id"], "ticket_changed",
              {"system": target.system, "ticket": record.external_id, "now": mapped},
              ctx.pipeline_name, target.system)
        stats.add("tickets_changed")
    _label_overrides(conn, ctx, mapped, link)
    if answers.shipped(ctx, mapped) and not _already_shipped(conn, link):
        answers.plan_notice(conn, ctx, link["record_type"], link["record_id"], stats)


def _label_overrides(conn: Connection, ctx: SyncContext, mapped: JSON, link: LinkRow) -> None:
    """A person labelled the ticket (continuum-priority-high...): that wins for every interaction behind it."""
    changes = from_labels(mapped.get("labels"))
    if not changes:
        return
    for asker in interactions.askers(conn, link["record_type"], link["record_id"]):
        current = asker.get("override") or {}
        if any(current.get(k) != v for k, v in changes.items()):
            try:
                override(conn, asker["id"], changes, ctx.rulebook.sla, who="ticket label")
            except ValueError as exc:
                audit(conn, "interaction", asker["id"], "override_rejected", {"error": str(exc)},
                      ctx.pipeline_name)


def _already_shipped(conn: Connection, link: LinkRow) -> bool:
    if link["record_type"] != "feature_request":
        return False  # a single interaction's notice is kept to once by its outbox key
    return shipped_at(conn, link["record_id"]) is not None


def _comment(conn: Connection, ctx: SyncContext, target: TargetSpec, mapping: MappingFile, record: SourceRecord,
             parent: LinkRow, stats: RunStats) -> None:
    try:
        mapped = map_inbound(mapping, record.payload, {"system": ctx.system_context(target.system)})
    except MappingError as exc:
        _dead_letter(conn, ctx, target, record, exc)
        stats.add("dead_letters")
        return
    account = ctx.system_context(target.system)["account"]
    if account is not None and account in (mapped.get("author_account_id"), mapped.get("author_handle")):
        return  # the hub's own comment whose link is still being settled by the outbox
    if not mapped.get("public"):
        stats.add("internal_comments")
        return
    now = utcnow()
    answer: JSON = {
        "source_system": target.system, "source_id": f"{record.object_type}:{record.external_id}",
        "customer_id": None, "thread_id": parent["external_id"], "direction": "outbound", "kind": "answer",
        "title": "", "text": mapped.get("text") or "", "url": parent.get("url"), "channel": target.system,
        "created_at": mapped.get("created_at"), "updated_at": mapped.get("updated_at"), "status": "closed",
        "in_reply_to": parent["record_id"] if parent["record_type"] == "interaction" else None,
        "feature_request_id": parent["record_id"] if parent["record_type"] == "feature_request" else None,
        "content_hash": content_hash(mapped), "first_seen_at": now, "last_seen_at": now,
        "is_thread_start": False,
    }
    if not interactions.insert_new(conn, [answer]):
        # Another run (another pipeline reading the same ticket) took this answer at this very
        # moment; it plans the reply. Planning ours too would answer the customer twice.
        stats.add("own_writes_skipped")
        return
    answer_id = interactions.id_of(conn, target.system, answer["source_id"])
    add_link(conn, "interaction", answer_id, target.system, record.object_type, record.external_id,
             version=record.version, content_hash_=answer["content_hash"])
    answers.plan_answer(conn, ctx, {**answer, "id": answer_id}, parent["record_type"], parent["record_id"], stats)


def _dead_letter(conn: Connection, ctx: SyncContext, target: TargetSpec, record: SourceRecord,
                 exc: MappingError) -> None:
    dead_letter(conn, pipeline=ctx.pipeline_name, system=target.system, stream=target.stream or "",
                stage="map", record_key=f"{target.stream}/{record.object_type}:{record.external_id}",
                field=exc.field,
                error=f"{target.system} {record.object_type} {record.external_id}: field {exc.field}: "
                      f"{exc.message}", payload=record.payload)
