"""The offline demo, run by real Airflow.

The same story as :func:`continuum.demo.story.run_demo` (sync, staff answer, sync,
then two re-runs that must change nothing) and the same summary, but every
sync is ``airflow dags test continuum_<pipeline>`` in a throwaway
``AIRFLOW_HOME`` with a SQLite metadata database.  The simulators run in this
process; Airflow reaches them through the ``AIRFLOW_CONN_*`` variables that
starting them sets, exactly as it would reach the real systems.

Airflow runs in child processes because its configuration is read once, at
import: this process may already have imported Airflow with another home.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from continuum.config import HubConfig, config_path, load_config
from continuum.connector import JSON
from continuum.demo.simulators import simulators
from continuum.demo.story import play_story
from continuum.engine.context import Progress
from continuum.orchestration.factory import DAG_FILE_SOURCE, dag_id
from continuum.store.db import open_store

DAG_TEST_TIMEOUT = 300


class AirflowRunFailed(RuntimeError):
    pass


def prepare_airflow_home(home: Path, hub_file: Path, store_url: str) -> dict[str, str]:
    """Write a DAG folder into ``home`` and return the environment Airflow's processes need."""
    dags = home / "dags"
    dags.mkdir(parents=True, exist_ok=True)
    (dags / "continuum_pipelines.py").write_text(DAG_FILE_SOURCE)
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "CONTINUUM_CONFIG": str(hub_file),
        "CONTINUUM_DB_URL": store_url,
        # A failing task should fail the demo now, not after retries spaced minutes apart.
        "CONTINUUM_TASK_RETRIES": "0",
    })
    return env


def airflow(env: dict[str, str], *args: str, log: Path, timeout: float = DAG_TEST_TIMEOUT) -> None:
    """Run one ``airflow`` command; on failure raise with the end of its output."""
    with log.open("a") as out:
        out.write(f"\n$ airflow {' '.join(args)}\n")
        out.flush()
        try:
            done = subprocess.run([sys.executable, "-m", "airflow", *args], env=env, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise AirflowRunFailed(f"airflow {' '.join(args)} did not finish in {timeout:.0f} s") from None
    if done.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-40:])
        raise AirflowRunFailed(f"airflow {' '.join(args)} failed (exit {done.returncode}):\n{tail}")


def run_demo(hub: HubConfig | None = None, db_url: str | None = None, progress: Progress | None = None,
             answer_count: int = 3, timings: dict[str, float] | None = None) -> JSON:
    """Run the demo through Airflow; returns the summary :func:`continuum.demo.story.run_demo` returns.

    ``timings``, if given, is filled with how long Airflow took (migrate, DAG runs).
    """
    workdir = Path(tempfile.mkdtemp(prefix="continuum-airflow-demo-"))
    if hub is None:
        hub, hub_file = load_config(), config_path()
    else:
        hub_file = _write_hub(hub, workdir / "continuum.yaml")
    url = db_url or f"sqlite:///{workdir / 'demo.db'}"
    env = prepare_airflow_home(workdir / "airflow", hub_file.resolve(), url)
    log = workdir / "airflow.log"
    pipelines = list(hub.pipelines)
    timings = {} if timings is None else timings
    ok = False
    try:
        with simulators(hub) as running:
            db = open_store(url)
            started = time.monotonic()
            airflow(_with_conns(env), "db", "migrate", log=log)
            timings["airflow_db_migrate_s"] = round(time.monotonic() - started, 1)

            def sync_all() -> None:
                for name in pipelines:
                    started = time.monotonic()
                    airflow(_with_conns(env), "dags", "test", dag_id(name), log=log)
                    timings.setdefault("dag_runs", 0)
                    timings["dag_runs"] += 1
                    timings.setdefault("dag_test_s", 0.0)
                    timings["dag_test_s"] = round(timings["dag_test_s"] + time.monotonic() - started, 1)
                    if progress is not None:
                        progress(f"airflow dags test {dag_id(name)}", 1)

            summary = play_story(db, hub, running, sync_all, answer_count)
            db.dispose()
        ok = True
    finally:
        if not ok:
            print(f"Airflow's output is kept in {log}", file=sys.stderr)
    summary["store"] = url if db_url else "throwaway SQLite file"
    if not db_url:
        shutil.rmtree(workdir, ignore_errors=True)
    return summary


def _with_conns(env: dict[str, str]) -> dict[str, str]:
    """The base environment plus the ``AIRFLOW_CONN_*`` the simulators set after it was made."""
    merged = dict(env)
    merged.update({k: v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")})
    return merged


def _write_hub(hub: HubConfig, path: Path) -> Path:
    import yaml

    data = hub.model_dump(mode="json", exclude_none=True)
    data["mappings_dir"] = str(hub.files_dir())  # the copy names the same files as the original
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
