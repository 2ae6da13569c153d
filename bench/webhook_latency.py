"""Figure: from a signed webhook to the Jira issue existing in the simulator, without Airflow's task start.

The simulators on loopback (the shipped config, unseeded), a SQLite store, the receiver (uvicorn, in a
thread) and a warm processor doing what the event DAG does in a loop: the inbox watcher's announcement
(every ``--poll`` seconds), then ``continuum inbox process``.  For each of ``--events`` bug reports, one
after another: the post is made in the Discourse simulator, its signed delivery is sent, and the clock
stops when the Jira simulator holds one more issue.  Through Airflow, a run's task start (a fresh process
on a worker) comes on top; ``tests/airflow/test_webhook_wakes.py`` prints that end-to-end figure.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bench.common import emit
from continuum.cli.common import stdout_to_stderr
from continuum.config import load_config
from continuum.demo.simulators import start_simulators
from continuum.engine.inbox import process_inbox
from continuum.kit.registry import plugin
from continuum.receiver import ReceiverSettings, build_app
from continuum.store import inbox
from continuum.store.db import open_store
from continuum.testing.airflow_stack import percentile

SECRET = {"webhook_secret": "bench-latency-discourse"}
WORDS = ("export", "import", "login", "search", "report", "invoice", "upload", "sync", "filter", "print")


def run(events: int, poll_s: float, workdir: Path) -> dict[str, float | int | None]:
    hub = load_config()
    running = start_simulators(hub, seed=False)
    from connectors.jira.seed import seed as seed_jira
    from connectors.slack.seed import seed as seed_slack

    seed_jira(running["jira"])
    seed_slack(running["slack"])
    key = "AIRFLOW_CONN_CONTINUUM_DISCOURSE"
    conn = json.loads(os.environ[key])
    extra = conn.get("extra") or {}
    conn["extra"] = {**(json.loads(extra) if isinstance(extra, str) else extra), **SECRET}
    os.environ[key] = json.dumps(conn)
    db = open_store(f"sqlite:///{workdir / 'store.db'}")
    server = uvicorn.Server(uvicorn.Config(build_app(hub, db, ReceiverSettings()), host="127.0.0.1", port=0,
                                           log_level="error", lifespan="off", access_log=False))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/hooks/discourse"
    stop = threading.Event()

    def processor() -> None:  # the watcher and the event DAG's task, in one warm process
        while not stop.is_set():
            with db.begin() as c:
                fresh = inbox.announce_new(c)
            if fresh:
                process_inbox(hub, db)
            else:
                stop.wait(poll_s)

    worker = threading.Thread(target=processor, daemon=True)
    worker.start()
    verifier: Any = plugin("discourse").webhook_verifier()
    discourse, jira = running["discourse"], running["jira"]
    discourse.add_user("mara", "Mara Lindqvist", "mara@example.com")
    latencies: list[float] = []
    try:
        for n in range(events):
            word = f"{WORDS[n % len(WORDS)]}-{n}"
            topic_id, post_id = discourse.create_topic("mara", "bugs", f"The {word} page crashes",
                                                       f"Opening {word} crashes the app every time ({uuid.uuid4()})")
            before = len(jira.issues())
            body = json.dumps({"post": {"id": post_id, "topic_id": topic_id}}).encode()
            headers = verifier.sign(body, SECRET, datetime.now(UTC), uuid.uuid4().hex, "post:post_created")
            started = time.perf_counter()
            if httpx.post(url, content=body, headers=headers).status_code != 200:
                raise RuntimeError("the receiver refused a signed delivery")
            deadline = started + 120
            while len(jira.issues()) == before:
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"event {n}: no Jira issue after 120 s")
                time.sleep(0.01)
            latencies.append(time.perf_counter() - started)
    finally:
        stop.set()
        worker.join(timeout=60)
        server.should_exit = True
        for sim in running.values():
            sim.stop()
        db.dispose()
    return {"p50_s": percentile(latencies, 0.50), "p95_s": percentile(latencies, 0.95),
            "max_s": round(max(latencies), 3), "issues_made": len(latencies), "poll_s": poll_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--poll", type=float, default=0.2, help="the watcher's interval, seconds")
    parser.add_argument("--full", action="store_true", help="(the default size already is the full run)")
    args = parser.parse_args()
    # The simulators' and the engine's log lines go to stderr: stdout is for the JSON line.
    with tempfile.TemporaryDirectory(prefix="continuum-bench-latency-") as folder, stdout_to_stderr():
        figures = run(args.events, args.poll, Path(folder))
    emit("webhook_to_jira_issue", args.events, figures, store="sqlite",
         path="receiver -> inbox -> warm `continuum inbox process` (no Airflow task start)")


if __name__ == "__main__":
    main()
