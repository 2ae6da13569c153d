"""Issue #10, items 4 and 6, in real Airflow: the DAG migrates a fresh store itself, and a run that
dead-lettered records fails (Airflow's alerting sees a failed DAG run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from continuum.config import config_path
from continuum.demo.airflow import prepare_airflow_home
from continuum.store.db import make_engine, schema_revision
from continuum.store.tables import dead_letters, interactions
from tests.newcomer.conftest import Loop


def test_the_dag_runs_on_an_unmigrated_store_and_fails_on_dead_letters(loop: Loop, tmp_path: Path) -> None:
    loop.discourse.add_user("ann", "Ann", None)
    loop.discourse.create_topic("ann", "bugs", "Export crashes", "The CSV export crashes on big files")
    loop.discourse.create_topic("ann", "bugs", "Huge", "y" * 70_000)
    url = f"sqlite:///{tmp_path / 'fresh-store.db'}"  # never migrated: the DAG must do it
    env = {**prepare_airflow_home(tmp_path / "airflow", config_path().resolve(), url), **loop.env}
    env.pop("CONTINUUM_DATA_DIR", None)
    migrated = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True,
                              text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    done = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", "continuum_community"], env=env,
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert "no such table" not in output, output[-3000:]
    assert done.returncode != 0, "a run that dead-lettered a record must fail"
    assert "1 record(s) or effect(s) were dead-lettered in this run" in output, output[-3000:]
    engine = make_engine(url)
    try:
        assert schema_revision(engine) is not None
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(interactions)).scalar_one() == 1
            assert conn.execute(select(func.count()).select_from(dead_letters)).scalar_one() == 1
    finally:
        engine.dispose()
    assert len(loop.jira.issues()) == 1  # the good record went all the way through
