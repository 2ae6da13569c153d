"""People's corrections of the kind, as training examples for ``continuum triage retrain``."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, select

from continuum.store.tables import interactions

BATCH = 1000


def kind_corrections(conn: Connection) -> Iterator[tuple[str, str, str]]:
    """``(title, text, kind)`` of every inbound interaction a person gave a kind (CLI or ticket label)."""
    query = (select(interactions.c.id, interactions.c.title, interactions.c.text, interactions.c.override,
                    interactions.c.is_thread_start)
             .where(interactions.c.override.is_not(None), interactions.c.direction == "inbound")
             .order_by(interactions.c.id))
    for row in conn.execute(query.execution_options(yield_per=BATCH)):
        override = row.override if isinstance(row.override, dict) else {}
        kind = override.get("kind")
        if kind:
            yield (row.title or "" if row.is_thread_start else ""), row.text or "", str(kind)
