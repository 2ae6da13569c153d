"""Real Airflow for the tests: throwaway homes, PostgreSQL metadata databases, started and stopped components.

Every process is started in its own session and killed as a process group,
so a scheduler's or a Celery worker's children go with it.  Every wait is
bounded.  Nothing is written outside pytest's ``tmp_path`` and the throwaway
databases, which are dropped afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from continuum.testing.airflow_stack import (  # noqa: F401 - re-exported for the tests of this folder
    API_PASSWORD,
    API_USER,
    DAGS_FOLDER,
    FERNET_KEY,
    REPO,
    AirflowStack,
    base_env,
    free_port,
    hub_without_schedules,
    pg_base,
    stack_env,
)
from tests.conftest import throwaway_database

REDIS_URL = os.environ.get("CONTINUUM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep every real-Airflow test on one xdist worker: they share one migrated template database per session
    (migrating it costs about a minute), and two Airflow stacks at once would fight for the 2 cores."""
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.xdist_group("airflow"))


@pytest.fixture(scope="session")
def airflow_template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL database migrated once by ``airflow db migrate``; each stack copies it (fast)."""
    with throwaway_database("continuum_aftpl", "the Airflow scheduler tests need it for Airflow's metadata") as name:
        env = base_env(tmp_path_factory.mktemp("airflow-migrate"), f"{pg_base()}/{name}")
        done = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env,
                              capture_output=True, text=True, timeout=240, check=False)
        if done.returncode != 0:
            raise AssertionError(f"airflow db migrate failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        yield name


@pytest.fixture
def fresh_pg_db() -> Iterator[Any]:
    """Make empty or templated throwaway databases; all are dropped at the end of the test."""
    with ExitStack() as stack:

        def make(prefix: str, template: str | None = None) -> str:
            name = stack.enter_context(throwaway_database(prefix, "the Airflow tests need it", template))
            return f"{pg_base()}/{name}"

        yield make


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping())
    except Exception:
        return False
