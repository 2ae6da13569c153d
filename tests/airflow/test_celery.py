"""The community sync on CeleryExecutor: a Redis broker and two Celery workers, as the compose file runs it."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from continuum.config import load_config
from continuum.demo.simulators import simulators
from continuum.orchestration.factory import build_dags, dag_id
from continuum.store.db import open_store
from continuum.store.tables import links, outbox
from tests.airflow.conftest import REDIS_URL, AirflowStack, free_port, hub_without_schedules, redis_available, stack_env

DAG = dag_id("community")
WORKERS = ("worker-1", "worker-2")


@pytest.fixture
def celery_stack(tmp_path: Path, airflow_template_db: str, fresh_pg_db: Any,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[AirflowStack, dict[str, Any], Any]]:
    if not redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: the CeleryExecutor test needs it as the broker "
                    "(set CONTINUUM_TEST_REDIS_URL)")
    hub_file = hub_without_schedules(tmp_path)
    monkeypatch.setenv("CONTINUUM_CONFIG", str(hub_file))
    hub = load_config()
    store_url = fresh_pg_db("continuum_store")
    metadata_url = fresh_pg_db("continuum_af", template=airflow_template_db)
    db = open_store(store_url)
    home = tmp_path / "airflow"
    home.mkdir()
    with simulators(hub) as running:
        env = stack_env(home, metadata_url, free_port(), store_url, hub_file)
        env.update({
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": REDIS_URL,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata_url,
            # A queue of its own, so the test shares nothing with other users of this Redis.
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": f"continuum_test_{uuid.uuid4().hex[:8]}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
            "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
        })
        stack = AirflowStack(home=home, env=env, api_port=int(env["AIRFLOW__API__PORT"]))
        stack.python("from continuum.orchestration.pools import ensure_pools; ensure_pools()")
        queue = env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]
        try:
            stack.start("api-server", "api-server")
            stack.start("dag-processor", "dag-processor")
            stack.start("scheduler", "scheduler")
            for name in WORKERS:
                stack.start(name, "celery", "worker", "--queues", queue, "--concurrency", "1",
                            "--celery-hostname", f"{name}@continuum-test", "--pid", str(home / f"{name}.pid"),
                            "--skip-serve-logs", "--without-gossip")
            yield stack, running, db
        finally:
            stack.stop()
            db.dispose()


def test_celery_executor_with_two_workers_runs_the_sync(celery_stack: Any) -> None:
    stack, running, db = celery_stack
    started = time.monotonic()
    stack.wait_for_api()
    _wait_for_workers(stack)
    stack.wait_for_dag(DAG)
    run = stack.trigger(DAG)
    assert stack.wait_for_run(DAG, run) == "success", stack.task_states(DAG, run)

    tis = stack.task_instances(DAG, run)
    assert {t["state"] for t in tis} == {"success"} and len(tis) == len(build_dags()[DAG].tasks)
    with db.connect() as conn:
        linked = conn.execute(select(func.count()).select_from(links).where(
            links.c.system == "jira", links.c.object_type == "issue")).scalar_one()
    with db.connect() as conn:
        errors = conn.execute(select(outbox.c.state, outbox.c.last_error).where(outbox.c.state != "done")).all()
    assert not errors, errors[:3]
    assert linked > 0 and running["jira"].effect_counts()["created"] == linked
    executed = {name: _tasks_run_by(stack, name) for name in WORKERS}
    assert sum(executed.values()) == len(tis), executed
    print(f"\ncelery test: {time.monotonic() - started:.1f} s; task instances per worker {executed}")


def _wait_for_workers(stack: AirflowStack, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(" ready." in (stack.home / f"{name}.log").read_text(errors="replace") for name in WORKERS):
            return
        stack._check_alive()
        time.sleep(0.5)
    raise AssertionError(f"the Celery workers did not start in {timeout} s\n{stack.logs()}")


def _tasks_run_by(stack: AirflowStack, worker: str) -> int:
    text = (stack.home / f"{worker}.log").read_text(errors="replace")
    return len(re.findall(r"Task \S*execute_workload\[[^\]]+\] received", text))
