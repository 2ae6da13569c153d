"""Named queries for ``continuum history``: everything the store knows about one record."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Connection, or_, select

from continuum.connector import JSON
from continuum.store.rows import DeadLetterRow, InteractionRow, LinkRow, OutboxRow
from continuum.store.tables import audit_events, dead_letters, interactions, links, outbox


def _dicts(result: Any) -> list[Any]:
    return [dict(row) for row in result.mappings()]


def interaction_by_reference(conn: Connection, reference: str) -> list[InteractionRow]:
    """Interactions a person may name: an id, a source id (``post:12``), or the URL of the post.

    An answer read back from a ticket carries the ticket's URL; that URL names the ticket instead."""
    by_url = (interactions.c.url == reference) & (interactions.c.kind != "answer")
    query = select(interactions).where(or_(interactions.c.source_id == reference, by_url))
    if reference.isdigit():
        query = select(interactions).where(or_(interactions.c.id == int(reference),
                                               interactions.c.source_id == reference))
    return cast(list[InteractionRow], _dicts(conn.execute(query.order_by(interactions.c.id))))


def links_by_reference(conn: Connection, reference: str) -> list[LinkRow]:
    """Links a person may name: a ticket key (``PROD-12``, the end of its URL), its URL, or its external id."""
    return cast(list[LinkRow], _dicts(conn.execute(select(links).where(or_(
        links.c.external_id == reference, links.c.url == reference, links.c.url.like(f"%/browse/{reference}"),
        links.c.url.like(f"%/{reference}"))).order_by(links.c.id))))


def interactions_of_feature_request(conn: Connection, feature_request_id: int) -> list[InteractionRow]:
    return cast(list[InteractionRow], _dicts(conn.execute(select(interactions).where(
        interactions.c.feature_request_id == feature_request_id, interactions.c.direction == "inbound")
        .order_by(interactions.c.id))))


def events_of(conn: Connection, record_type: str, record_id: int) -> list[JSON]:
    return _dicts(conn.execute(select(audit_events).where(
        audit_events.c.record_type == record_type, audit_events.c.record_id == record_id)
        .order_by(audit_events.c.id)))


def effects_of(conn: Connection, record_type: str, record_id: int) -> list[OutboxRow]:
    return cast(list[OutboxRow], _dicts(conn.execute(select(outbox).where(
        outbox.c.record_type == record_type, outbox.c.record_id == record_id).order_by(outbox.c.id))))


def posts_answering(conn: Connection, interaction_id: int, system: str) -> list[OutboxRow]:
    """Replies and notices posted in the interaction's thread that answer it (their context names it)."""
    rows = cast(list[OutboxRow], _dicts(conn.execute(select(outbox).where(
        outbox.c.system == system, outbox.c.action == "reply").order_by(outbox.c.id))))
    return [row for row in rows if interaction_id in ((row["context"] or {}).get("answers_interaction_ids") or [])]


def links_of(conn: Connection, record_type: str, record_id: int) -> list[LinkRow]:
    return cast(list[LinkRow], _dicts(conn.execute(select(links).where(
        links.c.record_type == record_type, links.c.record_id == record_id).order_by(links.c.id))))


def answers_to(conn: Connection, interaction_id: int) -> list[InteractionRow]:
    return cast(list[InteractionRow], _dicts(conn.execute(select(interactions).where(
        interactions.c.in_reply_to == interaction_id).order_by(interactions.c.id))))


def letters_about(conn: Connection, record_keys: list[str], source_id: str) -> list[DeadLetterRow]:
    """Dead letters of the record: by its letter keys, its effects' keys, or (a mapping failure) its source id."""
    return cast(list[DeadLetterRow], _dicts(conn.execute(select(dead_letters).where(or_(
        dead_letters.c.record_key.in_(record_keys or ["-"]), dead_letters.c.record_key.like(f"%/{source_id}")))
        .order_by(dead_letters.c.id))))


def urls_of(conn: Connection, external_ids: list[str]) -> dict[tuple[str, str], str]:
    """(system, external id) → the URL the hub recorded for that object."""
    if not external_ids:
        return {}
    rows = conn.execute(select(links.c.system, links.c.external_id, links.c.url).where(
        links.c.external_id.in_(external_ids)))
    return {(row.system, row.external_id): row.url for row in rows if row.url}
