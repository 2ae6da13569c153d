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
from pathlib import Path
from typing import Any

from continuum.config import HubConfig
from continuum.kit.plugin import resolve
from continuum.kit.registry import plugin
from continuum.simkit import Simulator


def simulator_for(connector: str) -> tuple[type[Simulator], Any, Any]:
    found = plugin(connector)
    return found.simulator_class(), found.seed_simulator, found.simulator_connection


def start_simulators(hub: HubConfig, systems: list[str] | None = None, seed: bool = True,
                     host: str = "127.0.0.1", ports: dict[str, int] | None = None,
                     seed_data: dict[str, Any] | None = None) -> dict[str, Simulator]:
    """Start one simulator per system and set ``AIRFLOW_CONN_*`` so connectors reach it.

    ``seed_data`` (a seed file, by system name) replaces the shipped story: the systems it names get its
    sections, the channels it does not name stay quiet (their shipped story is not yours), and the other
    systems get their shipped seed (Jira's project, Slack's channels)."""
    running: dict[str, Simulator] = {}
    channels = {source.system for pipeline in hub.pipelines.values() for source in pipeline.sources}
    for name in systems or list(hub.systems):
        system = hub.systems[name]
        cls, seed_fn, connection_fn = simulator_for(system.connector)
        sim = cls()
        sim.start(host=host, port=(ports or {}).get(name, 0))
        if seed_data is not None and name in seed_data:
            seed_loader(system.connector)(sim, seed_data[name] or {})
        elif seed_data is not None and name in channels:
            pass
        elif seed:
            seed_fn(sim)
        os.environ[f"AIRFLOW_CONN_{system.connection.upper()}"] = json.dumps(connection_fn(sim.base_url))
        running[name] = sim
    return running


def seed_loader(connector: str) -> Any:
    """``load(sim, data)`` next to the plugin's seed function: one system's part of a seed file."""
    found = plugin(connector)
    if not found.seed:
        raise SeedFileError(f"connector {connector!r} ships no seed module, so a seed file cannot fill it")
    module = found.seed.partition(":")[0]
    try:
        return resolve(f"{module}:load")
    except ValueError:
        raise SeedFileError(f"connector {connector!r} cannot load a seed file ({module} has no load)") from None


class SeedFileError(ValueError):
    pass


def read_seed_file(path: Path, hub: HubConfig) -> dict[str, Any]:
    """A seed file (YAML or JSON): one section per system of the hub config, in that system's shape."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))  # JSON is YAML too
    except FileNotFoundError:
        raise SeedFileError(f"{path}: seed file not found") from None
    except yaml.YAMLError as exc:
        raise SeedFileError(f"{path}: not valid YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SeedFileError(f"{path}: expected one section per system ({', '.join(hub.systems)}), "
                            f"got {type(data).__name__}")
    unknown = sorted(set(data) - set(hub.systems))
    if unknown:
        raise SeedFileError(f"{path}: no system {', '.join(unknown)} in the hub config "
                            f"(configured: {', '.join(hub.systems)})")
    return data


def describe(hub: HubConfig, running: dict[str, Simulator]) -> dict[str, Any]:
    """What `continuum simulate` prints: each system's URL, its connection, and who may use it and how."""
    systems: dict[str, Any] = {}
    for name, sim in running.items():
        system = hub.systems[name]
        env = f"AIRFLOW_CONN_{system.connection.upper()}"
        systems[name] = {"url": sim.base_url, "connection": system.connection, "env": env,
                         "value": os.environ[env], "accounts": list(getattr(sim, "accounts", ()))}
    return systems


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
        counts = sim.effect_counts()
        # Every effect the simulator counts (Messenger's messages too), so a re-run's writes all show.
        result[name] = {**{key: int(counts.get(key, 0)) for key in keys}, **{k: int(v) for k, v in counts.items()}}
    return result
