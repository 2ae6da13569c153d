"""End-to-end fixtures: both simulators on loopback, the shipped config, a fresh store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from continuum.config import HubConfig, load_config
from continuum.demo.simulators import start_simulators
from continuum.engine.context import RunStats
from continuum.engine.run import sync
from continuum.http import STATS
from continuum.simkit import Simulator
from continuum.store.db import open_store


@dataclass
class Loop:
    hub: HubConfig
    db: Engine
    db_url: str
    discourse: Simulator
    jira: Simulator
    env: dict[str, str]
    sims: dict[str, Simulator]

    def sync(self) -> RunStats:
        return sync("community", self.hub, self.db)


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[Loop]:
    """Unseeded simulators (tests plant exactly what they need) and an empty SQLite store."""
    hub = load_config()
    saved = {k: v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")}
    running = start_simulators(hub, seed=False)
    from connectors.jira.seed import seed as seed_jira

    seed_jira(running["jira"])  # the project only
    from connectors.slack.seed import seed as seed_slack

    seed_slack(running["slack"])  # the team channels
    url = f"sqlite:///{tmp_path / 'store.db'}"
    db = open_store(url)
    STATS.reset()
    env = {k: v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")}
    try:
        yield Loop(hub, db, url, running["discourse"], running["jira"], env, running)
    finally:
        db.dispose()
        for sim in running.values():
            sim.stop()
        for key in env:
            os.environ.pop(key, None)
        os.environ.update(saved)
