"""Small readers of the store for the promise tests: audit events, cursors, the interactions of a system."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from continuum.store.status import counts
from continuum.store.tables import audit_events, cursors, interactions


def audits(db: Engine, action: str | None = None, record_id: int | None = None) -> list[dict[str, Any]]:
    query = select(audit_events).order_by(audit_events.c.id)
    if action is not None:
        query = query.where(audit_events.c.action == action)
    if record_id is not None:
        query = query.where(audit_events.c.record_id == record_id)
    with db.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def audit_count(db: Engine) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_events)).scalar_one())


def store_counts(db: Engine) -> dict[str, Any]:
    with db.connect() as conn:
        return counts(conn)


def stored_cursor(db: Engine, system: str, stream: str) -> dict[str, Any] | None:
    with db.connect() as conn:
        row = conn.execute(select(cursors.c.value).where(cursors.c.system == system,
                                                         cursors.c.stream == stream)).first()
    return None if row is None else dict(row.value)


def forget_cursors(db: Engine) -> None:
    """Forget where every read stopped: the next run reads everything again."""
    with db.begin() as conn:
        conn.execute(cursors.delete())


def source_ids(db: Engine, system: str) -> list[str]:
    with db.connect() as conn:
        return [row.source_id for row in conn.execute(select(interactions.c.source_id).where(
            interactions.c.source_system == system).order_by(interactions.c.id))]


def row_of(db: Engine, system: str, source_id: str) -> dict[str, Any]:
    with db.connect() as conn:
        return dict(conn.execute(select(interactions).where(
            interactions.c.source_system == system, interactions.c.source_id == source_id)).mappings().one())
