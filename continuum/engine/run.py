"""One pipeline run: listen, triage, apply, read back, answer.

The stages are separate functions so that Airflow can run them as separate
tasks; :func:`run_pipeline` strings them together for the CLI and the demo.

A run holds its pipeline's lock from start to end (:mod:`continuum.locking`):
a second run of the same pipeline raises ``AnotherRunHoldsTheLock`` before
it reads or sends anything.
"""

from __future__ import annotations

from continuum.engine.context import RunStats, SyncContext, pipeline_systems
from continuum.engine.outbox import apply_effects
from continuum.engine.read import read_source
from continuum.engine.readback import read_target
from continuum.engine.triage import triage
from continuum.locking import pipeline_lock


def run_pipeline(ctx: SyncContext) -> RunStats:
    with pipeline_lock(ctx.db, ctx.pipeline_name):
        return _run(ctx)


def _run(ctx: SyncContext) -> RunStats:
    from continuum.replay import expire_dead_letters

    stats = RunStats()
    expired = expire_dead_letters(ctx.db, ctx.pipeline_name)
    if expired:
        stats.add("dead_letters_expired", expired)
    pipeline = ctx.pipeline
    for source in pipeline.sources:
        stats.merge(read_source(ctx, source))
    stats.merge(triage(ctx, final_pass=False))
    source_systems = {s.system for s in pipeline.sources}
    effect_systems = [s for s in pipeline_systems(ctx.hub, ctx.pipeline_name) if s not in source_systems]
    for system in effect_systems:
        stats.merge(apply_effects(ctx, system))
    # Follow-ups wait for their thread's ticket; the tickets made just now free them in the same run.
    # The final pass also refreshes feature requests' voices (once per run) and raises SLA alerts.
    stats.merge(triage(ctx, final_pass=True))
    for system in effect_systems:
        stats.merge(apply_effects(ctx, system))  # nothing planned: one query, no call
    for target in pipeline.targets:
        stats.merge(read_target(ctx, target))
    for system in dict.fromkeys(s.system for s in pipeline.sources):
        stats.merge(apply_effects(ctx, system))
    return stats
