"""The audit trail: an append-only event for each change (what, from which system, when)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from continuum.connector import JSON
from continuum.store.db import utcnow
from continuum.store.tables import audit_events

_INSERT = audit_events.insert()  # built once: the busiest insert of a run, with the interactions'


def audit(conn: Connection, record_type: str, record_id: int | None, action: str, changes: JSON,
          pipeline: str | None = None, system: str | None = None) -> None:
    conn.execute(audit_events.insert().values(
        at=utcnow(), pipeline=pipeline, system=system, record_type=record_type,
        record_id=record_id, action=action, changes=changes))


def audit_many(conn: Connection, events: list[JSON]) -> None:
    """Append many audit events in one statement (a page's worth); each is like :func:`audit`'s arguments."""
    if not events:
        return
    now = utcnow()
    conn.execute(_INSERT, [{"at": now, "pipeline": None, "system": None, **event} for event in events])


def author_of(conn: Connection, interaction_id: int) -> str | None:
    """The account that wrote an interaction, from its creation audit (None if not recorded)."""
    row = conn.execute(select(audit_events.c.changes).where(
        audit_events.c.record_type == "interaction", audit_events.c.record_id == interaction_id,
        audit_events.c.action == "created")).first()
    return None if row is None else (row.changes or {}).get("author_account_id")
