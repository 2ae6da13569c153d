"""Planner statistics kept current while a run makes the store grow.

PostgreSQL plans from statistics that autovacuum refreshes only now and then: a backfill into fresh tables
runs for minutes on "this table is empty" plans, so the per-page lookups ("which of these ids exist") scan
rows instead of using their index (3 ms, then 12 ms a call once psycopg switches to a generic plan; 0.3 ms after
``ANALYZE``).  A run therefore analyses the tables it grows each time they have doubled since it last did:
a handful of ``ANALYZE`` calls over a 100,000-record backfill, each a few milliseconds.  SQLite plans
without statistics here, so it does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text

# The tables a read grows and looks up per page.
GROWN = ("interactions", "links", "identities", "customers", "audit_events")
FIRST_AT = 500  # rows added before the first refresh: below this, a scan costs less than the ANALYZE


@dataclass
class StatisticsKeeper:
    db: Engine
    added: int = 0
    next_at: int = FIRST_AT
    refreshed: int = 0

    def grew(self, rows: int) -> None:
        """``rows`` were added (committed); refresh the statistics when the growth since the last refresh is at
        least the size then (doubling)."""
        if self.db.dialect.name != "postgresql" or rows <= 0:
            return
        self.added += rows
        if self.added < self.next_at:
            return
        with self.db.connect() as conn:
            conn.execute(text(f"ANALYZE {', '.join(GROWN)}"))
            conn.commit()
        self.refreshed += 1
        self.next_at = self.added * 2
