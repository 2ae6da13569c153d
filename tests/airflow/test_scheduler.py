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
from continuum.demo.simulators import simulators
from continuum.orchestration.factory import build_dags, dag_id
from continuum.store.db import open_store
from continuum.store.request_matching import held_ids
from continuum.store.tables import feature_requests, interactions, links
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

    # One Jira issue per feature request (however many customers asked) and per routed bug; no duplicates.
    with db.connect() as conn:
        issue_links = conn.execute(select(links.c.record_type, links.c.record_id, links.c.external_id).where(
            links.c.system == "jira", links.c.object_type == "issue")).all()
        # A request matched only as a suggestion (a post without a title) waits for a person: no issue yet.
        held = held_ids(conn)
        requests = [i for i in conn.execute(select(feature_requests.c.id)).scalars() if i not in held]
        asked = conn.execute(select(interactions.c.id, interactions.c.feature_request_id).where(
            interactions.c.kind == "feature_request", interactions.c.direction == "inbound",
            interactions.c.is_thread_start.is_(True))).all()
    issues = running["jira"].issues()
    issue_keys = {str(i["id"]) for i in issues} | {str(i["key"]) for i in issues}
    assert requests and asked, "the seed has feature requests; none were aggregated"
    assert len(issues) == len(issue_links) == running["jira"].effect_counts()["created"]
    assert len({r.external_id for r in issue_links}) == len(issue_links), "two records share one issue"
    assert all(str(r.external_id) in issue_keys for r in issue_links)
    request_issue = {r.record_id: r.external_id for r in issue_links if r.record_type == "feature_request"}
    assert set(request_issue) == set(requests), "a feature request has no issue, or an issue no request"
    assert all(a.feature_request_id in request_issue for a in asked if a.feature_request_id not in held), (
        "a routed feature request has no issue")
    assert not set(request_issue) & held, "a held request got its issue before a person decided"
    created = len(issues)

    tis = stack.task_instances(DAG, first)
    assert {t["state"] for t in tis} == {"success"}
    # One task instance per stage and system (and stream), never one per record.
    assert len(tis) == len(build_dags()[DAG].tasks), [t["task_id"] for t in tis]

    # Staff answer two single-customer tickets in Jira; the next run must post exactly those two replies.
    with db.connect() as conn:
        forum = set(conn.execute(select(interactions.c.id).where(
            interactions.c.source_system == "discourse")).scalars())
    single = [r.external_id for r in issue_links if r.record_type == "interaction" and r.record_id in forum][:2]
    assert len(single) == 2, issue_links
    for key in single:
        running["jira"].staff_answer(key, "Fixed in today's release: please update.", public=True)
        running["jira"].staff_resolve(key)
    answered = len(single)
    replies_before = running["discourse"].effect_counts().get("replies", 0)
    second = stack.trigger(DAG)
    assert stack.wait_for_run(DAG, second) == "success", stack.task_states(DAG, second)
    assert running["discourse"].effect_counts().get("replies", 0) - replies_before == answered == 2
    with db.connect() as conn:
        statuses = [r.status for r in conn.execute(select(interactions.c.status))]
    assert statuses.count("answered") == 2
    assert running["jira"].effect_counts()["created"] == created  # the second run created no issue

    print(f"\nscheduler test: first run {first_done - started:.1f} s after start-up began, "
          f"both runs {time.monotonic() - started:.1f} s")
