"""``continuum plan``: what the next sync would do, without doing any of it.

The plan reads the sources and targets as a sync would (reads only: no
system is written to), then runs triage against a throwaway copy of the
store — a copy of the SQLite file, or a PostgreSQL transaction that is
rolled back — and lists every effect that would be applied, with the rule
and the similarity score behind each decision, and every record or effect
that would fail (a template that does not render, a missing mapping) as an
error.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from continuum.config import HubConfig, pipeline_systems
from continuum.connector import JSON
from continuum.engine.context import SyncContext, build_connectors
from continuum.engine.read import read_source
from continuum.engine.readback import read_target
from continuum.engine.triage import triage
from continuum.store import dead_letters, interactions
from continuum.store.db import make_engine, utcnow
from continuum.store.feature_requests import get_feature_request
from continuum.store.outbox import open_effects


class _RolledBack:
    """Looks like an Engine to the stages; every transaction is a savepoint inside one that never commits."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect
        self._conn = engine.connect()
        self._outer = self._conn.begin()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        savepoint = self._conn.begin_nested()
        try:
            yield self._conn
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        yield self._conn

    def close(self) -> None:
        self._outer.rollback()
        self._conn.close()


@contextmanager
def _scratch_store(db: Engine) -> Iterator[Any]:
    if db.dialect.name == "sqlite":
        # SQLite's savepoints are unreliable through pysqlite; a copy is simple and certain.
        with tempfile.TemporaryDirectory(prefix="continuum-plan-") as folder:
            copy = Path(folder) / "plan.db"
            source = db.raw_connection()
            try:
                target = sqlite3.connect(copy)
                source.driver_connection.backup(target)  # type: ignore[union-attr]
                target.close()
            finally:
                source.close()
            scratch = make_engine(f"sqlite:///{copy}")
            try:
                yield scratch
            finally:
                scratch.dispose()
    else:
        scope = _RolledBack(db)
        try:
            yield scope
        finally:
            scope.close()


def plan(hub: HubConfig, pipeline: str, db: Engine) -> JSON:
    """Every effect the next sync of ``pipeline`` would apply, per system, and why; and what would fail.

    Records are named by their source (system, object, title), never by the
    scratch copy's row ids, which do not exist in the real store.
    """
    # The real store, not the scratch copy: a token a dry run refreshes must still be there for the sync.
    connectors = build_connectors(hub, pipeline_systems(hub, pipeline), db)
    started = utcnow()
    with _scratch_store(db) as scratch:
        ctx = SyncContext(db=scratch, hub=hub, pipeline_name=pipeline, connectors=connectors, explain=[])
        for source in ctx.pipeline.sources:
            read_source(ctx, source)
        triage(ctx, final_pass=True)
        for target in ctx.pipeline.targets:
            read_target(ctx, target)
        with scratch.connect() as conn:
            rows = open_effects(conn, pipeline)
            effects: dict[str, list[JSON]] = {}
            for row in rows:
                effects.setdefault(row["system"], []).append({
                    "action": row["action"], "object": row["object_type"],
                    "target": row["target_id"] or f"new {row['system']} {row['object_type']}",
                    "about": describe_record(conn, row["record_type"], row["record_id"]), "fields": row["payload"],
                    "retry": row["attempts"] > 0})
            errors = [{"system": letter["system"], "stage": letter["stage"], "field": letter["field"],
                       "error": letter["error"]}
                      for letter in dead_letters.letters_since(conn, pipeline, started)]
            decisions = [{**d, "about": describe_record(conn, "interaction", d["interaction"])}
                         for d in ctx.explain or []]
        return {"pipeline": pipeline, "effects": effects, "errors": errors, "decisions": decisions}


def describe_record(conn: Connection, record_type: str, record_id: int) -> str:
    """What an effect is about, in words that hold outside the scratch copy."""
    if record_type == "interaction":
        row = interactions.get_interaction(conn, record_id)
        if row is not None:
            title = (row["title"] or row["text"] or "").replace("\n", " ")[:120]
            return f"{row['source_system']} {row['source_id']}: {title}"
    if record_type == "feature_request":
        feature = get_feature_request(conn, record_id)
        return f"feature request {feature['title'][:60]!r} ({feature['votes']} votes)"
    return record_type
