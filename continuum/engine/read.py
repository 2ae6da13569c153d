"""Listen: read a source stream page by page into canonical interactions.

Each page is mapped and upserted in ONE transaction together with the cursor
that covers it, so a crash either keeps the whole page and its cursor or
neither: a re-run re-reads the page and the unique keys make that harmless.

A page is handled in bulk, because per-record statements made the store the
bottleneck (about 15 statements per record): one query finds the page's
existing interactions, one finds its known authors, new interactions go in
with one multi-row insert, audit events with one more, and dead letters the
page heals are resolved with one update.  Only records that changed cost a
statement each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from continuum import failpoints
from continuum.config import SourceSpec
from continuum.connector import JSON, Page, SourceRecord
from continuum.engine.apply import UnknownHubObjects
from continuum.engine.attachments import record_read
from continuum.engine.context import RunStats, SyncContext
from continuum.engine.deletions import delete_record
from continuum.engine.identity import follow_renames, resolve_customer, resolve_new_customers
from continuum.engine.pauses import until_window_spent
from continuum.kit.cursors import cursor_json
from continuum.mapping import MappingError, MappingFile, map_inbound
from continuum.store import first_contacts, interactions, outbox
from continuum.store.audit import audit, audit_many
from continuum.store.base import content_hash
from continuum.store.cursors import get_cursor, save_cursor
from continuum.store.customers import owners_of
from continuum.store.db import utcnow
from continuum.store.dead_letters import dead_letter, resolve_dead_letters
from continuum.store.deletions import tombstoned
from continuum.store.links import find_links
from continuum.store.rows import LinkRow
from continuum.store.statistics import StatisticsKeeper

# Canonical fields stored on the interaction row (others feed identity or rules).
STORED_FIELDS = ("thread_id", "parent_id", "kind", "title", "text", "language", "url", "channel",
                 "created_at", "updated_at")


def record_key(record: SourceRecord) -> str:
    return f"{record.object_type}:{record.external_id}"


def external_id(source_id: str) -> str:
    """The platform's own id in a stored source id (``object_type:external_id``; the id may hold colons)."""
    return source_id.partition(":")[2] if ":" in source_id else source_id


def read_source(ctx: SyncContext, source: SourceSpec) -> RunStats:
    stats = RunStats()
    connector = ctx.connector(source.system)
    mapping = ctx.mapping(source.mapping)
    with ctx.db.connect() as conn:
        cursor = get_cursor(conn, ctx.pipeline_name, source.system, source.stream, source.partition)
    statistics = StatisticsKeeper(ctx.db)
    # A spent rate-limit window ends the stream cleanly: committed pages keep their cursor.
    for page in until_window_spent(connector.read_changes(source.stream, cursor), ctx, stats,
                                   source.system):
        with ctx.db.begin() as conn:
            ingest_page(conn, ctx, source, mapping, page, stats)
            stored = cursor_json(page.cursor)
            if stored is not None:
                save_cursor(conn, ctx.pipeline_name, source.system, source.stream, stored, source.partition)
        failpoints.hit(f"after_page:{source.system}")
        stats.add("pages")
        statistics.grew(stats.counts.get("interactions_created", 0) - statistics.added)
        ctx.tick(f"read {source.system}/{source.stream}", len(page.records))
    return stats


@dataclass
class _Mapped:
    record: SourceRecord
    canonical: JSON
    source_id: str
    digest: str


