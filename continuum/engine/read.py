"""Listen: read a source stream page by page into canonical interactions.

Each page is mapped and upserted in ONE transaction together with the cursor
that covers it, so a crash either keeps the whole page and its cursor or
neither: a re-run re-reads the page and the unique keys make that harmless.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from continuum import failpoints
from continuum.config import SourceSpec
from continuum.connector import Page, SourceRecord
from continuum.engine.context import RunStats, SyncContext
from continuum.engine.identity import resolve_customer
from continuum.mapping import MappingError, MappingFile, map_inbound
from continuum.store import repo
from continuum.store.db import utcnow
from continuum.store.tables import interactions

# Canonical fields stored on the interaction row (others feed identity or rules).
STORED_FIELDS = ("thread_id", "parent_id", "kind", "title", "text", "language", "url", "channel",
                 "created_at", "updated_at")


def record_key(record: SourceRecord) -> str:
    return f"{record.object_type}:{record.external_id}"


def read_source(ctx: SyncContext, source: SourceSpec) -> RunStats:
    stats = RunStats()
    connector = ctx.connector(source.system)
    mapping = ctx.mapping(source.mapping)
    with ctx.db.connect() as conn:
        cursor = repo.get_cursor(conn, ctx.pipeline_name, source.system, source.stream, source.partition)
    for page in connector.read_changes(source.stream, cursor):
        with ctx.db.begin() as conn:
            ingest_page(conn, ctx, source, mapping, page, stats)
            if page.cursor is not None:
                repo.save_cursor(conn, ctx.pipeline_name, source.system, source.stream, page.cursor, source.partition)
        failpoints.hit(f"after_page:{source.system}")
        stats.add("pages")
        ctx.tick(f"read {source.system}/{source.stream}", len(page.records))
    return stats


def ingest_page(conn: Connection, ctx: SyncContext, source: SourceSpec, mapping: MappingFile, page: Page,
                stats: RunStats) -> None:
    system = source.system
    own_links = _links_by_record(conn, system, page.records)
    system_ctx = ctx.system_context(system)
    for record in page.records:
        stats.add("records_read")
        link = own_links.get((record.object_type, record.external_id))
        if link is not None:
            # Something the hub itself wrote (a reply, a comment): reading it back is not news.
            stats.add("own_writes_skipped")
            continue
        try:
            canonical = map_inbound(mapping, record.payload, {"system": system_ctx})
        except MappingError as exc:
            _dead_letter(conn, ctx, source, record, exc.field, exc.message)
            stats.add("dead_letters")
            continue
        if not canonical.get("author_account_id"):
            _dead_letter(conn, ctx, source, record, "author_account_id", "the record has no author")
            stats.add("dead_letters")
            continue
        outcome = upsert_interaction(conn, ctx, system, record, canonical)
        stats.add(f"interactions_{outcome}")
        repo.resolve_dead_letter(conn, system, "map", f"{source.stream}/{record_key(record)}")


def _links_by_record(conn: Connection, system: str, records: Any) -> dict[tuple[str, str], dict[str, Any]]:
    by_type: dict[str, list[str]] = {}
    for record in records:
        by_type.setdefault(record.object_type, []).append(record.external_id)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for object_type, ids in by_type.items():
        for external_id, link in repo.find_links(conn, system, object_type, ids).items():
            found[(object_type, external_id)] = link
    return found


def _dead_letter(conn: Connection, ctx: SyncContext, source: SourceSpec, record: SourceRecord, field: str,
                 message: str) -> None:
    key = f"{source.stream}/{record_key(record)}"
    repo.dead_letter(
        conn, pipeline=ctx.pipeline_name, system=source.system, stream=source.stream, stage="map",
        record_key=key, field=field,
        error=f"{source.system} {record.object_type} {record.external_id}: field {field}: {message}",
        payload=_safe_payload(record.payload),
    )


def _safe_payload(payload: Any) -> Any:
    """Keep the payload for replay, but never let a huge one bloat the table."""
    text = repr(payload)
    if len(text) > 200_000:
        return {"truncated": True, "preview": text[:2000], "size": len(text)}
    return payload


def upsert_interaction(conn: Connection, ctx: SyncContext, system: str, record: SourceRecord,
                       canonical: dict[str, Any]) -> str:
    """Insert or update one interaction; returns created | updated | unchanged."""
    source_id = record_key(record)
    digest = repo.content_hash({k: canonical.get(k) for k in sorted(canonical)})
    existing = conn.execute(select(interactions.c.id, interactions.c.content_hash).where(
        interactions.c.source_system == system, interactions.c.source_id == source_id)).first()
    if existing is not None and existing.content_hash == digest:
        return "unchanged"
    now = utcnow()
    values = {name: canonical.get(name) for name in STORED_FIELDS}
    values["thread_id"] = None if values["thread_id"] is None else str(values["thread_id"])
    values["parent_id"] = None if values["parent_id"] is None else str(values["parent_id"])
    values["kind"] = values["kind"] or "unknown"
    values["title"] = values["title"] or ""
    values["text"] = values["text"] or ""
    if existing is not None:
        conn.execute(update(interactions).where(interactions.c.id == existing.id).values(
            **values, content_hash=digest, last_seen_at=now))
        repo.audit(conn, "interaction", existing.id, "updated", {"text": values["text"]}, ctx.pipeline_name, system)
        return "updated"
    account = ctx.system_context(system)["account"]
    own = account is not None and account in (canonical.get("author_handle"), canonical.get("author_account_id"))
    direction = canonical.get("direction") or ("outbound" if own else "inbound")
    # The company's own account speaks for the company; it is nobody's customer.
    customer_id = None if own else resolve_customer(conn, system, canonical)
    row = {
        **values, "source_system": system, "source_id": source_id, "customer_id": customer_id,
        "direction": direction, "status": "closed" if direction == "outbound" else "new",
        "content_hash": digest, "first_seen_at": now, "last_seen_at": now,
        "is_thread_start": bool(canonical.get("is_thread_start")),
    }
    repo.insert_ignore(conn, interactions, [row], ["source_system", "source_id"])
    created = conn.execute(select(interactions.c.id).where(
        interactions.c.source_system == system, interactions.c.source_id == source_id)).scalar_one()
    repo.audit(conn, "interaction", created, "created",
               {"kind": values["kind"], "direction": direction, "customer_id": customer_id},
               ctx.pipeline_name, system)
    return "created"
