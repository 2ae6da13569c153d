"""Figure 6: Airflow task instances per run and wall time, for a small and a large backfill.

Uses the project's own Airflow wiring (``continuum.orchestration``): a
throwaway ``AIRFLOW_HOME`` with a SQLite metadata database and one
``airflow dags test continuum_community`` per size, against the simulators
seeded with N forum posts.  Task instances are counted in Airflow's metadata
database.  The point of the figure: the number of task instances does not
grow with the number of records (tasks handle pages and partitions, never a
record).  If the orchestration code is missing or Airflow fails here, the
figure is reported unavailable with the reason.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.calls import plant_topics
from bench.common import emit, shipped_hub

DEFAULT_SIZES = (100,)
FULL_SIZES = (100, 10_000)


def run(sizes: tuple[int, ...], workdir: Path) -> None:
    try:
        from connectors.jira.seed import seed as seed_jira
        from continuum.config import config_path
        from continuum.demo.airflow import (
            _with_conns,
            airflow,
            prepare_airflow_home,
        )
        from continuum.demo.simulators import start_simulators
        from continuum.orchestration.factory import dag_id
        from continuum.store.db import open_store
    except Exception as exc:  # the orchestration package is another helper's work in progress
        for size in sizes:
            emit("airflow_run", size, {"task_instances_per_run": None},
                 unavailable=f"orchestration code not importable: {type(exc).__name__}: {exc}")
        return
    hub = shipped_hub()
    for size in sizes:
        home = workdir / f"airflow-{size}"
        url = f"sqlite:///{workdir / f'store-{size}.db'}"
        running = start_simulators(hub, seed=False)
        try:
            for sim in running.values():
                sim.record_exchanges = False
            seed_jira(running["jira"])  # type: ignore[arg-type]
            plant_topics(running["discourse"], size)
            open_store(url).dispose()
            env = prepare_airflow_home(home, config_path().resolve(), url)
            log = workdir / f"airflow-{size}.log"
            airflow(_with_conns(env), "db", "migrate", log=log)
            started = time.perf_counter()
            airflow(_with_conns(env), "dags", "test", dag_id("community"), log=log, timeout=3600)
            wall = time.perf_counter() - started
            with sqlite3.connect(home / "airflow.db") as meta:
                tasks = meta.execute("select count(*) from task_instance").fetchone()[0]
                runs = meta.execute("select count(*) from dag_run").fetchone()[0]
            emit("airflow_run", size, {"task_instances_per_run": round(tasks / max(runs, 1), 1),
                                       "dag_test_wall_s": round(wall, 2), "dag_runs": runs},
                 how="airflow dags test (in-process task runs, no scheduler loop)")
        except Exception as exc:  # report, never fake: the reason is the figure
            emit("airflow_run", size, {"task_instances_per_run": None},
                 unavailable=f"{type(exc).__name__}: {str(exc)[-300:]}")
        finally:
            for sim in running.values():
                sim.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="*")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="continuum-bench-") as tmp:
        run(tuple(args.sizes or (FULL_SIZES if args.full else DEFAULT_SIZES)), Path(tmp))


if __name__ == "__main__":
    main()