def ingest_page(conn: Connection, ctx: SyncContext, source: SourceSpec, mapping: MappingFile, page: Page,
                stats: RunStats) -> None:
    system = source.system
    own_links = _links_by_record(conn, system, page.records)
    system_ctx = ctx.system_context(system)
    _refuse_unknown_own_writes(conn, ctx, system, page.records, own_links)
    # Deleted by their authors: never created again, whatever a later read serves.
    gone = tombstoned(conn, system, [record_key(r) for r in page.records])
    mapped: list[_Mapped] = []
    for record in page.records:
        stats.add("records_read")
        link = own_links.get((record.object_type, record.external_id))
        if link is not None or record.own_key:
            # Something the hub itself wrote (a reply, a comment): reading it back is not news, even
            # before its link exists (a crash between the write and the outbox recording it).
            stats.add("own_writes_skipped")
            continue
        source_id = record_key(record)
        if source_id in gone:
            stats.add("deleted_skipped")
            continue
        if record.deleted:
            delete_record(conn, ctx, source, source_id, stats)
            gone.add(source_id)
            continue
        if record.problem is not None:
            _dead_letter(conn, ctx, source, record, *record.problem)
            stats.add("dead_letters")
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
        mapped.append(_Mapped(record, canonical, record_key(record), _digest(canonical)))
    mapped = [m for m in mapped if m.source_id not in gone]  # a copy before its deletion in the same page
    account = system_ctx["account"]
    renamed = follow_renames(conn, system, [m.canonical for m in mapped if not _own(account, m.canonical)],
                             ctx.pipeline_name)
    if renamed:
        stats.add("handles_changed", renamed)
    if len({m.source_id for m in mapped}) < len(mapped):
        # The same object twice in one page: the record-by-record path keeps its
        # "later copy updates the earlier" semantics without special cases here.
        for item in mapped:
            stats.add(f"interactions_{upsert_interaction(conn, ctx, system, item.record, item.canonical)}")
    else:
        _upsert_page(conn, ctx, system, mapped, stats)
    if ctx.pipeline.attachments is not None:
        added = record_read(conn, system, [(m.source_id, m.record) for m in mapped])
        if added:
            stats.add("attachments_read", added)
    resolve_dead_letters(conn, system, "map", [f"{source.stream}/{m.source_id}" for m in mapped])


def _refuse_unknown_own_writes(conn: Connection, ctx: SyncContext, system: str, records: Sequence[SourceRecord],
                               links: dict[tuple[str, str], LinkRow]) -> None:
    """The hub's own writes, unlinked, under keys the outbox never planned: the store lost them (one query a page).

    Unlinked under a key the outbox holds is a crash between the write and its record: recovered by the key."""
    if ctx.recovering or ctx.force:
        return
    unlinked = {r.own_key: r for r in records if r.own_key and (r.object_type, r.external_id) not in links}
    unknown = set(unlinked) - outbox.known_keys(conn, list(unlinked))
    if unknown:
        raise UnknownHubObjects(system, len(unknown), sorted(f"{unlinked[k].object_type} {unlinked[k].external_id}"
                                                             for k in unknown))


def _links_by_record(conn: Connection, system: str, records: Sequence[SourceRecord]) -> dict[
        tuple[str, str], LinkRow]:
    by_type: dict[str, list[str]] = {}
    for record in records:
        by_type.setdefault(record.object_type, []).append(record.external_id)
    found: dict[tuple[str, str], LinkRow] = {}
    for object_type, ids in by_type.items():
        for external_id, link in find_links(conn, system, object_type, ids).items():
            found[(object_type, external_id)] = link
    return found


