"""One stage of :data:`continuum.engine.stages.STAGES` per call, as an Airflow task runs it.

Each call opens the store, loads the hub config, builds the pipeline's
connectors (nothing connects until the stage calls out), runs ONE stage for
one unit (a stream, a system, or the whole pipeline) and returns its counts:
a small dict that Airflow keeps as the task's XCom.  The order of the calls
is the DAG's business (:mod:`.factory` follows the same table); together they
do what :func:`continuum.engine.run.run_pipeline` does in one process.

The store comes from ``CONTINUUM_DB_URL`` (or SQLite under
``CONTINUUM_DATA_DIR``).  The stage tasks do not migrate it: each DAG's first
task, ``migrate_store``, does (:func:`migrate_store`; a no-op when the schema
is current), so a fresh store works without a separate ``continuum migrate``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from continuum.engine.context import RunStats, SyncContext
    from continuum.engine.stages import Unit

Counts = dict[str, int]


@contextmanager
def sync_context(pipeline: str) -> Iterator[SyncContext]:
    from continuum.config import load_config, pipeline_systems
    from continuum.engine.context import SyncContext, build_connectors
    from continuum.store.db import default_url, open_store

    hub = load_config()
    hub.check_pipeline(pipeline)
    _mask_store_password(default_url())
    db = open_store(migrate_schema=False)
    try:
        connectors = build_connectors(hub, pipeline_systems(hub, pipeline), db)
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


def run_stage(pipeline: str, stage: str, unit: Unit) -> Counts:
    """Run one stage for one unit; a stage that sends or settles effects holds the pipeline's run lock,
    so a ``continuum sync`` of the same pipeline never sends the same effects at once."""
    from continuum.engine.stages import run_unit, stage_named
    from continuum.store.locking import pipeline_lock

    found = stage_named(stage)
    with sync_context(pipeline) as ctx, pipeline_lock(ctx.db, pipeline) if found.locked else nullcontext():
        return _counts(run_unit(found, ctx, unit))


def migrate_store() -> tuple[str | None, str | None]:
    """Bring the store's schema to the newest revision; returns (before, after)."""
    from continuum.store.db import default_url, make_engine, migrate

    _mask_store_password(default_url())
    engine = make_engine()
    try:
        return migrate(engine)
    finally:
        engine.dispose()


class TooManyDeadLetters(RuntimeError):
    pass


def check_dead_letters(pipeline: str, since: datetime) -> int:
    """The dead letters the DAG run since ``since`` made; raises :class:`TooManyDeadLetters` above the
    threshold (``CONTINUUM_MAX_DEAD_LETTERS``, default 0), so the run is failed and Airflow alerts."""
    from continuum.engine.run import count_dead_lettered, max_dead_letters
    from continuum.store.db import default_url, open_store

    _mask_store_password(default_url())
    db = open_store(migrate_schema=False)
    try:
        failed = count_dead_lettered(db, pipeline, since)
    finally:
        db.dispose()
    limit = max_dead_letters()
    if failed > limit:
        raise TooManyDeadLetters(
            f"pipeline {pipeline}: {failed} record(s) or effect(s) were dead-lettered in this run (allowed: "
            f"{limit}, CONTINUUM_MAX_DEAD_LETTERS); see `continuum dead-letters`, fix, then `continuum replay`")
    return failed


def total(counts: list[Counts]) -> Counts:
    summed: Counts = {}
    for part in counts:
        for name, n in (part or {}).items():
            summed[name] = summed.get(name, 0) + int(n)
    return dict(sorted(summed.items()))
