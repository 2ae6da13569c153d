"""Start the simulators of the configured systems and point connections at them.

Each registered plugin names its simulator class, its seed function and the
credentials a connection to the simulator holds (see
:class:`continuum.kit.plugin.ConnectorPlugin`).  Nothing here names a system.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from continuum.config import HubConfig
from continuum.kit.registry import plugin
from continuum.simkit import Simulator


def simulator_for(connector: str) -> tuple[type[Simulator], Any, Any]:
    found = plugin(connector)
    return found.simulator_class(), found.seed_simulator, found.simulator_connection


def start_simulators(hub: HubConfig, systems: list[str] | None = None, seed: bool = True,
                     host: str = "127.0.0.1", ports: dict[str, int] | None = None) -> dict[str, Simulator]:
    """Start one simulator per system and set ``AIRFLOW_CONN_*`` so connectors reach it."""
    running: dict[str, Simulator] = {}
    for name in systems or list(hub.systems):
        system = hub.systems[name]
        cls, seed_fn, connection_fn = simulator_for(system.connector)
        sim = cls()
        sim.start(host=host, port=(ports or {}).get(name, 0))
        if seed:
            seed_fn(sim)
        os.environ[f"AIRFLOW_CONN_{system.connection.upper()}"] = json.dumps(connection_fn(sim.base_url))
        running[name] = sim
    return running


@contextmanager
def simulators(hub: HubConfig, systems: list[str] | None = None, seed: bool = True) -> Iterator[dict[str, Simulator]]:
    running = start_simulators(hub, systems, seed)
    try:
        yield running
    finally:
        for sim in running.values():
            sim.stop()


def effect_counts(running: dict[str, Simulator]) -> dict[str, dict[str, int]]:
    """What each simulator saw happen to it (counted there, not by the engine)."""
    keys = ("created", "updated", "comments", "replies", "transitions", "notifications", "calls")
    result = {}
    for name, sim in running.items():
        counts = sim.effect_counts()  # type: ignore[attr-defined]
        result[name] = {key: int(counts.get(key, 0)) for key in keys}
    return result
