"""The stages of a pipeline run, listed once.

Both ways of running a pipeline walk this table in order: the in-process
runner (:func:`continuum.engine.run.run_pipeline`, behind ``continuum sync``
and the quick demo) calls every stage for every unit it covers, and the
Airflow DAG factory (:mod:`continuum.orchestration.factory`) makes one task
per stage and unit.  A stage covers a whole stream or system, never one
record::

    read              each source stream (Airflow: one mapped task per system)
    plan              the pipeline: expire old dead letters, triage, plan effects
    apply             each system effects go to (targets, routes, notices)
    plan_follow_ups   the pipeline: follow-ups freed by the new tickets, voices, SLA alerts
    apply_follow_ups  each system effects go to
    read_back         each target with a stream: ticket changes, staff answers
    respond           each source system: the replies on the customer's own channel
    crm               the pipeline's CRM (``crm``): contacts in, what the hub learned out, the timeline
    publish           the pipeline's wiki (``knowledge``): customer history and feature-request pages

Importing this module is cheap (the DAG file imports it at parse time): a
stage's function imports its engine module when it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from continuum.config import HubConfig, SourceSpec, TargetSpec, pipeline_systems

if TYPE_CHECKING:
    from continuum.engine.context import RunStats, SyncContext

# What one call of a stage covers.
Covers = Literal["source", "pipeline", "effect_system", "read_back", "channel", "crm", "knowledge"]
# One call's arguments: {} for the pipeline, the system's name, or a source's system, stream and partition.
Unit = dict[str, str]


@dataclass(frozen=True)
class Stage:
    name: str  # the Airflow task id, or its prefix (read_<system>, apply_<system>, ...)
    covers: Covers
    run: Callable[[SyncContext, Unit], RunStats]
    # It sends or settles effects, so it holds the pipeline's run lock: a CLI run and a DAG run
    # of one pipeline never send the same effects. Only the reads go without it.
    locked: bool = True

    @property
    def calls_a_system(self) -> bool:
        """Whether it runs in the unit's system's Airflow pool (its rate budget)."""
        return self.covers != "pipeline"


def source_systems(hub: HubConfig, pipeline: str) -> list[str]:
    """The channels the pipeline listens to (and answers on), in config order."""
    return list(dict.fromkeys(s.system for s in hub.pipelines[pipeline].sources))


def effect_systems(hub: HubConfig, pipeline: str) -> list[str]:
    """Every other system effects go to: targets, and the rule book's routes and notice channels."""
    sources = source_systems(hub, pipeline)
    knowledge = hub.pipelines[pipeline].knowledge
    # The wiki's effects are its pages: the publish stage plans and applies them, after everything else.
    wiki = {knowledge.system} if knowledge else set()
    return [s for s in pipeline_systems(hub, pipeline) if s not in sources and s not in wiki]


def units(stage: Stage, hub: HubConfig, pipeline: str) -> list[Unit]:
    """The calls a stage makes for ``pipeline``, in order."""
    spec = hub.pipelines[pipeline]
    if stage.covers == "source":
        return [{"system": s.system, "stream": s.stream, "partition": s.partition} for s in spec.sources]
    if stage.covers == "pipeline":
        return [{}]
    if stage.covers == "effect_system":
        return [{"system": s} for s in effect_systems(hub, pipeline)]
    if stage.covers == "read_back":
        return [{"system": t.system, "stream": t.stream} for t in spec.targets if t.stream]
    if stage.covers == "knowledge":
        return [{"system": spec.knowledge.system}] if spec.knowledge else []
    if stage.covers == "crm":
        return [{"system": spec.crm.system}] if spec.crm else []
    return [{"system": s} for s in source_systems(hub, pipeline)]


def source_of(ctx: SyncContext, unit: Unit) -> SourceSpec:
    system, stream, partition = unit["system"], unit["stream"], unit.get("partition", "")
    for source in ctx.pipeline.sources:
        if (source.system, source.stream, source.partition) == (system, stream, partition):
            return source
    raise KeyError(f"pipeline {ctx.pipeline_name!r} has no source {system}/{stream}"
                   f"{'/' + partition if partition else ''}")


