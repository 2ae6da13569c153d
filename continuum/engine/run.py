"""One pipeline run in this process: every stage of :data:`continuum.engine.stages.STAGES`, in order.

The CLI, the quick demo and the tests run pipelines this way; Airflow runs the
same stages as separate tasks (:mod:`continuum.orchestration`).

A run holds its pipeline's lock from start to end (:mod:`continuum.store.locking`):
a second run of the same pipeline raises ``AnotherRunHoldsTheLock`` before
it reads or sends anything.
"""

from __future__ import annotations

from sqlalchemy import Engine

from continuum.config import HubConfig, load_config, pipeline_systems
from continuum.engine.context import Progress, RunStats, SyncContext, build_connectors
from continuum.engine.stages import STAGES, units
from continuum.store.db import open_store
from continuum.store.locking import pipeline_lock


def run_pipeline(ctx: SyncContext) -> RunStats:
    with pipeline_lock(ctx.db, ctx.pipeline_name):
        stats = RunStats()
        for stage in STAGES:
            for unit in units(stage, ctx.hub, ctx.pipeline_name):
                stats.merge(stage.run(ctx, unit))
        return stats


def sync(pipeline: str, hub: HubConfig | None = None, db: Engine | None = None,
         progress: Progress | None = None) -> RunStats:
    """Set up and run one pipeline: the hub config, the store (migrated) and the pipeline's connectors."""
    hub = hub or load_config()
    if pipeline not in hub.pipelines:
        raise KeyError(f"no pipeline {pipeline!r}; configured: {', '.join(hub.pipelines)}")
    db = db or open_store()
    connectors = build_connectors(hub, pipeline_systems(hub, pipeline))
    ctx = SyncContext(db=db, hub=hub, pipeline_name=pipeline, connectors=connectors, progress=progress)
    return run_pipeline(ctx)
