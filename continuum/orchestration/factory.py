"""Build one Airflow DAG per pipeline of the hub config.

A DAG follows the loop's stages; every task runs ONE stage for a whole
stream or system, never one record::

    read_<source system>   (mapped: one instance per stream/partition)
      → plan               (triage: rules decide, the outbox records what to do)
      → apply_<system>     (bulk writes per system effects go to: targets, notices)
      → plan_follow_ups    (follow-ups freed by the new tickets, voices, SLA alerts)
      → apply_follow_ups_<system>
      → read_back_<target> (ticket changes, staff answers)
      → respond_<source>   (replies on the customer's own channel)
      → report             (sums the counts; emits the pipeline's Asset)

Tasks that call a system run in that system's pool (:mod:`.pools`).  The
stages after the reads hold the pipeline's run lock, as ``continuum sync``
does, so they follow one another; the mapped reads run side by side.  The
``report`` task updates the Asset ``continuum://pipelines/<name>``; a
pipeline scheduled ``after: <name>`` runs when it does.

Parsing reads only the hub config file: no network, no database.  The engine,
SQLAlchemy and the connectors are imported inside the tasks.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow.sdk import task

from continuum.orchestration.pools import pool_name
from continuum.orchestration.schedule import airflow_schedule, pipeline_asset_uri

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from continuum.config import HubConfig, PipelineConfig

DAG_PREFIX = "continuum_"
START_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)
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
    """Every pipeline's DAG, by DAG id."""
    from continuum.config import load_config

    hub = hub or load_config()
    return {dag_id(name): build_dag(hub, name) for name in hub.pipelines}


def source_keys(pipeline: PipelineConfig) -> dict[str, list[dict[str, str]]]:
    """Source system → the streams (and partitions) its mapped read task expands over."""
    keys: dict[str, list[dict[str, str]]] = {}
    for source in pipeline.sources:
        keys.setdefault(source.system, []).append(
            {"system": source.system, "stream": source.stream, "partition": source.partition})
    return keys


def build_dag(hub: HubConfig, name: str) -> DAG:
    from airflow.sdk import DAG, Asset, cross_downstream

    from continuum.engine.context import pipeline_systems

    pipeline = hub.pipelines[name]
    sources = source_keys(pipeline)
    # Targets, routes and notice channels of the rule book: every system that effects go to.
    targets = [s for s in pipeline_systems(hub, name) if s not in sources]
    systems = sorted(set(sources) | set(targets))
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
        reads = [
            read_stream.override(task_id=f"read_{system}", pool=pool_name(system),
                                 map_index_template="{{ continuum_stream }}")
            .partial(pipeline=name).expand(source=keys)
            for system, keys in sources.items()
        ]
        planned = plan_effects.override(task_id="plan")(pipeline=name)
        applied = [apply_effects.override(task_id=f"apply_{system}", pool=pool_name(system))(
            pipeline=name, system=system) for system in targets]
        follow_ups = plan_effects.override(task_id="plan_follow_ups")(pipeline=name, final_pass=True)
        applied_again = [apply_effects.override(task_id=f"apply_follow_ups_{system}", pool=pool_name(system))(
            pipeline=name, system=system) for system in targets]
        read_backs = [read_back.override(task_id=f"read_back_{t.system}", pool=pool_name(t.system))(
            pipeline=name, system=t.system) for t in pipeline.targets if t.stream]
        responses = [respond.override(task_id=f"respond_{system}", pool=pool_name(system))(
            pipeline=name, system=system) for system in sources]
        stages = [*reads, planned, *applied, follow_ups, *applied_again, *read_backs, *responses]
        done = report.override(outlets=[asset])(pipeline=name, counts=stages)
        # Stages that send or settle effects hold the pipeline's run lock (continuum.locking), so they
        # run one after another; only the reads, which take no lock, fan out.
        steps = [_group(step) for step in (reads, planned, *applied, follow_ups, *applied_again, *read_backs,
                                           *responses, done) if _group(step)]
        for upstream, downstream in zip(steps, steps[1:]):
            cross_downstream(upstream, downstream)
    return dag


def _group(step: Any) -> list[Any]:
    return list(step) if isinstance(step, list) else [step]


def _doc(name: str, pipeline: PipelineConfig, sources: dict[str, list[dict[str, str]]], targets: list[str]) -> str:
    streams = ", ".join(f"{k['system']}/{k['stream']}" for keys in sources.values() for k in keys)
    return (f"**Continuum pipeline `{name}`**: {pipeline.description}\n\n"
            f"Reads {streams or 'nothing'}; writes to {', '.join(targets) or 'no target'}; "
            f"answers on {', '.join(sources) or 'no channel'}. Schedule: `{pipeline.schedule}`.\n\n"
            "Each task runs one stage for a whole stream or system; counts are in its XCom and in the "
            "`report` task's log.")


# The task callables.  Only these run on workers; each imports the engine when it runs.
@task
def read_stream(pipeline: str, source: dict[str, str]) -> dict[str, int]:
    from airflow.sdk import get_current_context

    from continuum.orchestration import stages

    label = source["stream"] + (f"/{source['partition']}" if source.get("partition") else "")
    get_current_context()["continuum_stream"] = label  # type: ignore[typeddict-unknown-key]
    return stages.read_stream(pipeline, source["system"], source["stream"], source.get("partition", ""))


@task
def plan_effects(pipeline: str, final_pass: bool = False) -> dict[str, int]:
    from continuum.orchestration import stages

    return stages.plan(pipeline, final_pass=final_pass)


@task
def apply_effects(pipeline: str, system: str) -> dict[str, int]:
    from continuum.orchestration import stages

    return stages.apply(pipeline, system)


@task
def read_back(pipeline: str, system: str) -> dict[str, int]:
    from continuum.orchestration import stages

    return stages.read_back(pipeline, system)


@task
def respond(pipeline: str, system: str) -> dict[str, int]:
    from continuum.orchestration import stages

    return stages.respond(pipeline, system)


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
    get_current_context()["outlet_events"][asset].extra = {"pipeline": pipeline, "counts": summed}
    return summed
