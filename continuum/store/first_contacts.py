"""Each customer's first inbound interaction: what the ``first_contact`` rule fact asks, without a history scan.

The read stage records the first inbound interaction of each customer it stores (:func:`record`).  A stored
answer is trusted only while that interaction still exists, still belongs to the customer and is inbound; a
merge or split forgets the customers it touches (:func:`forget`).  Any customer without a trusted answer is
looked up the old way, once, and the answer is kept (:func:`firsts`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from continuum.store.tables import first_contacts, interactions


def _upsert(conn: Connection, rows: list[dict[str, int]], keep_lower: bool) -> None:
    if not rows:
        return
    dialect = conn.dialect.name
    stmt: Any = postgresql.insert(first_contacts) if dialect == "postgresql" else sqlite.insert(first_contacts)
    new = stmt.excluded.interaction_id
    if keep_lower:
        # Two runs storing the same customer's posts: the lower id wins whichever commits first.
        lower = func.least if dialect == "postgresql" else func.min
        value = lower(first_contacts.c.interaction_id, new)
    else:
        value = new
    conn.execute(stmt.on_conflict_do_update(index_elements=["customer_id"], set_={"interaction_id": value}), rows)


def record(conn: Connection, firsts: dict[int, int]) -> None:
    """New inbound interactions were stored: ``customer id → the lowest new interaction id`` (one statement)."""
    _upsert(conn, [{"customer_id": c, "interaction_id": i} for c, i in sorted(firsts.items())], keep_lower=True)


def forget(conn: Connection, customer_ids: Iterable[int]) -> None:
    """These customers' interactions moved (a merge, a split): their first contact is looked up again."""
    ids = sorted(set(customer_ids))
    if ids:
        conn.execute(delete(first_contacts).where(first_contacts.c.customer_id.in_(ids)))


def firsts(conn: Connection, customer_ids: Iterable[int]) -> dict[int, int]:
    """Each customer's first inbound interaction id (customers without any are left out)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    trusted = {int(c): int(i) for c, i in conn.execute(
        select(first_contacts.c.customer_id, first_contacts.c.interaction_id).join(
            interactions, interactions.c.id == first_contacts.c.interaction_id).where(
            first_contacts.c.customer_id.in_(ids), interactions.c.customer_id == first_contacts.c.customer_id,
            interactions.c.direction == "inbound"))}
    missing = [c for c in ids if c not in trusted]
    if missing:
        # Never recorded, or its first interaction was deleted or moved: the scan, once, and kept.
        scanned = {int(c): int(i) for c, i in conn.execute(
            select(interactions.c.customer_id, func.min(interactions.c.id)).where(
                interactions.c.customer_id.in_(missing), interactions.c.direction == "inbound")
            .group_by(interactions.c.customer_id))}
        _upsert(conn, [{"customer_id": c, "interaction_id": i} for c, i in sorted(scanned.items())],
                keep_lower=False)
        trusted.update(scanned)
    return trusted
