"""Set up and run one pipeline: the one entry point the CLI, the demo and Airflow share."""

from __future__ import annotations

from sqlalchemy import Engine

from continuum.config import HubConfig, load_config
from continuum.engine.context import Progress, RunStats, SyncContext, build_connectors, pipeline_systems
from continuum.engine.run import run_pipeline
from continuum.store.db import make_engine, migrate


def open_store(url: str | None = None, migrate_schema: bool = True) -> Engine:
    engine = make_engine(url)
    if migrate_schema:
        migrate(engine)
    return engine


def sync(pipeline: str, hub: HubConfig | None = None, db: Engine | None = None,
         progress: Progress | None = None) -> RunStats:
    hub = hub or load_config()
    if pipeline not in hub.pipelines:
        raise KeyError(f"no pipeline {pipeline!r}; configured: {', '.join(hub.pipelines)}")
    db = db or open_store()
    connectors = build_connectors(hub, pipeline_systems(hub, pipeline))
    ctx = SyncContext(db=db, hub=hub, pipeline_name=pipeline, connectors=connectors, progress=progress)
    return run_pipeline(ctx)
