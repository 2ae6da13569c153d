"""Dead letters: list them, and run them again after a fix.

* ``map`` failures keep the source payload: replay maps it again with the
  current mapping files and ingests it exactly as a sync does (the same page
  ingestion, with the source's connector), without asking the source again.
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
from continuum.connector import Page, SourceRecord
from continuum.engine.context import RunStats, SyncContext, build_connectors
from continuum.engine.read import ingest_page
from continuum.store import dead_letters, outbox
from continuum.store.audit import audit
from continuum.store.interactions import update_interaction
from continuum.store.rows import DeadLetterRow

# A dead letter as listed: its row, plus ``record`` (what it is about, in words a person can look up).
Letter = dict[str, Any]
STILL_FAILING = dead_letters.STILL_FAILING


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
        stats.add(outcome if outcome in ("replayed", "requeued") else "still_failing")
    return stats


def replay_letter(db: Engine, hub: HubConfig, letter_id: int) -> str | None:
    """Replay one open or expired letter (what the Airflow view's button does); ``None`` if there is none."""
    letter = next((found for found in list_dead_letters(db, state=("open", "expired")) if found["id"] == letter_id),
                  None)
    if letter is None:
        return None
    with db.begin() as conn:
        outcome = _replay_one(conn, hub, letter)
        dead_letters.settle_replayed(conn, letter["id"], outcome)
    return outcome if outcome in ("replayed", "requeued") else "still_failing"


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
    """Map the kept payload again exactly as a sync maps what it reads: the same page ingestion, with the
    source system's connector, so the company's own account, links and markers are recognised."""
    pipeline = hub.pipelines.get(letter["pipeline"])
    source = next((s for s in (pipeline.sources if pipeline else [])
                   if s.system == letter["system"] and s.stream == letter["stream"]), None)
    if source is None:
        return f"{letter['error']} (replay: no source {letter['system']}/{letter['stream']} in the config)"
    _, _, key = letter["record_key"].partition("/")
    object_type, _, external_id = key.partition(":")
    record = SourceRecord(stream=source.stream, object_type=object_type, external_id=external_id,
                          payload=letter["payload"])
    # Building a connector calls nothing; its account is what tells the company's voice from a customer's.
    ctx = SyncContext(db=conn.engine, hub=hub, pipeline_name=letter["pipeline"],
                      connectors=build_connectors(hub, [source.system], conn.engine))
    stats = RunStats()
    ingest_page(conn, ctx, source, ctx.mapping(source.mapping), Page(records=[record], cursor=None), stats)
    if stats.counts.get("dead_letters"):
        return STILL_FAILING  # ingest_page has recorded the new error on the same letter
    audit(conn, "dead_letter", letter["id"], "replayed", {"record_key": letter["record_key"]},
          letter["pipeline"], letter["system"])
    return "replayed"
