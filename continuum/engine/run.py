"""One pipeline run: listen, triage, apply, read back, answer.

The stages are separate functions so that Airflow can run them as separate
tasks; :func:`run_pipeline` strings them together for the CLI and the demo.
"""

from __future__ import annotations

from continuum.engine.context import RunStats, SyncContext
from continuum.engine.outbox import apply_effects
from continuum.engine.read import read_source
from continuum.engine.readback import read_target
from continuum.engine.triage import triage


def run_pipeline(ctx: SyncContext) -> RunStats:
    stats = RunStats()
    pipeline = ctx.pipeline
    for source in pipeline.sources:
        stats.merge(read_source(ctx, source))
    stats.merge(triage(ctx))
    target_systems = [t.system for t in pipeline.targets]
    for system in target_systems:
        stats.merge(apply_effects(ctx, system))
    # Follow-ups wait for their thread's ticket; the tickets made just now free them in the same run.
    again = triage(ctx)
    stats.merge(again)
    if again.counts.get("triage_follow_up") or again.counts.get("triage_routed"):
        for system in target_systems:
            stats.merge(apply_effects(ctx, system))
    for target in pipeline.targets:
        stats.merge(read_target(ctx, target))
    for system in dict.fromkeys(s.system for s in pipeline.sources):
        stats.merge(apply_effects(ctx, system))
    return stats
