"""Build one Airflow DAG per pipeline of the hub config.

A DAG follows the stage table (:data:`continuum.engine.stages.STAGES`), the
same one ``continuum sync`` walks; every task runs ONE stage for a whole
stream or system, never one record::

    migrate_store          (brings the store's schema up to date: a fresh store works at once)
      → read_<source system>   (mapped: one instance per stream/partition)
      → plan               (triage: rules decide, the outbox records what to do)
      → apply_<system>     (bulk writes per system effects go to: targets, notices)
      → plan_follow_ups    (follow-ups freed by the new tickets, voices, SLA alerts)
      → apply_follow_ups_<system>
      → read_back_<target> (ticket changes, staff answers)
      → respond_<source>   (replies on the customer's own channel)
      → report             (sums the counts; emits the pipeline's Asset)
      → check_dead_letters (fails the run when it dead-lettered more than CONTINUUM_MAX_DEAD_LETTERS)

Tasks that call a system run in that system's pool (:mod:`.pools`).  The
stages after the reads hold the pipeline's run lock, as ``continuum sync``
does, so they follow one another; the mapped reads run side by side.  The
``report`` task updates the Asset ``continuum://pipelines/<name>``; a
pipeline scheduled ``after: <name>`` runs when it does.

Parsing reads only the hub config file and the rule book: no network, no
database.  The engine, SQLAlchemy and the connectors are imported inside the
tasks.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from airflow.sdk import task

from continuum.orchestration.pools import pool_name
from continuum.orchestration.schedule import airflow_schedule, pipeline_asset_uri

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from continuum.config import HubConfig, PipelineConfig
    from continuum.engine.stages import Unit

DAG_PREFIX = "continuum_"
START_DATE = datetime(2024, 1, 1, tzinfo=UTC)
# Retries of a task (a page that failed, a system that was down): 30 s, 60 s, 120 s … capped at 10 min.
# CONTINUUM_TASK_RETRIES overrides the count (the demo and the tests use 0 to fail fast).
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "continuum",
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(hours=1),
}

# The DAG file in dags/ is exactly this; the demo writes it into its throwaway DAG folder.
DAG_FILE_SOURCE = '''"""Airflow DAGs for Continuum: one per pipeline in the hub config (continuum.yaml).

Thin on purpose: continuum.orchestration.factory builds the DAGs; this file
only puts them where Airflow's DAG processor looks.
"""

from continuum.orchestration.factory import build_dags

globals().update(build_dags())
'''


def default_args() -> dict[str, Any]:
    args = dict(DEFAULT_ARGS)
    raw = os.environ.get("CONTINUUM_TASK_RETRIES")
    if raw is not None:
        if not raw.strip().isdigit():
            raise ValueError(f"CONTINUUM_TASK_RETRIES must be a whole number, not {raw!r}")
        args["retries"] = int(raw)
    return args


def dag_id(pipeline: str) -> str:
    return f"{DAG_PREFIX}{pipeline}"


def build_dags(hub: HubConfig | None = None) -> dict[str, DAG]:
    """Every pipeline's DAG, by DAG id, and ``continuum_inbox`` when a configured system can push."""
    from continuum.config import load_config
    from continuum.orchestration.inbox import INBOX_DAG, build_inbox_dag, has_pushing_systems

    hub = hub or load_config()
    dags = {dag_id(name): build_dag(hub, name) for name in hub.pipelines}
    if has_pushing_systems(hub):  # webhooks wake the pipelines through the event DAG (orchestration.inbox)
        dags[INBOX_DAG] = build_inbox_dag()
    return dags


def build_dag(hub: HubConfig, name: str) -> DAG:
    from airflow.sdk import DAG, Asset, cross_downstream

    from continuum.engine.stages import STAGES, effect_systems, source_systems, units

    pipeline = hub.pipelines[name]
    sources = source_systems(hub, name)
    targets = effect_systems(hub, name)
    wiki = {pipeline.knowledge.system} if pipeline.knowledge else set()
    systems = sorted(set(sources) | set(targets) | wiki)
    asset = Asset(name=dag_id(name), uri=pipeline_asset_uri(name))
    with DAG(
        dag_id=dag_id(name),
        description=pipeline.description or f"Continuum pipeline {name}",
        schedule=airflow_schedule(name, pipeline.schedule, list(hub.pipelines)),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=["continuum", *systems],
        doc_md=_doc(name, pipeline, sources, targets),
    ) as dag:
        tasks: list[Any] = []
        # The tasks of one step run side by side, the steps one after another. A locked stage's
        # tasks take the pipeline's run lock (continuum.store.locking): each is a step of its own.
        steps: list[list[Any]] = [[migrate_store.override(task_id="migrate_store")()]]
        for stage in STAGES:
            made = [_stage_task(name, stage.name, stage.covers, group)
                    for group in _per_task(stage.covers, units(stage, hub, name))]
            tasks += made
            if stage.locked:
                steps += [[task] for task in made]
            elif made:
                steps.append(made)
        done = report.override(outlets=[asset])(pipeline=name, counts=tasks)
        for upstream, downstream in pairwise([*steps, [done]]):
            cross_downstream(upstream, downstream)
        # After the report, so the Asset still says what ran; failing here fails the DAG run (Airflow alerts).
        done >> check_dead_letters.override(retries=0)(pipeline=name)
    return dag