def _dead_letter(conn: Connection, ctx: SyncContext, source: SourceSpec, record: SourceRecord, field: str,
                 message: str) -> None:
    key = f"{source.stream}/{record_key(record)}"
    dead_letter(
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


def _digest(canonical: JSON) -> str:
    return content_hash({k: canonical.get(k) for k in sorted(canonical)})


def _stored_values(canonical: JSON) -> JSON:
    values = {name: canonical.get(name) for name in STORED_FIELDS}
    values["thread_id"] = None if values["thread_id"] is None else str(values["thread_id"])
    values["parent_id"] = None if values["parent_id"] is None else str(values["parent_id"])
    values["kind"] = values["kind"] or "unknown"
    values["title"] = values["title"] or ""
    values["text"] = values["text"] or ""
    return values


def _new_row(system: str, source_id: str, canonical: JSON, digest: str, own: bool,
             customer_id: int | None, now: Any) -> JSON:
    direction = canonical.get("direction") or ("outbound" if own else "inbound")
    return {
        **_stored_values(canonical), "source_system": system, "source_id": source_id, "customer_id": customer_id,
        "direction": direction, "status": "new",  # outbound too: triage stops the thread's SLA clock
        "content_hash": digest, "first_seen_at": now, "last_seen_at": now,
        "is_thread_start": bool(canonical.get("is_thread_start")),
    }


def _created_audit(row: JSON, canonical: JSON) -> JSON:
    # The author's account is kept so that `continuum customers split` knows who wrote what.
    return {"kind": row["kind"], "direction": row["direction"], "customer_id": row["customer_id"],
            "author_account_id": str(canonical.get("author_account_id"))}


def _upsert_page(conn: Connection, ctx: SyncContext, system: str, mapped: Sequence[_Mapped],
                 stats: RunStats) -> None:
    """The bulk form of :func:`upsert_interaction` for a page without repeated objects."""
    if not mapped:
        return
    existing = interactions.stored_versions(conn, system, [m.source_id for m in mapped])
    now = utcnow()
    account = ctx.system_context(system)["account"]
    fresh = [m for m in mapped if m.source_id not in existing]
    authors = [m for m in fresh if not _own(account, m.canonical)]
    customers = _known_customers(conn, system, authors)
    # First seen: their customers and identities made in bulk, not five statements each.
    customers.update(resolve_new_customers(conn, system, [
        m.canonical for m in authors if str(m.canonical["author_account_id"]) not in customers]))
    updates: dict[int, JSON] = {}
    rows: list[JSON] = []
    # (action, source id, changes) in record order, so audit ids follow the page's order.
    audits: list[tuple[str, str, JSON]] = []
    for item in mapped:
        found = existing.get(item.source_id)
        if found is not None and found.content_hash == item.digest:
            stats.add("interactions_unchanged")
            continue
        if found is not None:
            values = _stored_values(item.canonical)
            updates[found.id] = {**values, "content_hash": item.digest, "last_seen_at": now}
            audits.append(("updated", item.source_id, {"text": values["text"]}))
            stats.add("interactions_updated")
            continue
        own = _own(account, item.canonical)
        customer_id = None
        if not own:
            # The company's own account speaks for the company; it is nobody's customer.
            account_id = str(item.canonical["author_account_id"])
            customer_id = customers.get(account_id)
            if customer_id is None:
                customer_id = customers[account_id] = resolve_customer(conn, system, item.canonical)
        row = _new_row(system, item.source_id, item.canonical, item.digest, own, customer_id, now)
        rows.append(row)
        audits.append(("created", item.source_id, _created_audit(row, item.canonical)))
        stats.add("interactions_created")
    interactions.update_rows(conn, updates)
    ids = {source_id: row.id for source_id, row in existing.items()}
    if rows:
        ids.update(interactions.insert_new_ids(conn, system, rows))
        _record_first_contacts(conn, [(ids[row["source_id"]], row) for row in rows])
    audit_many(conn, [
        {"record_type": "interaction", "record_id": ids[source_id], "action": action, "changes": changes,
         "pipeline": ctx.pipeline_name, "system": system} for action, source_id, changes in audits])


def _record_first_contacts(conn: Connection, stored: Sequence[tuple[int, JSON]]) -> None:
    """The lowest new inbound interaction of each customer: their first contact, unless one came before."""
    firsts: dict[int, int] = {}
    for interaction_id, row in stored:
        if row["direction"] == "inbound" and row["customer_id"] is not None:
            customer_id = int(row["customer_id"])
            firsts[customer_id] = min(interaction_id, firsts.get(customer_id, interaction_id))
    first_contacts.record(conn, firsts)


def _own(account: str | None, canonical: JSON) -> bool:
    return account is not None and account in (canonical.get("author_handle"), canonical.get("author_account_id"))


def _known_customers(conn: Connection, system: str, items: Sequence[_Mapped]) -> dict[str, int]:
    """Customers of the page's authors who already have this system's identity, in one query.

    This is the first step of :func:`resolve_customer` ("the same account in
    the same system is the same customer") done for the whole page; authors
    seen for the first time still go through ``resolve_customer`` one by one.
    """
    accounts = sorted({str(m.canonical["author_account_id"]) for m in items})
    if not accounts:
        return {}
    return owners_of(conn, system, accounts)


def upsert_interaction(conn: Connection, ctx: SyncContext, system: str, record: SourceRecord,
                       canonical: JSON) -> str:
    """Insert or update one interaction; returns created | updated | unchanged."""
    source_id = record_key(record)
    digest = _digest(canonical)
    existing = interactions.stored_version(conn, system, source_id)
    if existing is not None and existing.content_hash == digest:
        return "unchanged"
    now = utcnow()
    if existing is not None:
        values = _stored_values(canonical)
        interactions.update_interaction(conn, existing.id, **values, content_hash=digest, last_seen_at=now)
        audit(conn, "interaction", existing.id, "updated", {"text": values["text"]}, ctx.pipeline_name, system)
        return "updated"
    own = _own(ctx.system_context(system)["account"], canonical)
    customer_id = None if own else resolve_customer(conn, system, canonical)
    row = _new_row(system, source_id, canonical, digest, own, customer_id, now)
    interactions.insert_new(conn, [row])
    created = interactions.id_of(conn, system, source_id)
    _record_first_contacts(conn, [(created, row)])
    audit(conn, "interaction", created, "created", _created_audit(row, canonical), ctx.pipeline_name, system)
    return "created"
