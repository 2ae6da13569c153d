"""Dead letters: list them, and run them again after a fix.

* ``map`` failures keep the source payload: replay maps it again with the
  current mapping files and upserts it, without asking the source again.
* ``plan`` failures put the interaction back to ``new`` so triage retries.
* ``apply`` failures reopen their outbox effect; it keeps its attempts count,
  so the connector first looks for an object already made under its key.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, update

from continuum.config import HubConfig
from continuum.connector import SourceRecord
from continuum.engine.context import RunStats, SyncContext
from continuum.engine.read import upsert_interaction
from continuum.mapping import MappingError, map_inbound
from continuum.store import repo
from continuum.store.db import utcnow
from continuum.store.tables import dead_letters, interactions, outbox


def list_dead_letters(db: Engine, system: str | None = None, error: str | None = None,
                      state: str = "open") -> list[dict[str, Any]]:
    query = select(dead_letters).where(dead_letters.c.state == state).order_by(dead_letters.c.id)
    if system:
        query = query.where(dead_letters.c.system == system)
    if error:
        query = query.where(dead_letters.c.error.contains(error))
    with db.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def replay(db: Engine, hub: HubConfig, system: str | None = None, error: str | None = None) -> RunStats:
    stats = RunStats()
    for letter in list_dead_letters(db, system, error):
        with db.begin() as conn:
            outcome = _replay_one(conn, hub, letter)
            if outcome == "replayed":
                conn.execute(update(dead_letters).where(dead_letters.c.id == letter["id"]).values(
                    state="resolved", updated_at=utcnow()))
            else:
                conn.execute(update(dead_letters).where(dead_letters.c.id == letter["id"]).values(
                    attempts=dead_letters.c.attempts + 1, updated_at=utcnow(), error=outcome))
        stats.add("replayed" if outcome == "replayed" else "still_failing")
    return stats


def _replay_one(conn: Any, hub: HubConfig, letter: dict[str, Any]) -> str:
    stage = letter["stage"]
    if stage == "apply":
        outbox_id = (letter["payload"] or {}).get("outbox_id")
        conn.execute(update(outbox).where(outbox.c.id == outbox_id).values(state="failed", updated_at=utcnow()))
        return "replayed"
    if stage == "plan":
        interaction_id = (letter["payload"] or {}).get("interaction_id")
        conn.execute(update(interactions).where(interactions.c.id == interaction_id).values(status="new"))
        return "replayed"
    return _remap(conn, hub, letter)


def _remap(conn: Any, hub: HubConfig, letter: dict[str, Any]) -> str:
    pipeline = hub.pipelines.get(letter["pipeline"])
    source = next((s for s in (pipeline.sources if pipeline else [])
                   if s.system == letter["system"] and s.stream == letter["stream"]), None)
    if source is None:
        return f"{letter['error']} (replay: no source {letter['system']}/{letter['stream']} in the config)"
    _, _, key = letter["record_key"].partition("/")
    object_type, _, external_id = key.partition(":")
    record = SourceRecord(stream=source.stream, object_type=object_type, external_id=external_id,
                          payload=letter["payload"])
    ctx = SyncContext(db=conn.engine, hub=hub, pipeline_name=letter["pipeline"], connectors={})
    from continuum.mapping import load_mapping

    try:
        canonical = map_inbound(load_mapping(source.mapping), record.payload,
                                {"system": {"name": source.system, "account": None, "options": {}}})
    except MappingError as exc:
        return f"{letter['system']} {object_type} {external_id}: field {exc.field}: {exc.message}"
    if not canonical.get("author_account_id"):
        return letter["error"]
    upsert_interaction(conn, ctx, source.system, record, canonical)
    repo.audit(conn, "dead_letter", letter["id"], "replayed", {"record_key": letter["record_key"]},
               letter["pipeline"], letter["system"])
    return "replayed"
