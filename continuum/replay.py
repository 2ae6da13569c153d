"""Dead letters: list them, and run them again after a fix.

* ``map`` failures keep the source payload: replay maps it again with the
  current mapping files and upserts it, without asking the source again.
* ``plan`` failures put the interaction back to ``new`` so triage retries.
* ``apply`` failures reopen their outbox effect; it keeps its attempts count,
  so the connector first looks for an object already made under its key.

Letters that wait longer than the retry period (``CONTINUUM_RETRY_PERIOD``)
become ``expired``: final and visible (``continuum dead-letters`` lists them),
and replayable on purpose with ``continuum replay --expired``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, select, update

from continuum.config import HubConfig
from continuum.connector import SourceRecord
from continuum.engine.context import RunStats, SyncContext
from continuum.engine.read import upsert_interaction
from continuum.mapping import MappingError, map_inbound
from continuum.store import repo
from continuum.store.db import utcnow
from continuum.store.tables import dead_letters, interactions, outbox


def list_dead_letters(db: Engine, system: str | None = None, error: str | None = None,
                      state: str | tuple[str, ...] = "open") -> list[dict[str, Any]]:
    """Dead letters in ``state`` (one or several; ``"all"`` for every state), oldest first.

    Each row gets ``record``: what the letter is about, in words a person can look up.
    """
    states = (state,) if isinstance(state, str) else tuple(state)
    query = select(dead_letters).order_by(dead_letters.c.id)
    if "all" not in states:
        query = query.where(dead_letters.c.state.in_(states))
    if system:
        query = query.where(dead_letters.c.system == system)
    if error:
        query = query.where(dead_letters.c.error.contains(error))
    with db.connect() as conn:
        return [{**dict(row), "record": describe_record(dict(row))} for row in conn.execute(query).mappings()]


def describe_record(letter: dict[str, Any]) -> str:
    payload = letter.get("payload") if isinstance(letter.get("payload"), dict) else {}
    if letter["stage"] == "apply" and payload.get("record_type"):
        return f"{payload['record_type']}/{payload.get('record_id')} ({letter['record_key']})"
    if letter["stage"] == "map":
        return f"{letter['system']} {letter['record_key'].partition('/')[2] or letter['record_key']}"
    return str(letter["record_key"])


def expire_dead_letters(db: Engine, pipeline: str | None = None, period_s: float | None = None) -> int:
    """Open ``map``/``plan`` letters older than the retry period become ``expired`` (apply letters
    expire with their effect, see :func:`continuum.engine.outbox.expire_effects`)."""
    from continuum.engine.outbox import retry_period_s

    cutoff = utcnow() - timedelta(seconds=retry_period_s() if period_s is None else period_s)
    clock = func.coalesce(dead_letters.c.retry_since, dead_letters.c.created_at)
    query = update(dead_letters).where(dead_letters.c.state == "open", dead_letters.c.stage != "apply",
                                       clock < cutoff)
    if pipeline is not None:
        query = query.where(dead_letters.c.pipeline == pipeline)
    with db.begin() as conn:
        return int(conn.execute(query.values(state="expired", updated_at=utcnow())).rowcount or 0)


def replay(db: Engine, hub: HubConfig, system: str | None = None, error: str | None = None,
           include_expired: bool = False) -> RunStats:
    stats = RunStats()
    states = ("open", "expired") if include_expired else ("open",)
    for letter in list_dead_letters(db, system, error, states):
        with db.begin() as conn:
            outcome = _replay_one(conn, hub, letter)
            if outcome == "replayed":
                conn.execute(update(dead_letters).where(dead_letters.c.id == letter["id"]).values(
                    state="resolved", updated_at=utcnow()))
            elif outcome == "requeued":
                # The effect runs again on the next sync; its letter stays open until it succeeds,
                # with a fresh retry clock.
                conn.execute(update(dead_letters).where(dead_letters.c.id == letter["id"]).values(
                    state="open", retry_since=utcnow(), updated_at=utcnow()))
            else:
                conn.execute(update(dead_letters).where(dead_letters.c.id == letter["id"]).values(
                    attempts=dead_letters.c.attempts + 1, updated_at=utcnow(), error=outcome))
        stats.add("still_failing" if outcome not in ("replayed", "requeued") else outcome)
    return stats


def _replay_one(conn: Any, hub: HubConfig, letter: dict[str, Any]) -> str:
    stage = letter["stage"]
    if stage == "apply":
        outbox_id = (letter["payload"] or {}).get("outbox_id")
        reopened = conn.execute(update(outbox).where(
            outbox.c.id == outbox_id, outbox.c.state.in_(("failed", "dead", "expired"))).values(
            state="failed", retry_since=utcnow(), updated_at=utcnow())).rowcount
        if not reopened:
            state = conn.execute(select(outbox.c.state).where(outbox.c.id == outbox_id)).scalar()
            return "replayed" if state == "done" else "requeued"
        return "requeued"
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
