"""Figure: from a signed webhook to its Jira issue through real Airflow, phase by phase.

The stack the tests prove (``continuum.testing.airflow_stack``): api-server, dag-processor, scheduler and
triggerer (LocalExecutor), PostgreSQL for Airflow's metadata and for the store, the receiver (uvicorn, in
a thread), the simulators on loopback with the shipped config and no schedules.  For each of ``--events``
bug reports, one after another: the post is made in the Discourse simulator, its signed delivery is sent,
and the clock stops when the Jira simulator holds one more issue.  Airflow's own timestamps then split
each event's latency into phases: delivery → asset event (receiver, the triggerer's watcher), → dag run
queued (scheduler), → task queued (scheduler), → task started (executor, a task process), → issue seen
(the task process: DAG file, imports, the pass).  Needs PostgreSQL (``CONTINUUM_TEST_PG_URL``); without
it the figure is reported unavailable.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.common import emit
from bench.webhook_latency import SECRET, WORDS
from continuum.cli.common import stdout_to_stderr
from continuum.testing.airflow_stack import latency_figures

INBOX_DAG = "continuum_inbox"


def run(events: int, workdir: Path) -> dict[str, Any]:
    from connectors.jira.seed import seed as seed_jira
    from connectors.slack.seed import seed as seed_slack
    from continuum.config import load_config
    from continuum.demo.simulators import simulators
    from continuum.kit.registry import plugin
    from continuum.orchestration.pools import ensure_pools  # noqa: F401 - fails early if Airflow is missing
    from continuum.store.db import open_store
    from continuum.testing.airflow_stack import (
        REALTIME_ENV,
        AirflowStack,
        base_env,
        free_port,
        hub_without_schedules,
        stack_env,
        throwaway_pg_database,
    )

    hub_file = hub_without_schedules(workdir)
    os.environ["CONTINUUM_CONFIG"] = str(hub_file)
    hub = load_config()
    with ExitStack() as stack_of:
        template = stack_of.enter_context(throwaway_pg_database("continuum_bench_aftpl"))
        migrate_env = base_env(workdir / "migrate", template)
        (workdir / "migrate").mkdir()
        AirflowStack(home=workdir / "migrate", env=migrate_env, api_port=0).run("db", "migrate", timeout=600)
        metadata_url = stack_of.enter_context(
            throwaway_pg_database("continuum_bench_af", template=template.rpartition("/")[2]))
        store_url = stack_of.enter_context(throwaway_pg_database("continuum_bench_store"))
        db = open_store(store_url)
        stack_of.callback(db.dispose)
        running = stack_of.enter_context(simulators(hub, seed=False))
        seed_jira(running["jira"])
        seed_slack(running["slack"])
        key = "AIRFLOW_CONN_CONTINUUM_DISCOURSE"
        conn = json.loads(os.environ[key])
        extra = conn.get("extra") or {}
        conn["extra"] = {**(json.loads(extra) if isinstance(extra, str) else extra), **SECRET}
        os.environ[key] = json.dumps(conn)
        home = workdir / "airflow"
        home.mkdir()
        env = stack_env(home, metadata_url, free_port(), store_url, hub_file)
        env["AIRFLOW__CORE__EXECUTOR"] = "LocalExecutor"
        env.update(REALTIME_ENV)
        stack = AirflowStack(home=home, env=env, api_port=int(env["AIRFLOW__API__PORT"]))
        stack.python("from continuum.orchestration.pools import ensure_pools; print(ensure_pools())")
        stack_of.callback(stack.stop)
        for name in ("api-server", "dag-processor", "scheduler", "triggerer"):
            stack.start(name, name)
        url = stack_of.enter_context(_receiver(hub, db)) + "/hooks/discourse"
        stack.wait_for_api(timeout=180)
        stack.wait_for_dag(INBOX_DAG, timeout=180)
        verifier: Any = plugin("discourse").webhook_verifier()
        discourse, jira = running["discourse"], running["jira"]
        discourse.add_user("mara", "Mara Lindqvist", "mara@example.com")
        sends: list[tuple[float, float]] = []
        for n in range(events):
            word = f"{WORDS[n % len(WORDS)]}-{n}"
            topic_id, post_id = discourse.create_topic("mara", "bugs", f"The {word} page crashes",
                                                       f"Opening {word} crashes the app every time ({uuid.uuid4()})")
            before = len(jira.issues())
            body = json.dumps({"post": {"id": post_id, "topic_id": topic_id}}).encode()
            headers = verifier.sign(body, SECRET, datetime.now(UTC), uuid.uuid4().hex, "post:post_created")
            sent = time.time()
            if httpx.post(url, content=body, headers=headers).status_code != 200:
                raise RuntimeError("the receiver refused a signed delivery")
            deadline = time.monotonic() + 180
            while len(jira.issues()) == before:
                stack._check_alive()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"event {n}: no Jira issue after 180 s\n{stack.logs()}")
                time.sleep(0.02)
            sends.append((sent, time.time()))
        return latency_figures(stack, sends)


def _receiver(hub: Any, db: Any) -> Any:
    from contextlib import contextmanager

    @contextmanager
    def serving() -> Any:
        import threading

        import uvicorn

        from continuum.receiver import ReceiverSettings, build_app

        server = uvicorn.Server(uvicorn.Config(build_app(hub, db, ReceiverSettings()), host="127.0.0.1", port=0,
                                               log_level="error", lifespan="off", access_log=False))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        finally:
            server.should_exit = True

    return serving()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--full", action="store_true", help="100 events instead of 10")
    args = parser.parse_args()
    events = 100 if args.full else args.events
    error: str | None = None
    with tempfile.TemporaryDirectory(prefix="continuum-bench-airflow-latency-") as folder, stdout_to_stderr():
        try:
            figures = run(events, Path(folder))
        except Exception as exc:  # no PostgreSQL, no Airflow: say so in the figure rather than crash the bench
            figures, error = {"p95_s": None}, f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
    if error:
        emit("webhook_to_jira_issue_airflow", events, figures, unavailable=error)
    else:
        emit("webhook_to_jira_issue_airflow", events, figures, store="postgresql",
             path="receiver -> inbox -> triggerer -> asset event -> continuum_inbox run (LocalExecutor)")

if __name__ == "__main__":
    main()
