"""Real Airflow for tests and benchmarks: a throwaway home, its environment, started and stopped components.

Every process is started in its own session and killed as a process group, so a scheduler's or a worker's
children go with it.  Every wait is bounded.  Used by ``tests/airflow`` and by ``bench/airflow_latency.py``
(a benchmark must start the same stack the tests prove works, not a copy of it).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
import yaml

from continuum.config import config_path

REPO = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO / "dags"
API_USER, API_PASSWORD = "continuum", "continuum-test-password"
PG_ADMIN_URL = os.environ.get("CONTINUUM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_base() -> str:
    base = PG_ADMIN_URL.rpartition("/")[0]
    return base if "+psycopg" in base else base.replace("postgresql://", "postgresql+psycopg://", 1)


def hub_without_schedules(tmp_path: Path) -> Path:
    """The shipped hub config with every schedule off, so only the test's triggers start runs."""
    data = yaml.safe_load(config_path().read_text())
    for pipeline in data["pipelines"].values():
        pipeline["schedule"] = None
    data["mappings_dir"] = str(config_path().resolve().parent)  # the copy names the shipped mappings
    path = tmp_path / "continuum.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@dataclass
class AirflowStack:
    """One Airflow deployment: its home, its environment, its processes."""

    home: Path
    env: dict[str, str]
    api_port: int
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    token: str | None = None

    def run(self, *args: str, timeout: float = 180) -> str:
        done = subprocess.run([sys.executable, "-m", "airflow", *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise AssertionError(f"airflow {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done.stdout

    def python(self, code: str, timeout: float = 120) -> str:
        done = subprocess.run([sys.executable, "-c", code], env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)
        if done.returncode != 0:
            raise AssertionError(f"python -c failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done.stdout

    def start(self, name: str, *args: str) -> None:
        log = (self.home / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "airflow", *args], env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.home / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"--- {name} ---\n{self.log_tail(name)}" for name in self.procs)

    def stop(self) -> None:
        for proc in self.procs.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(proc, signal.SIGKILL)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    # -- the REST API ------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def wait_for_api(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                if requests.get(f"{self.url}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError(f"the api-server did not answer in {timeout} s\n{self.logs()}")
        response = requests.post(f"{self.url}/auth/token", json={"username": API_USER, "password": API_PASSWORD},
                                 timeout=10)
        assert response.status_code in (200, 201), response.text
        self.token = response.json()["access_token"]

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, f"{self.url}/api/v2{path}", timeout=15,
                                    headers={"Authorization": f"Bearer {self.token}"}, **kwargs)
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def wait_for_dag(self, dag_id: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            response = requests.get(f"{self.url}/api/v2/dags/{dag_id}", timeout=10,
                                    headers={"Authorization": f"Bearer {self.token}"})
            if response.status_code == 200:
                return
            time.sleep(1)
        raise AssertionError(f"DAG {dag_id} was not parsed in {timeout} s\n{self.logs()}")

    def trigger(self, dag_id: str) -> str:
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None})
        return str(run["dag_run_id"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 400) -> str:
        deadline = time.monotonic() + timeout
        state = "unknown"
        while time.monotonic() < deadline:
            self._check_alive()
            state = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
            if state in ("success", "failed"):
                return str(state)
            time.sleep(1)
        raise AssertionError(f"run {run_id} still {state} after {timeout} s\n{self.task_states(dag_id, run_id)}"
                             f"\n{self.logs()}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"])

    def task_states(self, dag_id: str, run_id: str) -> str:
        return json.dumps({f"{t['task_id']}[{t['map_index']}]": t["state"]
                           for t in self.task_instances(dag_id, run_id)}, indent=1)

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"airflow {name} exited with {proc.returncode}\n{self.log_tail(name, 80)}")


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass



# One Fernet key for every Airflow process of the session: left unset, each process of a fresh home may write
# its own airflow.cfg with a key of its own (a race under load), and the triggerer then cannot read the
# trigger kwargs the dag-processor encrypted.
FERNET_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()


