"""What one pipeline run needs: the store, the config, and a connector per system."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from continuum.config import HubConfig, PipelineConfig
from continuum.connections import resolve_connection
from continuum.connector import Connector, load_connector_factory
from continuum.mapping import MappingFile, load_mapping, mappings_dir
from continuum.rulebook import RuleBook, load_rulebook

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
    _rulebook: RuleBook | None = field(default=None, repr=False)
    # When a list, triage appends why it decided what it did (for `continuum plan`).
    explain: list[dict[str, Any]] | None = None
    _mappings: dict[str, MappingFile] = field(default_factory=dict, repr=False)

    @property
    def pipeline(self) -> PipelineConfig:
        return self.hub.pipelines[self.pipeline_name]

    @property
    def rulebook(self) -> RuleBook:
        if self._rulebook is None:
            self._rulebook = pipeline_rulebook(self.hub, self.pipeline_name)
        return self._rulebook

    def mapping(self, name: str) -> MappingFile:
        # Loaded once per run: a run sees one consistent set of mapping files.
        found = self._mappings.get(name)
        if found is None:
            found = self._mappings[name] = load_mapping(name)
        return found

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


def pipeline_rulebook(hub: HubConfig, pipeline: str) -> RuleBook:
    """The pipeline's rule book file, with its inline ``routing`` rules appended."""
    spec = hub.pipelines[pipeline]
    book = load_rulebook(mappings_dir() / spec.rules) if spec.rules else RuleBook()
    if spec.routing:
        book = book.model_copy(update={"rules": [*book.rules, *spec.routing]})
    return book


def pipeline_systems(hub: HubConfig, pipeline: str) -> list[str]:
    spec = hub.pipelines[pipeline]
    book = pipeline_rulebook(hub, pipeline)
    names = [s.system for s in spec.sources] + [t.system for t in spec.targets]
    names += [r.then.route for r in book.rules if r.then.route]
    names += [r.then.notify.system for r in book.rules if r.then.notify]
    if book.feature_requests.route:
        names.append(book.feature_requests.route)
    if book.alerts.notify:
        names.append(book.alerts.notify.system)
    unknown = [n for n in names if n not in hub.systems]
    if unknown:
        raise ValueError(f"pipeline {pipeline!r}: its rules name unknown system(s) {', '.join(sorted(set(unknown)))}")
    return list(dict.fromkeys(names))
