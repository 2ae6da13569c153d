"""One engine stage per call, as an Airflow task runs it.

Each function opens the store, loads the hub config, builds the pipeline's
connectors (nothing connects until a stage calls out), runs ONE stage of the
loop and returns its counts: a small dict that Airflow keeps as the task's
XCom.  The order of the calls is the DAG's business; together they do what
:func:`continuum.engine.run.run_pipeline` does in one process.

The store comes from ``CONTINUUM_DB_URL`` (or SQLite under
``CONTINUUM_DATA_DIR``).  Tasks do not migrate it: ``continuum migrate`` does,
once, before the scheduler starts (the compose file's init service runs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from continuum.config import SourceSpec, TargetSpec
    from continuum.engine.context import RunStats, SyncContext

Counts = dict[str, int]


@contextmanager
def sync_context(pipeline: str) -> Iterator[SyncContext]:
    from continuum.config import load_config
    from continuum.engine.context import SyncContext, build_connectors, pipeline_systems
    from continuum.runner import open_store
    from continuum.store.db import default_url

    hub = load_config()
    if pipeline not in hub.pipelines:
        raise KeyError(f"no pipeline {pipeline!r} in the hub config; configured: {', '.join(hub.pipelines)}")
    _mask_store_password(default_url())
    db = open_store(migrate_schema=False)
    try:
        connectors = build_connectors(hub, pipeline_systems(hub, pipeline))
        yield SyncContext(db=db, hub=hub, pipeline_name=pipeline, connectors=connectors)
    finally:
        db.dispose()


def _mask_store_password(url: str) -> None:
    from sqlalchemy.engine import make_url

    password = make_url(url).password
    if password:
        from airflow.sdk.log import mask_secret

        mask_secret(str(password))


def _counts(stats: RunStats) -> Counts:
    return dict(sorted(stats.counts.items()))


def _source(ctx: SyncContext, system: str, stream: str, partition: str) -> SourceSpec:
    for source in ctx.pipeline.sources:
        if (source.system, source.stream, source.partition) == (system, stream, partition):
            return source
    raise KeyError(f"pipeline {ctx.pipeline_name!r} has no source {system}/{stream}"
                   f"{'/' + partition if partition else ''}")


def _target(ctx: SyncContext, system: str) -> TargetSpec:
    for target in ctx.pipeline.targets:
        if target.system == system:
            return target
    raise KeyError(f"pipeline {ctx.pipeline_name!r} has no target {system!r}")


def read_stream(pipeline: str, system: str, stream: str, partition: str = "") -> Counts:
    """Listen: read one source stream (one partition of it) page by page, each page with its cursor."""
    from continuum.engine.read import read_source

    with sync_context(pipeline) as ctx:
        return _counts(read_source(ctx, _source(ctx, system, stream, partition)))


def plan(pipeline: str, final_pass: bool = False) -> Counts:
    """Triage new interactions and plan their effects in the outbox.

    The first pass also expires old dead letters; the final pass (after the
    first effects are applied) frees follow-ups whose thread now has a ticket,
    refreshes feature requests' voices and raises SLA alerts.
    """
    from continuum.engine.context import RunStats
    from continuum.engine.triage import triage
    from continuum.locking import pipeline_lock
    from continuum.replay import expire_dead_letters

    with sync_context(pipeline) as ctx, pipeline_lock(ctx.db, pipeline):
        stats = RunStats()
        if not final_pass:
            expired = expire_dead_letters(ctx.db, pipeline)
            if expired:
                stats.add("dead_letters_expired", expired)
        stats.merge(triage(ctx, final_pass=final_pass))
        return _counts(stats)


def apply(pipeline: str, system: str) -> Counts:
    """Apply the system's open effects of this pipeline, in the connector's bulk sizes."""
    from continuum.engine.outbox import apply_effects
    from continuum.locking import pipeline_lock

    # The pipeline's run lock: a `continuum sync` of the same pipeline never sends the same effects at once.
    with sync_context(pipeline) as ctx, pipeline_lock(ctx.db, pipeline):
        return _counts(apply_effects(ctx, system))


def read_back(pipeline: str, system: str) -> Counts:
    """Read a target's changes: tickets the hub made, and staff answers on them."""
    from continuum.engine.readback import read_target
    from continuum.locking import pipeline_lock

    with sync_context(pipeline) as ctx, pipeline_lock(ctx.db, pipeline):
        return _counts(read_target(ctx, _target(ctx, system)))


def respond(pipeline: str, system: str) -> Counts:
    """Answer on a source channel: apply the replies planned for it."""
    return apply(pipeline, system)


def total(counts: list[Counts]) -> Counts:
    summed: Counts = {}
    for part in counts:
        for name, n in (part or {}).items():
            summed[name] = summed.get(name, 0) + int(n)
    return dict(sorted(summed.items()))