def base_env(home: Path, metadata_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__FERNET_KEY": FERNET_KEY,
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    })
    if metadata_url.startswith("postgresql"):
        # psycopg 3 drives both; Airflow would otherwise derive an asyncpg URL for its async engine.
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] = metadata_url
    return env


def stack_env(home: Path, metadata_url: str, api_port: int, store_url: str, hub_file: Path) -> dict[str, str]:
    env = base_env(home, metadata_url)
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({API_USER: API_PASSWORD}))
    env.update({
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{API_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "CONTINUUM_DB_URL": store_url,
        "CONTINUUM_CONFIG": str(hub_file),
        "CONTINUUM_TASK_RETRIES": "0",
    })
    # The simulators' connections, set in this process by start_simulators().
    env.update({k: v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")})
    return env


@contextmanager
def throwaway_pg_database(prefix: str, template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database at :data:`PG_ADMIN_URL`'s server (optionally copied from ``template``), dropped
    afterwards; yields its SQLAlchemy URL.  For benchmarks: the tests use their own fixture, which skips."""
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        yield f"{pg_base()}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# What docs/guides/webhooks.md recommends for a deployment that takes webhooks (the compose file sets it too).
REALTIME_ENV = {"AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.25"}


# -- the webhook-to-issue latency through Airflow, phase by phase (bench/airflow_latency.py, and one test) -----
INBOX_DAG = "continuum_inbox"
PHASES = ("to_asset_event_s", "to_run_queued_s", "to_task_queued_s", "to_task_started_s", "to_issue_s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def _at(value: str | None) -> float | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


def _phases(sent: float, seen: float, event: dict[str, Any] | None, run: dict[str, Any] | None,
            ti: dict[str, Any] | None) -> dict[str, float | None]:
    """Each phase's length in seconds (None where Airflow recorded no time), ending at the issue seen."""
    marks = [sent, _at((event or {}).get("timestamp")), _at((run or {}).get("queued_at")),
             _at((ti or {}).get("queued_when")), _at((ti or {}).get("start_date")), seen]
    out: dict[str, float | None] = {}
    for name, start, end in zip(PHASES, marks[:-1], marks[1:], strict=True):
        out[name] = round(end - start, 3) if start is not None and end is not None else None
    return out


def latency_figures(stack: Any, sends: list[tuple[float, float]]) -> dict[str, Any]:
    """Match each event to the asset event, run and task that carried it (the first of each after the send)."""
    runs = sorted(stack.api("GET", f"/dags/{INBOX_DAG}/dagRuns", params={"limit": 1000})["dag_runs"],
                  key=lambda r: r["queued_at"])
    asset_events = sorted(stack.api("GET", "/assets/events", params={"limit": 1000})["asset_events"],
                          key=lambda e: e["timestamp"])
    per_event: list[dict[str, float | None]] = []
    for sent, seen in sends:
        event = next((e for e in asset_events if (_at(e["timestamp"]) or 0) >= sent), None)
        run = next((r for r in runs if (_at(r["queued_at"]) or 0) >= sent), None)
        ti = stack.task_instances(INBOX_DAG, run["dag_run_id"])[0] if run else None
        per_event.append({"latency_s": round(seen - sent, 3), **_phases(sent, seen, event, run, ti)})
    latencies = [float(e["latency_s"] or 0) for e in per_event]
    warm = latencies[1:] or latencies  # after the first event, whose task process built the caches
    figures: dict[str, Any] = {"p50_s": percentile(latencies, 0.50), "p95_s": percentile(latencies, 0.95),
                               "max_s": round(max(latencies), 3), "first_s": latencies[0],
                               "p95_after_first_s": percentile(warm, 0.95), "issues_made": len(latencies),
                               "inbox_runs": len(runs)}
    for phase in PHASES:  # the median of each phase says where the time goes
        values = [float(v) for e in per_event if (v := e[phase]) is not None]
        figures[f"median_{phase}"] = round(statistics.median(values), 3) if values else None
    return figures


