"""A pre-imported, single-threaded parent that forks one real sync process per crash trial.

Starting ``python -m continuum.cli sync`` costs a second of imports; forking
this process costs milliseconds, so hundreds of kill -9 trials stay fast.
Each child is a real OS process running the real sync against the real
simulators over HTTP and the real store; the test kills it with SIGKILL (or
it stops itself at an armed failpoint) exactly as a lost worker would.

Protocol, one JSON object per line:

* the test sends ``{"env": {...}, "pipeline": "community", "db_url": "...", "log": "path"}``;
  the zygote forks and answers ``{"pid": N}``;
* the test kills the child (or not) and sends ``{"reap": N}``; the zygote waits
  for it and answers ``{"pid": N, "status": S}`` (exit code, or minus the signal).

The zygote does not reap a child before being told to, so its pid cannot be
reused by another process while the test may still kill it.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

# Import everything a sync needs before the first fork.
import continuum.cli
import continuum.engine.run  # noqa: F401
from connectors.discourse import connector as _d  # noqa: F401
from connectors.jira import connector as _j  # noqa: F401
from continuum.engine.run import sync
from continuum.store.db import make_engine
from tests.reliability.world import reliability_hub

HUB = reliability_hub()


def _warm_up() -> None:
    """Pay the one-off costs of a first run (Airflow's secret masker, language models) before forking."""
    import threading

    from continuum.connections import resolve_connection

    os.environ.setdefault("AIRFLOW_CONN_CONTINUUM_WARM_UP", json.dumps(
        {"conn_type": "http", "host": "http://x", "password": "warm-up-not-a-secret"}))
    resolve_connection("continuum_warm_up")
    try:
        from continuum.engine.facts import detect_language

        detect_language("a warm-up sentence for the language model")
    except (ImportError, TypeError):
        pass
    # fork() copies only the calling thread: a thread started by an import would be lost in the children.
    assert threading.active_count() == 1, f"the zygote must stay single-threaded: {threading.enumerate()}"


def _child(request: dict) -> None:
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.environ.update(request["env"])
    code = 0
    try:
        db = make_engine(request["db_url"])
        sync(request.get("pipeline", "community"), HUB, db)
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main() -> None:
    _warm_up()
    out = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        if "reap" in request:
            pid, status = os.waitpid(int(request["reap"]), 0)
            code = os.waitstatus_to_exitcode(status)
            out.write(json.dumps({"pid": pid, "status": code}) + "\n")
            out.flush()
            continue
        pid = os.fork()
        if pid == 0:
            _child(request)
        out.write(json.dumps({"pid": pid}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
