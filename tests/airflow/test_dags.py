"""The DAG factory: one DAG per pipeline, stage-shaped tasks, pools, schedules, Assets, a cheap parse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from continuum.config import HubConfig, config_path, load_config
from continuum.orchestration.factory import DAG_FILE_SOURCE, build_dags, dag_id
from continuum.orchestration.inbox import INBOX_DAG
from continuum.orchestration.pools import pool_name
from continuum.orchestration.schedule import ScheduleError, airflow_schedule, check_schedule, pipeline_asset_uri
from tests.airflow.conftest import DAGS_FOLDER, base_env


def test_the_dag_file_is_the_thin_factory_call() -> None:
    assert (DAGS_FOLDER / "continuum_pipelines.py").read_text() == DAG_FILE_SOURCE


def test_one_dag_per_pipeline_with_schedule_single_run_no_catchup_and_retries() -> None:
    hub = load_config()
    dags = build_dags(hub)
    assert set(dags) == {dag_id(name) for name in hub.pipelines} | {INBOX_DAG}  # webhooks: the event DAG
    dag = dags[dag_id("community")]
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert hub.pipelines["community"].schedule and dag.timetable.expression == hub.pipelines["community"].schedule
    for task in dag.tasks:
        if task.task_id == "check_dead_letters":  # failing on purpose: retrying would not change the count
            assert task.retries == 0
            continue
        assert task.retries == 3 and task.retry_exponential_backoff == 2.0
        assert task.retry_delay == timedelta(seconds=30) and task.max_retry_delay == timedelta(minutes=10)


def test_tasks_follow_the_loop_and_call_each_system_in_its_pool() -> None:
    dag = build_dags()[dag_id("community")]
    tasks = {t.task_id: t for t in dag.tasks}
    reads = [f"read_{source.system}" for source in load_config().pipelines["community"].sources]
    assert list(tasks)[:len(reads) + 2] == ["migrate_store", *reads, "plan"]
    assert all(tasks[read].upstream_task_ids == {"migrate_store"} for read in reads)  # every source at once
    assert set(reads) <= tasks["plan"].upstream_task_ids
    assert {"apply_jira", "plan_follow_ups", "apply_follow_ups_jira", "read_back_jira", "respond_discourse",
            "respond_x", "respond_facebook", "publish_confluence", "report"} <= set(tasks)
    # The wiki's pages come last, once the run's tickets and answers are in the store.
    responds = [t for t in tasks if t.startswith("respond_")]  # one after another: each holds the run lock
    # The CRM sync after the answers (its timeline holds this run's kept interactions), then the pages.
    assert tasks["crm_hubspot"].upstream_task_ids == {responds[-1]}
    assert tasks["publish_confluence"].upstream_task_ids == {"crm_hubspot"}
    assert "apply_confluence" not in tasks  # its effects are its pages: the publish task applies them
    for task_id, task in tasks.items():
        system = task_id.rsplit("_", 1)[-1]
        if task_id.startswith(("read_", "apply_", "respond_", "publish_", "crm_")):
            assert task.pool == pool_name(system), task_id
        else:
            assert task.pool == "default_pool", task_id
    # The read is mapped over the configured streams: the number of instances is the number of
    # streams, whatever the number of records.
    read = tasks["read_discourse"]
    expanded = read.op_kwargs_expand_input.value["unit"]  # type: ignore[attr-defined]
    assert expanded == [{"system": "discourse", "stream": "posts", "partition": ""}]
    assert tasks["report"].upstream_task_ids == set(tasks) - {"report", "check_dead_letters", "migrate_store"}
    assert tasks["check_dead_letters"].upstream_task_ids == {"report"}  # a run with dead letters fails
    assert [o.uri for o in tasks["report"].outlets] == [pipeline_asset_uri("community")]


def test_schedule_forms_and_clear_errors() -> None:
    names = ["community", "digest"]
    assert airflow_schedule("digest", "30m", names) == timedelta(minutes=30)
    assert airflow_schedule("digest", "2h", names) == timedelta(hours=2)
    assert airflow_schedule("digest", "*/10 * * * *", names) == "*/10 * * * *"
    assert airflow_schedule("digest", "@daily", names) == "@daily"
    assert airflow_schedule("digest", None, names) is None
    asset = airflow_schedule("digest", "after: community", names)
    assert asset.uri == pipeline_asset_uri("community")
    for bad in ("every tuesday", "0m", "after: nobody", "after: digest", "* * *"):
        with pytest.raises(ScheduleError, match="pipeline 'digest'"):
            check_schedule("digest", bad, names)


def test_a_pipeline_scheduled_after_another_is_chained_by_its_asset() -> None:
    data = yaml.safe_load(config_path().read_text())
    follower = dict(data["pipelines"]["community"], schedule="after: community",
                    description="runs when community has run")
    data["pipelines"]["follower"] = follower
    hub = HubConfig.model_validate(data)
    dags = build_dags(hub)
    produced = {o.uri for o in dags[dag_id("community")].get_task("report").outlets}
    consumed = dags[dag_id("follower")].timetable
    assert produced == {pipeline_asset_uri("community")}
    assert consumed.asset_condition.uri == pipeline_asset_uri("community")


def test_the_dag_folder_parses_without_network_or_database_and_without_import_errors(tmp_path: Path) -> None:
    """Parse the DAG folder with every socket connection refused and a store URL nothing answers."""
    env = base_env(tmp_path, f"sqlite:///{tmp_path / 'airflow.db'}")
    env["CONTINUUM_DB_URL"] = "postgresql://nobody@192.0.2.1/unreachable"
    probe = f"""
import socket, time, json
def refuse(*args, **kwargs):
    raise AssertionError(f"network I/O at parse time: {{args}}")
socket.socket.connect = refuse
socket.create_connection = refuse
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag({str(DAGS_FOLDER)!r})
print(json.dumps({{"dags": sorted(bag.dag_ids), "errors": bag.import_errors,
                  "seconds": time.perf_counter() - started}}))
"""
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert result["dags"] == sorted([*(dag_id(p) for p in load_config().pipelines), INBOX_DAG])
    assert result["seconds"] < 10, result


def test_airflow_lists_no_import_errors_for_the_dag_folder(tmp_path: Path) -> None:
    env = base_env(tmp_path, f"sqlite:///{tmp_path / 'airflow.db'}")
    migrated = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True,
                              text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "airflow", "dags", "list-import-errors", "-l", "-o", "json"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    # The last line is the listing; Airflow may log warnings (graphviz) before it.
    assert done.stdout.strip().splitlines()[-1] in ("[]", "No data found"), done.stdout
    assert time.monotonic() - started < 60
    assert os.environ.get("AIRFLOW_HOME") != str(tmp_path)  # the test's home, never the user's


def test_webhooks_wake_pipelines_through_the_inbox_dag_watching_an_asset() -> None:
    from continuum.orchestration.inbox import INBOX_ASSET_URI, POLL_S, InboxTrigger

    dag = build_dags()[INBOX_DAG]
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert [t.task_id for t in dag.tasks] == ["process_inbox"]
    (asset,) = dag.timetable.asset_condition.objects
    assert asset.uri.rstrip("/") == INBOX_ASSET_URI
    (watcher,) = asset.watchers
    assert isinstance(watcher.trigger, InboxTrigger)
    # The triggerer rebuilds it from this: the class path must import, and nothing secret is in it.
    path, kwargs = watcher.trigger.serialize()
    assert path == "continuum.orchestration.inbox.InboxTrigger"
    assert kwargs == {"poll_s": POLL_S, "db_url": None, "retry_s": 10.0}
