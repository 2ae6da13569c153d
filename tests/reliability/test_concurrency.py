"""Concurrent runs against a real PostgreSQL (and the SQLite lock file).

* Two runs of one pipeline must not overlap: the second gets a clear
  "another run holds the lock" (exit status 75 from the CLI) and does nothing.
* Two different pipelines over the same source, the same customers and the
  same Jira project run at the same time, round after round: still one
  customer per author, one interaction per post, one ticket per topic, one
  comment per follow-up and one reply per staff answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from continuum.store.db import make_engine
from continuum.store.locking import EXIT_LOCKED, AnotherRunHoldsTheLock, pipeline_lock
from tests.reliability.conftest import seed_for
from tests.reliability.figures import add_tally
from tests.reliability.world import HUB_PATH, World, dump, world

ROUNDS = int(os.environ.get("CONTINUUM_CONCURRENCY_ROUNDS", "6"))


def _cli_sync(w: World, db_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **w.env, "CONTINUUM_DB_URL": db_url, "CONTINUUM_CONFIG": str(HUB_PATH)}
    return subprocess.run([sys.executable, "-m", "continuum.cli", "sync", "community"], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_second_run_of_the_same_pipeline_is_refused_while_the_first_holds_the_lock(
        tmp_path: Path, store: str, request: pytest.FixtureRequest) -> None:
    db_url = request.getfixturevalue("pg_url") if store == "postgresql" else None
    with world(tmp_path, seed_for("lock"), db_url) as w:
        w.new_user()
        w.activity(topics=2)
        other = make_engine(w.db_url)  # another process's engine, as far as locks go
        try:
            with pipeline_lock(other, "community"):
                with pytest.raises(AnotherRunHoldsTheLock, match="another run holds the lock for pipeline 'community'"):
                    w.sync()
                refused = _cli_sync(w, w.db_url)
                assert refused.returncode == EXIT_LOCKED, refused.stderr[-2000:]
                assert "another run holds the lock" in refused.stderr
                assert w.jira.effect_counts()["calls"] == 0 and w.discourse.effect_counts()["calls"] == 0
                w.sync("community_b")  # another pipeline is not blocked
            done = _cli_sync(w, w.db_url)  # released: the next run goes ahead
            assert done.returncode == 0, done.stderr[-2000:]
        finally:
            other.dispose()


def test_a_killed_lock_holder_does_not_leave_a_stale_lock(pg_url: str) -> None:
    """PostgreSQL drops a session's advisory locks with the session: a lost worker frees the pipeline."""
    holder = make_engine(pg_url)
    conn = holder.connect()
    conn.exec_driver_sql("SELECT 1")
    with pytest.raises(AnotherRunHoldsTheLock), pipeline_lock(holder, "community"), \
            pipeline_lock(make_engine(pg_url), "community"):
        pass
    admin = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
                          if pg_url.startswith("postgresql://") else pg_url, isolation_level="AUTOCOMMIT")
    with pipeline_lock(holder, "community"):
        with admin.connect() as a:  # the holder's session dies (as if its worker were killed)
            a.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                              "AND pid <> pg_backend_pid()")
        with pipeline_lock(make_engine(pg_url), "community"):
            pass  # free again
    conn.close()
    holder.dispose()
    admin.dispose()


def test_two_pipelines_touching_the_same_customers_at_once_on_postgresql(tmp_path: Path, pg_url: str,
                                                                          figures: dict) -> None:
    seed = seed_for("concurrency")
    with world(tmp_path, seed, pg_url) as w:
        for _ in range(3):
            w.new_user()
        errors: list[BaseException] = []
        for round_ in range(ROUNDS):
            w.activity(topics=3, replies=2, staff_comments=2)
            barrier = threading.Barrier(2)

            def run(pipeline: str, barrier: threading.Barrier = barrier) -> None:
                try:
                    barrier.wait(timeout=30)
                    w.sync(pipeline)
                except BaseException as exc:  # collected and reported below
                    errors.append(exc)

            threads = [threading.Thread(target=run, args=(name,)) for name in ("community", "community_b")]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            assert not errors, f"seed={seed} round={round_}: a concurrent run failed: {errors!r}"
        w.sync("community")
        w.sync("community_b")
        tally = w.check(pipelines=("community", "community_b"))
        add_tally(tally)
        assert tally.duplicates == 0 and tally.lost == 0 and not tally.problems, f"seed={seed}\n{dump(tally)}"
