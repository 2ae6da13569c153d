"""Dead letters: list them, and run them again after a fix.

* ``map`` failures keep the source payload: replay maps it again with the
  current mapping files and upserts it, without asking the source again.
* ``plan`` failures put the interaction back to ``new`` so triage retries.
* ``apply`` failures reopen their outbox effect; it keeps its attempts count,
  so the connector first looks for an object already made under its key.

Letters that wait longer than the retry period (``CONTINUUM_RETRY_PERIOD``)
become ``expired`` (:func:`continuum.engine.apply.expire_dead_letters`): final
and visible (``continuum dead-letters`` lists them), and replayable on purpose
with ``continuum replay --expired``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from continuum.config import HubConfig
from continuum.connector import SourceRecord
from continuum.engine.context import RunStats, SyncContext
from continuum.engine.read import upsert_interaction
from continuum.mapping import MappingError, load_mapping, map_inbound
from continuum.store import dead_letters, outbox
from continuum.store.audit import audit
from continuum.store.interactions import update_interaction
from continuum.store.rows import DeadLetterRow

# A dead letter as listed: its row, plus ``record`` (what it is about, in words a person can look up).
Letter = dict[str, Any]


def list_dead_letters(db: Engine, system: str | None = None, error: str | None = None,
                      state: str | tuple[str, ...] = "open") -> list[Letter]:
    """Dead letters in ``state`` (one or several; ``"all"`` for every state), oldest first."""
    states = (state,) if isinstance(state, str) else tuple(state)
    with db.connect() as conn:
        return [{**row, "record": describe_record(row)}
                for row in dead_letters.find_dead_letters(conn, system, error, states)]


def describe_record(letter: DeadLetterRow) -> str:
    payload = letter["payload"] if isinstance(letter.get("payload"), dict) else {}
    if letter["stage"] == "apply" and payload.get("record_type"):
        return f"{payload['record_type']}/{payload.get('record_id')} ({letter['record_key']})"
    if letter["stage"] == "map":
        return f"{letter['system']} {letter['record_key'].partition('/')[2] or letter['record_key']}"
    return str(letter["record_key"])


def replay(db: Engine, hub: HubConfig, system: str | None = None, error: str | None = None,
           include_expired: bool = False) -> RunStats:
    stats = RunStats()
    states = ("open", "expired") if include_expired else ("open",)
    for letter in list_dead_letters(db, system, error, states):
        with db.begin() as conn:
            outcome = _replay_one(conn, hub, letter)
            dead_letters.settle_replayed(conn, letter["id"], outcome)
        stats.add("still_failing" if outcome not in ("replayed", "requeued") else outcome)
    return stats


def _replay_one(conn: Connection, hub: HubConfig, letter: Letter) -> str:
    stage = letter["stage"]
    if stage == "apply":
        outbox_id = (letter["payload"] or {}).get("outbox_id")
        if outbox_id is None:  # no effect to reopen: it goes out (or not) with the next sync
            return "requeued"
        if not outbox.reopen(conn, outbox_id):
            return "replayed" if outbox.state_of(conn, outbox_id) == "done" else "requeued"
        return "requeued"
    if stage == "plan":
        interaction_id = (letter["payload"] or {}).get("interaction_id")
        if interaction_id is not None:
            update_interaction(conn, interaction_id, status="new")
        return "replayed"
    return _remap(conn, hub, letter)


def _remap(conn: Connection, hub: HubConfig, letter: Letter) -> str:
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
    try:
        canonical = map_inbound(load_mapping(source.mapping), record.payload,
                                {"system": {"name": source.system, "account": None, "options": {}}})
    except MappingError as exc:
        return f"{letter['system']} {object_type} {external_id}: field {exc.field}: {exc.message}"
    if not canonical.get("author_account_id"):
        return str(letter["error"])
    upsert_interaction(conn, ctx, source.system, record, canonical)
    audit(conn, "dead_letter", letter["id"], "replayed", {"record_key": letter["record_key"]},
          letter["pipeline"], letter["system"])
    return "replayed"