def _per_task(covers: str, stage_units: list[Unit]) -> list[list[Unit]]:
    """The units of each task of a stage: one each, but the reads make one mapped task per source system."""
    if covers != "source":
        return [[unit] for unit in stage_units]
    by_system: dict[str, list[Unit]] = {}
    for unit in stage_units:
        by_system.setdefault(unit["system"], []).append(unit)
    return list(by_system.values())


def _stage_task(pipeline: str, stage: str, covers: str, task_units: list[Unit]) -> Any:
    if covers == "pipeline":
        return run_stage.override(task_id=stage)(pipeline=pipeline, stage=stage, unit=task_units[0])
    system = task_units[0]["system"]
    if covers == "source":
        mapped = run_stage.override(task_id=f"{stage}_{system}", pool=pool_name(system),
                                    map_index_template="{{ continuum_stream }}")
        return mapped.partial(pipeline=pipeline, stage=stage).expand(unit=task_units)
    return run_stage.override(task_id=f"{stage}_{system}", pool=pool_name(system))(
        pipeline=pipeline, stage=stage, unit=task_units[0])


def _doc(name: str, pipeline: PipelineConfig, sources: list[str], targets: list[str]) -> str:
    streams = ", ".join(f"{s.system}/{s.stream}" for system in sources for s in pipeline.sources
                        if s.system == system)
    return (f"**Continuum pipeline `{name}`**: {pipeline.description}\n\n"
            f"Reads {streams or 'nothing'}; writes to {', '.join(targets) or 'no target'}; "
            f"answers on {', '.join(sources) or 'no channel'}. Schedule: `{pipeline.schedule}`.\n\n"
            "Each task runs one stage for a whole stream or system; counts are in its XCom and in the "
            "`report` task's log.")


# The task callables.  Only these run on workers; each imports the engine when it runs.
@task
def run_stage(pipeline: str, stage: str, unit: dict[str, str]) -> dict[str, int]:
    from continuum.engine.stages import stage_named
    from continuum.orchestration import stages

    if stage_named(stage).covers == "source":
        from airflow.sdk import get_current_context

        label = unit["stream"] + (f"/{unit['partition']}" if unit.get("partition") else "")
        get_current_context()["continuum_stream"] = label  # type: ignore[typeddict-unknown-key]
    return stages.run_stage(pipeline, stage, unit)


@task
def migrate_store() -> dict[str, str | None]:
    """Create or upgrade the store's schema before any stage reads it (a no-op when it is up to date)."""
    from continuum.orchestration import stages

    before, after = stages.migrate_store()
    return {"before": before, "after": after}


@task
def check_dead_letters(pipeline: str) -> int:
    """Fail the run if its stages dead-lettered more records or effects than allowed."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    from continuum.orchestration import stages

    dag_run = get_current_context()["dag_run"]
    since = dag_run.start_date or dag_run.logical_date or START_DATE
    try:
        return stages.check_dead_letters(pipeline, since)
    except stages.TooManyDeadLetters as exc:
        raise AirflowFailException(str(exc)) from None


@task
def report(pipeline: str, counts: list[Any]) -> dict[str, int]:
    """Sum the stages' counts, log them, and put them on the pipeline's Asset event."""
    import logging

    from airflow.sdk import Asset, get_current_context

    from continuum.orchestration import stages

    parts: list[dict[str, int]] = []
    for item in counts:
        # A mapped read task's output arrives as a sequence of its instances' counts.
        parts.extend([item] if isinstance(item, dict) else list(item or []))
    summed = stages.total([p for p in parts if isinstance(p, dict)])
    logging.getLogger("continuum").info("pipeline %s: %s", pipeline, summed)
    asset = Asset(name=dag_id(pipeline), uri=pipeline_asset_uri(pipeline))
    extra: dict[str, Any] = {"pipeline": pipeline, "counts": summed}
    get_current_context()["outlet_events"][asset].extra = extra
    return summed
