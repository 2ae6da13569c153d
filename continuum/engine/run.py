"""One pipeline run in this process: every stage of :data:`continuum.engine.stages.STAGES`, in order.

The CLI, the quick demo and the tests run pipelines this way; Airflow runs the
same stages as separate tasks (:mod:`continuum.orchestration`).

A run holds its pipeline's lock from start to end (:mod:`continuum.store.locking`):
a second run of the same pipeline raises ``AnotherRunHoldsTheLock`` before
it reads or sends anything.

A run that dead-lettered records or effects says so in its counts
(``dead_lettered``): nothing fails quietly, and ``continuum sync`` exits
non-zero for it (:func:`max_dead_letters` sets how many are tolerated).
"""

from __future__ import annotations

import os
from datetime import datetime

from sqlalchemy import Engine

from continuum.config import HubConfig, load_config, pipeline_systems
from continuum.engine.context import Progress, RunStats, SyncContext, build_connectors
from continuum.engine.stages import STAGES, run_unit, units
from continuum.store.db import open_store, utcnow
from continuum.store.dead_letters import failed_since
from continuum.store.locking import pipeline_lock

DEAD_LETTERED = "dead_lettered"
READ_COVERS = ("source", "read_back")  # the stages that read a system's stream


def max_dead_letters() -> int:
    """How many dead letters a run may make and still count as a success: ``CONTINUUM_MAX_DEAD_LETTERS``, 0."""
    raw = os.environ.get("CONTINUUM_MAX_DEAD_LETTERS", "0").strip()
    if not raw.isdigit():
        raise ValueError(f"CONTINUUM_MAX_DEAD_LETTERS must be a whole number, not {raw!r}")
    return int(raw)


def count_dead_lettered(db: Engine, pipeline: str, since: datetime) -> int:
    with db.connect() as conn:
        return failed_since(conn, pipeline, since)


def run_pipeline(ctx: SyncContext, woken: frozenset[str] | None = None) -> RunStats:
    """Every stage, in order, under the pipeline's lock.

    ``woken`` (a webhook run, :mod:`continuum.engine.inbox`): only these systems' streams are read
    (sources and read-backs); every other stage runs as in a scheduled run, under the same lock."""
    with pipeline_lock(ctx.db, ctx.pipeline_name):
        started = utcnow()
        stats = RunStats()
        # What one run learnt about stops (spent windows, holds offered) is for that run only.
        ctx.spent_windows.clear()
        ctx.held_offered.clear()
        for stage in STAGES:
            for unit in units(stage, ctx.hub, ctx.pipeline_name):
                if woken is not None and stage.covers in READ_COVERS and unit["system"] not in woken:
                    continue
                stats.merge(run_unit(stage, ctx, unit))
        failed = count_dead_lettered(ctx.db, ctx.pipeline_name, started)
        if failed:
            stats.add(DEAD_LETTERED, failed)
        return stats


def sync(pipeline: str, hub: HubConfig | None = None, db: Engine | None = None,
         progress: Progress | None = None, *, force: bool = False, recovering: bool = False) -> RunStats:
    """Set up and run one pipeline: the hub config, the store (migrated) and the pipeline's connectors.

    ``recovering`` is ``continuum reconcile``'s run: every effect is looked up by its key before it is
    written; ``force`` writes even where a target holds hub-made objects the store does not know."""
    hub = hub or load_config()
    hub.check_pipeline(pipeline)
    db = db or open_store()
    connectors = build_connectors(hub, pipeline_systems(hub, pipeline), db)
    ctx = SyncContext(db=db, hub=hub, pipeline_name=pipeline, connectors=connectors, progress=progress,
                      force=force, recovering=recovering)
    return run_pipeline(ctx)
