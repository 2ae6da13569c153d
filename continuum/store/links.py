"""Links: ``(record, system, external id)``, the only way the hub finds a counterpart.

The hub never searches a target system to rediscover an object: what it made
or saw there is found here, by link.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from sqlalchemy import Connection, and_, or_, select, update

from continuum.connector import JSON
from continuum.store.base import insert_ignore, insert_ignore_all
from continuum.store.db import utcnow
from continuum.store.rows import LinkRow, TicketToAnswer
from continuum.store.tables import feature_requests, links


def find_links(conn: Connection, system: str, object_type: str, external_ids: Iterable[str]) -> dict[str, LinkRow]:
    """The links of these external objects of one type, by external id."""
    ids = list(external_ids)
    if not ids:
        return {}
    rows = conn.execute(
        select(links).where(links.c.system == system, links.c.object_type == object_type,
                            links.c.external_id.in_(ids))
    ).mappings()
    return {row["external_id"]: cast(LinkRow, dict(row)) for row in rows}


def add_link(conn: Connection, record_type: str, record_id: int, system: str, object_type: str,
             external_id: str, url: str | None = None, version: str | None = None,
             content_hash_: str | None = None) -> None:
    insert_ignore(conn, links, [{
        "record_type": record_type, "record_id": record_id, "system": system, "object_type": object_type,
        "external_id": external_id, "url": url, "external_version": version,
        "content_hash": content_hash_, "synced_at": utcnow(),
    }], ["system", "object_type", "external_id"])


def add_links(conn: Connection, rows: list[JSON]) -> None:
    """:func:`add_link` for many counterparts in one statement (each: record_type, record_id, system,
    object_type, external_id, url, external_version)."""
    now = utcnow()
    insert_ignore_all(conn, links, [{"content_hash": None, **row, "synced_at": now} for row in rows],
                  ["system", "object_type", "external_id"])


def touch_link(conn: Connection, link_id: int, version: str | None, content_hash_: str | None) -> None:
    """Remember the version and content last written or seen, so reading it back again is no news."""
    conn.execute(update(links).where(links.c.id == link_id).values(
        external_version=version, content_hash=content_hash_, synced_at=utcnow()))


def has_link(conn: Connection, record_type: str, record_id: int) -> bool:
    """Whether the record has a counterpart anywhere yet (its ticket was made)."""
    return conn.execute(select(links.c.id).where(
        links.c.record_type == record_type, links.c.record_id == record_id).limit(1)).first() is not None


def link_in(conn: Connection, record_type: str, record_id: int, system: str) -> LinkRow | None:
    """The record's counterpart in ``system`` (e.g. the ticket a thread's root got)."""
    row = conn.execute(select(links).where(and_(
        links.c.record_type == record_type, links.c.record_id == record_id,
        links.c.system == system))).mappings().first()
    return None if row is None else cast(LinkRow, dict(row))


def linked_interactions(conn: Connection, interaction_ids: Iterable[int]) -> set[int]:
    """Which of these interactions have a counterpart (a ticket of their own)."""
    ids = list(interaction_ids)
    if not ids:
        return set()
    return set(conn.execute(select(links.c.record_id).where(
        links.c.record_type == "interaction", links.c.record_id.in_(ids))).scalars())


def links_of(conn: Connection, record_type: str, record_ids: Iterable[int]) -> dict[tuple[int, str], LinkRow]:
    """The counterparts of these records, by (record id, system) (one query for a page's thread roots)."""
    ids = sorted(set(record_ids))
    if not ids:
        return {}
    rows = conn.execute(select(links).where(links.c.record_type == record_type, links.c.record_id.in_(ids))
                        .order_by(links.c.id)).mappings()
    found: dict[tuple[int, str], LinkRow] = {}
    for row in rows:
        found.setdefault((int(row["record_id"]), row["system"]), cast(LinkRow, dict(row)))
    return found


def ticket_of(conn: Connection, interaction_id: int, feature_request_id: int | None) -> LinkRow | None:
    """The ticket an interaction is behind: its own, or its feature request's."""
    row = conn.execute(select(links).where(or_(
        and_(links.c.record_type == "interaction", links.c.record_id == interaction_id),
        and_(links.c.record_type == "feature_request", links.c.record_id == feature_request_id)))
        .limit(1)).mappings().first()
    return None if row is None else cast(LinkRow, dict(row))


def tickets_of(conn: Connection, interaction_ids: list[int], feature_request_ids: list[int]) -> list[LinkRow]:
    """Every counterpart of these interactions and feature requests."""
    rows = conn.execute(select(links).where(or_(
        and_(links.c.record_type == "interaction", links.c.record_id.in_(interaction_ids or [-1])),
        and_(links.c.record_type == "feature_request", links.c.record_id.in_(feature_request_ids or [-1])))))
    return [cast(LinkRow, dict(row)) for row in rows.mappings()]


def tickets_in(conn: Connection, systems: Iterable[str]) -> list[TicketToAnswer]:
    """The tickets (not comments) the hub made in ``systems``, oldest first, with their votes."""
    rows = conn.execute(
        select(links.c.system, links.c.external_id, links.c.record_type, feature_requests.c.votes, links.c.record_id)
        .join(feature_requests, and_(links.c.record_type == "feature_request",
                                     feature_requests.c.id == links.c.record_id), isouter=True)
        .where(links.c.record_type.in_(("interaction", "feature_request")), links.c.system.in_(list(systems)),
               links.c.object_type != "comment")
        .order_by(links.c.id))
    return [TicketToAnswer(*row) for row in rows]