def target_of(ctx: SyncContext, unit: Unit) -> TargetSpec:
    for target in ctx.pipeline.targets:
        if target.system == unit["system"] and unit.get("stream") in (None, target.stream):
            return target
    raise KeyError(f"pipeline {ctx.pipeline_name!r} has no target {unit['system']!r}")


def _read(ctx: SyncContext, unit: Unit) -> RunStats:
    """Listen: read one source stream (one partition of it) page by page, each page with its cursor."""
    from continuum.engine.read import read_source

    return read_source(ctx, source_of(ctx, unit))


def _plan(ctx: SyncContext, _unit: Unit) -> RunStats:
    """Expire dead letters past the retry period, triage new interactions and plan their effects."""
    from continuum.engine.apply import expire_dead_letters
    from continuum.engine.context import RunStats
    from continuum.engine.triage import triage

    stats = RunStats()
    expired = expire_dead_letters(ctx.db, ctx.pipeline_name)
    if expired:
        stats.add("dead_letters_expired", expired)
    stats.merge(triage(ctx, final_pass=False))
    return stats


def _plan_follow_ups(ctx: SyncContext, _unit: Unit) -> RunStats:
    """Follow-ups wait for their thread's ticket: the tickets made just now free them in the same run.
    This pass also refreshes feature requests' voices (once per run) and raises SLA alerts."""
    from continuum.engine.triage import triage

    return triage(ctx, final_pass=True)


def _apply(ctx: SyncContext, unit: Unit) -> RunStats:
    """Apply the system's open effects of this pipeline, in the connector's bulk sizes."""
    from continuum.engine.apply import apply_effects

    return apply_effects(ctx, unit["system"])


def _read_back(ctx: SyncContext, unit: Unit) -> RunStats:
    """Read a target's changes: tickets the hub made, and staff answers on them."""
    from continuum.engine.readback import read_target

    return read_target(ctx, target_of(ctx, unit))


def _crm(ctx: SyncContext, unit: Unit) -> RunStats:
    """Sync the pipeline's customers with its CRM: contacts in, what the hub learned out, the timeline."""
    from continuum.engine.crm import sync_crm

    return sync_crm(ctx, unit["system"])


def _publish(ctx: SyncContext, unit: Unit) -> RunStats:
    """Write the pipeline's knowledge pages to its wiki: only the pages whose content changed."""
    from continuum.engine.knowledge import publish_pages

    return publish_pages(ctx, unit["system"])


STAGES: tuple[Stage, ...] = (
    Stage("read", "source", _read, locked=False),
    Stage("plan", "pipeline", _plan),
    Stage("apply", "effect_system", _apply),
    Stage("plan_follow_ups", "pipeline", _plan_follow_ups),
    Stage("apply_follow_ups", "effect_system", _apply),  # after the follow-ups: nothing planned is one query
    Stage("read_back", "read_back", _read_back),
    Stage("respond", "channel", _apply),
    Stage("crm", "crm", _crm),  # after the answers: the timeline holds this run's kept interactions
    Stage("publish", "knowledge", _publish),  # last: the pages show the tickets and answers of this run
)


def run_unit(stage: Stage, ctx: SyncContext, unit: Unit) -> RunStats:
    """Run one stage for one unit, and add the HTTP calls it made per system to the store's counts (the report's).

    Both runners go through here; the counters are the process's, so the difference is this call's own."""
    from continuum.http import STATS
    from continuum.store.report import record_calls

    before = STATS.snapshot()
    stats = stage.run(ctx, unit)
    after = STATS.snapshot()
    deltas = {system: {name: value - before.get(system, {}).get(name, 0) for name, value in counts.items()}
              for system, counts in after.items()}
    if any(counts.get("calls") for counts in deltas.values()):
        with ctx.db.begin() as conn:
            record_calls(conn, ctx.pipeline_name, deltas)
    return stats


def stage_named(name: str) -> Stage:
    for stage in STAGES:
        if stage.name == name:
            return stage
    raise KeyError(f"no stage {name!r}; stages: {', '.join(s.name for s in STAGES)}")
