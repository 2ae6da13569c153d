"""The inbox: webhook deliveries the receiver accepted, waiting for a run to take them in.

The receiver commits a row before it answers 2xx (:func:`add_delivery`), so a crash after the answer
loses nothing; the unique ``(system, delivery_id)`` makes a replayed delivery a no-op whichever receiver
it reaches.  ``continuum inbox process`` lists what is pending (:func:`pending`), runs the pipelines that
read those systems, and settles the rows it covered (:func:`settle`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, or_, select, update

from continuum.store.base import insert_ignore
from continuum.store.db import utcnow
from continuum.store.tables import inbox

PENDING, PROCESSED, SKIPPED = "pending", "processed", "skipped"
# A delivery announced this long ago and still pending is announced again (its run never took it).
REANNOUNCE_S = 30.0


@dataclass(frozen=True)
class PendingDelivery:
    id: int
    system: str
    delivery_id: str
    event_type: str


def add_delivery(conn: Connection, *, system: str, delivery_id: str, event_type: str, subjects: Sequence[str],
                 body: str | None, wake: bool = True) -> bool:
    """Keep one accepted delivery; False when the inbox has it already (a replay or a vendor's retry)."""
    now = utcnow()
    row = {"system": system, "delivery_id": delivery_id[:256], "event_type": event_type[:128],
           "subjects": list(subjects), "body": body if wake else None, "state": PENDING if wake else SKIPPED,
           "received_at": now, "processed_at": None if wake else now, "attempts": 0}
    return insert_ignore(conn, inbox, [row], ["system", "delivery_id"]) == 1


def pending(conn: Connection, limit: int = 10_000) -> list[PendingDelivery]:
    """The oldest pending deliveries first (a run covers all of a system's, so a page of ids is enough)."""
    query = (select(inbox.c.id, inbox.c.system, inbox.c.delivery_id, inbox.c.event_type)
             .where(inbox.c.state == PENDING).order_by(inbox.c.id).limit(limit))
    return [PendingDelivery(*row) for row in conn.execute(query)]


def settle(conn: Connection, ids: Sequence[int], state: str = PROCESSED, note: str | None = None) -> int:
    """Mark deliveries done; their bodies go (a run read the records through the system's API)."""
    if not ids:
        return 0
    result = conn.execute(update(inbox).where(inbox.c.id.in_(list(ids)), inbox.c.state == PENDING).values(
        state=state, processed_at=utcnow(), body=None, last_error=note))
    return int(result.rowcount or 0)


def note_failure(conn: Connection, ids: Sequence[int], error: str) -> None:
    """A run for them could not finish: they stay pending for the next one, with why."""
    if ids:
        conn.execute(update(inbox).where(inbox.c.id.in_(list(ids))).values(
            attempts=inbox.c.attempts + 1, last_error=error[:2000]))


def announce_new(conn: Connection, now: datetime | None = None, again_after_s: float = REANNOUNCE_S) -> int:
    """Mark pending deliveries not yet announced to Airflow, or announced long ago and still pending (the
    run they started found the lock taken, failed or was lost); how many there were (0: nothing to do).

    One UPDATE, so two watchers never both announce the same deliveries."""
    now = now or utcnow()
    stale = now - timedelta(seconds=again_after_s)
    result = conn.execute(update(inbox).where(
        inbox.c.state == PENDING, or_(inbox.c.announced_at.is_(None), inbox.c.announced_at < stale))
        .values(announced_at=now))
    return int(result.rowcount or 0)


def counts(conn: Connection) -> dict[str, int]:
    """Deliveries by state."""
    query = select(inbox.c.state, func.count()).group_by(inbox.c.state)
    return {state: int(n) for state, n in conn.execute(query)}


def delivery_count(conn: Connection, system: str | None = None) -> int:
    query = select(func.count()).select_from(inbox)
    if system is not None:
        query = query.where(inbox.c.system == system)
    return int(conn.execute(query).scalar_one())
