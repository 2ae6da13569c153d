"""Customers' attachments: which interaction carried which file, and the one stored copy per customer and content.

An attachment's bytes stay here only until its store effect is planned (:func:`mark_planned` drops them): from
then on the effect's outbox payload holds them, until the effect is done.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from continuum.connector import JSON
from continuum.store.base import insert_ignore
from continuum.store.db import utcnow
from continuum.store.tables import attachment_copies, attachments, interactions, outbox


def interactions_of(conn: Connection, system: str, source_ids: Sequence[str]) -> dict[str, tuple[int, int | None]]:
    """``source_id -> (interaction id, customer id)`` for these records of ``system`` (one query)."""
    if not source_ids:
        return {}
    rows = conn.execute(select(interactions.c.source_id, interactions.c.id, interactions.c.customer_id).where(
        interactions.c.source_system == system, interactions.c.source_id.in_(list(source_ids))))
    return {r.source_id: (r.id, r.customer_id) for r in rows}


def add_attachments(conn: Connection, rows: list[JSON]) -> int:
    """Record attachments (a file again on the same interaction, as a re-read brings it, is a no-op)."""
    now = utcnow()
    return insert_ignore(conn, attachments, [{"state": "new", "created_at": now, **row} for row in rows],
                         ["interaction_id", "sha256"])


def of_interaction(conn: Connection, interaction_id: int, state: str = "new") -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(attachments).where(
        attachments.c.interaction_id == interaction_id, attachments.c.state == state)
        .order_by(attachments.c.id)).mappings()]


def carrying(conn: Connection, interaction_ids: Sequence[int], state: str = "new") -> set[int]:
    """Which of these interactions have files in ``state`` (one query for a page)."""
    if not interaction_ids:
        return set()
    return set(conn.execute(select(attachments.c.interaction_id).where(
        attachments.c.interaction_id.in_(list(interaction_ids)), attachments.c.state == state).distinct()).scalars())


def mark_planned(conn: Connection, ids: list[int], ticket_record: int, ticket_system: str) -> None:
    """The files' store effects are planned (or copies exist): their bytes are no longer kept here."""
    if ids:
        conn.execute(update(attachments).where(attachments.c.id.in_(ids)).values(
            state="planned", content_b64=None, ticket_record=ticket_record, ticket_system=ticket_system))


def drop_content(conn: Connection, interaction_id: int) -> None:
    """The interaction gets no ticket (ignored, dropped, deleted): its files' bytes are not kept."""
    conn.execute(update(attachments).where(attachments.c.interaction_id == interaction_id,
                                           attachments.c.content_b64.is_not(None)).values(content_b64=None))


def waiting_for_links(conn: Connection, after_interaction: int, limit: int) -> list[dict[str, Any]]:
    """Planned attachments whose ticket does not link to them yet, a page of interactions after the given one."""
    ids = select(attachments.c.interaction_id).where(
        attachments.c.state == "planned", attachments.c.interaction_id > after_interaction).distinct() \
        .order_by(attachments.c.interaction_id).limit(limit)
    return [dict(r) for r in conn.execute(select(attachments).where(
        attachments.c.state == "planned", attachments.c.interaction_id.in_(ids.scalar_subquery()))
        .order_by(attachments.c.interaction_id, attachments.c.id)).mappings()]


def effect_states(conn: Connection, keys: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    """``key -> (state, last error)`` of the outbox effects under these keys."""
    if not keys:
        return {}
    rows = conn.execute(select(outbox.c.idempotency_key, outbox.c.state, outbox.c.last_error).where(
        outbox.c.idempotency_key.in_(list(keys))))
    return {r.idempotency_key: (r.state, r.last_error) for r in rows}


def mark_linked(conn: Connection, ids: list[int]) -> None:
    if ids:
        conn.execute(update(attachments).where(attachments.c.id.in_(ids)).values(state="linked"))


def copies(conn: Connection, system: str, pairs: Sequence[tuple[int, str]]) -> dict[tuple[int, str], JSON]:
    """The stored copies of these (customer id, sha256) in ``system``."""
    if not pairs:
        return {}
    wanted = list(dict.fromkeys(pairs))
    found: dict[tuple[int, str], JSON] = {}
    for start in range(0, len(wanted), 200):
        chunk = wanted[start:start + 200]
        rows = conn.execute(select(attachment_copies).where(attachment_copies.c.system == system, or_(
            *[and_(attachment_copies.c.customer_id == c, attachment_copies.c.sha256 == h) for c, h in chunk]))
        ).mappings()
        found.update({(r["customer_id"], r["sha256"]): dict(r) for r in rows})
    return found


def add_copy(conn: Connection, system: str, customer_id: int, sha256: str, external_id: str,
             url: str | None) -> None:
    """The customer's copy of this content now exists in ``system`` (a second report of it changes nothing)."""
    insert_ignore(conn, attachment_copies, [{"system": system, "customer_id": customer_id, "sha256": sha256,
                                             "external_id": external_id, "url": url, "stored_at": utcnow()}],
                  ["system", "customer_id", "sha256"])
