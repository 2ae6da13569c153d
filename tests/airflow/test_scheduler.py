"""A real Airflow deployment runs the community pipeline: scheduler, dag-processor and api-server.

LocalExecutor with PostgreSQL for Airflow's metadata and PostgreSQL for the
store; the run is triggered through the REST API, exactly as an operator or
another system would, and the effects are checked inside the simulators.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from continuum.config import load_config
from continuum.demo import _staff_answers
from continuum.orchestration.factory import dag_id
from continuum.runner import open_store
from continuum.simulate import simulators
from continuum.store.tables import interactions, links
from tests.airflow.conftest import AirflowStack, free_port, hub_without_schedules, stack_env

DAG = dag_id("community")


@pytest.fixture
def local_stack(tmp_path: Path, airflow_template_db: str, fresh_pg_db: Any,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[AirflowStack, dict[str, Any], Any]]:
    hub_file = hub_without_schedules(tmp_path)
    monkeypatch.setenv("CONTINUUM_CONFIG", str(hub_file))
    hub = load_config()
    store_url = fresh_pg_db("continuum_store")
    metadata_url = fresh_pg_db("continuum_af", template=airflow_template_db)
    db = open_store(store_url)  # `continuum migrate`, as the init service runs it
    home = tmp_path / "airflow"
    home.mkdir()
    with simulators(hub) as running:
        env = stack_env(home, metadata_url, free_port(), store_url, hub_file)
        env["AIRFLOW__CORE__EXECUTOR"] = "LocalExecutor"
        stack = AirflowStack(home=home, env=env, api_port=int(env["AIRFLOW__API__PORT"]))
        stack.python("from continuum.orchestration.pools import ensure_pools; print(ensure_pools())")
        try:
            stack.start("api-server", "api-server")
            stack.start("dag-processor", "dag-processor")
            stack.start("scheduler", "scheduler")
            yield stack, running, db
        finally:
            stack.stop()
            db.dispose()


def test_scheduler_runs_the_pipeline_and_the_effects_land_in_the_systems(local_stack: Any) -> None:
    stack, running, db = local_stack
    started = time.monotonic()
    stack.wait_for_api()
    stack.wait_for_dag(DAG)
    pools = {p["name"]: p["slots"] for p in stack.api("GET", "/pools")["pools"]}
    assert pools.get("continuum_jira") and pools.get("continuum_discourse"), pools

    first = stack.trigger(DAG)
    assert stack.wait_for_run(DAG, first) == "success", stack.task_states(DAG, first)
    first_done = time.monotonic()

    # One Jira issue per routed thread-start (feature requests and bugs), no more.
    with db.connect() as conn:
        routed = conn.execute(select(interactions.c.id, interactions.c.kind).where(
            interactions.c.route == "jira", interactions.c.is_thread_start.is_(True),
            interactions.c.direction == "inbound")).all()
        issue_links = conn.execute(select(links.c.record_id, links.c.external_id).where(
            links.c.system == "jira", links.c.object_type == "issue",
            links.c.record_type == "interaction")).all()
    feature_requests = [r.id for r in routed if r.kind == "feature_request"]
    assert feature_requests, "the seed has feature requests; none were routed"
    issues = running["jira"].issues()
    issue_ids = {str(i["id"]) for i in issues} | {str(i["key"]) for i in issues}
    linked = {r.record_id: r.external_id for r in issue_links}
    assert len(issues) == len(routed), (len(issues), len(routed))
    assert all(fr in linked and str(linked[fr]) in issue_ids for fr in feature_requests)
    assert len(set(linked.values())) == len(linked), "two interactions share one issue"
    assert running["jira"].effect_counts()["created"] == len(routed)

    tis = stack.task_instances(DAG, first)
    assert {t["state"] for t in tis} == {"success"}
    assert len(tis) == 8, [t["task_id"] for t in tis]  # one per stage and system, never one per record

    # Staff answer two tickets in Jira; the next run must post exactly those replies on Discourse.
    answered = _staff_answers(db, load_config(), running, 2)
    replies_before = running["discourse"].effect_counts().get("replies", 0)
    second = stack.trigger(DAG)
    assert stack.wait_for_run(DAG, second) == "success", stack.task_states(DAG, second)
    assert running["discourse"].effect_counts().get("replies", 0) - replies_before == answered == 2
    with db.connect() as conn:
        statuses = [r.status for r in conn.execute(select(interactions.c.status))]
    assert statuses.count("answered") == 2
    assert running["jira"].effect_counts()["created"] == len(routed)  # the second run created nothing again

    print(f"\nscheduler test: first run {first_done - started:.1f} s after start-up began, "
          f"both runs {time.monotonic() - started:.1f} s")
