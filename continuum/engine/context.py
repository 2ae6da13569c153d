"""What one pipeline run needs: the store, the config, and a connector per system."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from continuum.config import HubConfig, PipelineConfig
from continuum.connections import resolve_connection
from continuum.connector import Connector, load_connector_factory
from continuum.mapping import MappingFile, load_mapping

Progress = Callable[[str, int], None]


@dataclass
class RunStats:
    """Counts for one run, by stage; the CLI and the DAG tasks report them."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def merge(self, other: RunStats) -> None:
        for name, n in other.counts.items():
            self.add(name, n)


@dataclass
class SyncContext:
    db: Engine
    hub: HubConfig
    pipeline_name: str
    connectors: dict[str, Connector]
    progress: Progress | None = None
    max_attempts: int = 5

    @property
    def pipeline(self) -> PipelineConfig:
        return self.hub.pipelines[self.pipeline_name]

    def mapping(self, name: str) -> MappingFile:
        return load_mapping(name)

    def connector(self, system: str) -> Connector:
        return self.connectors[system]

    def system_context(self, system: str) -> dict[str, Any]:
        """What templates may know about a system: its name, account and options (never credentials)."""
        connector = self.connectors.get(system)
        return {"name": system, "account": getattr(connector, "account", None),
                "options": dict(self.hub.systems[system].options)}

    def tick(self, what: str, n: int = 1) -> None:
        if self.progress is not None:
            self.progress(what, n)


def build_connectors(hub: HubConfig, systems: list[str] | None = None) -> dict[str, Connector]:
    """Create connectors for the named systems (all by default); nothing connects yet."""
    connectors: dict[str, Connector] = {}
    for name in systems or list(hub.systems):
        system = hub.systems[name]
        factory = load_connector_factory(system.connector)
        connectors[name] = factory(resolve_connection(system.connection), dict(system.options))
    return connectors


def pipeline_systems(hub: HubConfig, pipeline: str) -> list[str]:
    spec = hub.pipelines[pipeline]
    names = [s.system for s in spec.sources] + [t.system for t in spec.targets]
    names += [r.then.route for r in spec.routing if r.then.route]
    return list(dict.fromkeys(names))
