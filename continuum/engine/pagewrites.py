"""A page's row updates and audit events, written in a few statements instead of two per row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, update

from continuum.engine.facts import PageFacts
from continuum.store import repo
from continuum.store.tables import interactions


class PageWrites:
    def __init__(self, conn: Connection, pipeline: str, facts: PageFacts) -> None:
        self.conn = conn
        self.facts = facts
        self._pipeline = pipeline
        self._updates: dict[int, dict[str, Any]] = {}
        self._audits: list[dict[str, Any]] = []

    def set(self, row: dict[str, Any], **values: Any) -> None:
        self._updates.setdefault(row["id"], {}).update(values)
        self.facts.remember(row["id"], values)  # later rows of the page see it

    def audit(self, interaction_id: int, action: str, changes: dict[str, Any]) -> None:
        self._audits.append({"record_type": "interaction", "record_id": interaction_id, "action": action,
                             "changes": changes, "pipeline": self._pipeline})

    def flush(self) -> None:
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for interaction_id, values in self._updates.items():
            groups.setdefault(tuple(sorted(values)), []).append(
                {"row_id": interaction_id, **{f"v_{k}": v for k, v in values.items()}})
        for names, params in groups.items():
            # One executemany per set of columns touched.
            statement = update(interactions).where(interactions.c.id == bindparam("row_id")).values(
                {name: bindparam(f"v_{name}") for name in names})
            self.conn.execute(statement, params)
        repo.audit_many(self.conn, self._audits)
        self._updates.clear()
        self._audits.clear()
