"""A signed webhook wakes the pipeline through real Airflow: receiver → inbox → the triggerer's watcher →
an Asset event → a run of continuum_inbox → the post read, triaged and its Jira issue made.

Scheduler, dag-processor, triggerer and api-server (LocalExecutor), PostgreSQL for Airflow's metadata and
for the store; the pipelines have no schedule here, so only the webhook can start a run."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from continuum.config import load_config
from continuum.demo.simulators import simulators
from continuum.orchestration.inbox import INBOX_DAG
from continuum.store.db import open_store
from continuum.store.tables import inbox, interactions
from continuum.testing.airflow_stack import PHASES, REALTIME_ENV, latency_figures
from tests.airflow.conftest import AirflowStack, free_port, hub_without_schedules, stack_env
from tests.receiver.harness import SECRETS, running_receiver, signed


@pytest.fixture
def event_stack(tmp_path: Path, airflow_template_db: str, fresh_pg_db: Any,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[AirflowStack, dict[str, Any], Any, Any]]:
    hub_file = hub_without_schedules(tmp_path)
    monkeypatch.setenv("CONTINUUM_CONFIG", str(hub_file))
    hub = load_config()
    store_url = fresh_pg_db("continuum_store")
    metadata_url = fresh_pg_db("continuum_af", template=airflow_template_db)
    db = open_store(store_url)
    home = tmp_path / "airflow"
    home.mkdir()
    with simulators(hub, seed=False) as running:
        from connectors.jira.seed import seed as seed_jira

        seed_jira(running["jira"])  # the project only
        from connectors.slack.seed import seed as seed_slack

        seed_slack(running["slack"])  # the team channels notices go to
        key = "AIRFLOW_CONN_CONTINUUM_DISCOURSE"
        conn = json.loads(os.environ[key])
        extra = conn.get("extra") or {}
        conn["extra"] = {**(json.loads(extra) if isinstance(extra, str) else extra), **SECRETS["discourse"]}
        monkeypatch.setenv(key, json.dumps(conn))
        env = stack_env(home, metadata_url, free_port(), store_url, hub_file)
        env["AIRFLOW__CORE__EXECUTOR"] = "LocalExecutor"
        env.update(REALTIME_ENV)
        stack = AirflowStack(home=home, env=env, api_port=int(env["AIRFLOW__API__PORT"]))
        stack.python("from continuum.orchestration.pools import ensure_pools; print(ensure_pools())")
        try:
            stack.start("api-server", "api-server")
            stack.start("dag-processor", "dag-processor")
            stack.start("scheduler", "scheduler")
            stack.start("triggerer", "triggerer")
            with running_receiver(hub, db) as receiver:
                yield stack, running, db, receiver
        finally:
            stack.stop()
            db.dispose()


def _runs(stack: AirflowStack) -> list[dict[str, Any]]:
    return list(stack.api("GET", f"/dags/{INBOX_DAG}/dagRuns")["dag_runs"])


def _wait(what: str, check: Any, stack: AirflowStack, timeout: float = 240) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack._check_alive()
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout} s\n{stack.logs()}")


def test_a_signed_webhook_starts_an_inbox_run_that_makes_the_issue(event_stack: Any) -> None:
    stack, running, db, receiver = event_stack
    stack.wait_for_api()
    stack.wait_for_dag(INBOX_DAG)
    discourse, jira = running["discourse"], running["jira"]
    discourse.add_user("mara", "Mara Lindqvist", "mara@example.com")
    topic_id, post_id = discourse.create_topic("mara", "feature-requests", "Dark mode please",
                                               "Please add a dark mode to the dashboard")
    body = json.dumps({"post": {"id": post_id, "topic_id": topic_id}}).encode()
    sent = time.time()
    answer = httpx.post(receiver.hook("discourse"), content=body,
                        headers=signed("discourse", body, delivery=uuid.uuid4().hex[:12]))
    assert answer.status_code == 200
    _wait("the Jira issue", lambda: jira.issues(), stack)
    seen = time.time()
    (run,) = _wait("the continuum_inbox run's success",
                   lambda: [r for r in _runs(stack) if r["state"] == "success"], stack)
    assert run["run_type"] == "asset_triggered"
    tis = {t["task_id"]: t["state"] for t in stack.task_instances(INBOX_DAG, run["dag_run_id"])}
    assert tis == {"process_inbox": "success"}
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(interactions)).scalar_one() == 1
        assert [r.state for r in conn.execute(select(inbox.c.state))] == ["processed"]
    assert len(jira.issues()) == 1
    # The benchmark's own phase split (bench/airflow_latency.py uses it too), on this one event: a figure,
    # never asserted beyond its phases adding up to the whole.
    figures = latency_figures(stack, [(sent, seen)])
    phases = [figures[f"median_{phase}"] for phase in PHASES]
    assert all(v is not None for v in phases), figures
    assert abs(sum(phases) - figures["p50_s"]) < 0.01, figures
    print(json.dumps(figures))
