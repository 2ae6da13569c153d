"""What one pipeline run needs: the store, the config, and a connector per system."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from continuum.config import HubConfig, PipelineConfig, pipeline_rulebook
from continuum.connections import ConnectionProblem, resolve_connection
from continuum.connector import ConnectionInfo, Connector, ConnectorFactory
from continuum.kit.registry import load_connector_factory
from continuum.mapping import MappingFile, load_mapping
from continuum.policy.rulebook import RuleBook

Progress = Callable[[str, int], None]


@dataclass
class RunStats:
    """Counts for one run, by stage; the CLI and the DAG tasks report them."""

    counts: dict[str, int] = field(default_factory=dict)
    # Lines a person should read after the run (a spent rate-limit window), once per key.
    notes: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def note(self, key: str, line: str) -> bool:
        """Keep ``line`` under ``key`` unless one is kept already; True when it is new."""
        if key in self.notes:
            return False
        self.notes[key] = line
        return True

    def merge(self, other: RunStats) -> None:
        for name, n in other.counts.items():
            self.add(name, n)
        for key, line in other.notes.items():
            self.note(key, line)


@dataclass
class SyncContext:
    db: Engine
    hub: HubConfig
    pipeline_name: str
    connectors: Mapping[str, Connector]
    progress: Progress | None = None
    max_attempts: int = 5
    # How long a failing effect is retried before it expires; None: CONTINUUM_RETRY_PERIOD or 7 days.
    retry_period_s: float | None = None
    _rulebook: RuleBook | None = field(default=None, repr=False)
    # When a list, triage appends why it decided what it did (for `continuum plan`).
    explain: list[dict[str, Any]] | None = None
    # `continuum reconcile`: every effect may exist already (the store was lost or restored), so each is
    # looked up by its key before it is written, and the hub's unknown writes are expected, not refused.
    recovering: bool = False
    # `continuum sync --force`: write even where a target holds hub-made objects the store does not know.
    force: bool = False
    # Systems whose check for hub-made objects failed this run: their creates look up their key first.
    unverified: set[str] = field(default_factory=set)
    # Systems whose rate-limit window this run found spent: their later stages wait for the next run.
    # The value is the time.monotonic() moment the window resets.
    spent_windows: dict[str, float] = field(default_factory=dict)
    # Held effects already offered to their connector this run (a run applies a system in several stages).
    held_offered: set[int] = field(default_factory=set)
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
            found = self._mappings[name] = load_mapping(name, self.hub.files_dir(), self.hub_file_label)
        return found

    @property
    def hub_file_label(self) -> str:
        return str(self.hub.source or "the hub config")

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


def build_connectors(hub: HubConfig, systems: list[str] | None = None, db: Engine | None = None
                     ) -> Connectors:
    """The connectors for the named systems (all by default); nothing connects yet.

    Every system's connection is resolved now, so a missing one is named before any work; each connector is
    built (its package imported, its client made) on first use only.  A run woken by one webhook touches two or
    three of a pipeline's dozen systems, and importing the others' SDKs would cost a fresh task process seconds.

    A connector that keeps state of its own in the store (rotating OAuth tokens) has ``bind_store``; it is
    given ``db``, the run's store (without it, such a connector opens the hub's default store when needed)."""
    resolved: dict[str, tuple[ConnectorFactory, ConnectionInfo]] = {}
    for name in systems or list(hub.systems):
        system = hub.systems[name]
        factory = load_connector_factory(system.connector)  # an unknown connector is named now, too (cheap)
        try:
            resolved[name] = (factory, resolve_connection(system.connection))
        except ConnectionProblem as exc:
            raise exc.for_system(name) from None
    return Connectors(hub, resolved, db)


class Connectors(Mapping[str, Connector]):
    """System name -> connector, each built when first asked for (see :func:`build_connectors`)."""

    def __init__(self, hub: HubConfig, resolved: dict[str, tuple[ConnectorFactory, ConnectionInfo]],
                 db: Engine | None) -> None:
        self._hub, self._resolved, self._db = hub, resolved, db
        self._built: dict[str, Connector] = {}

    def __getitem__(self, name: str) -> Connector:
        connector = self._built.get(name)
        if connector is None:
            factory, info = self._resolved[name]  # KeyError for a system not in the run, as a dict would
            connector = factory(info, dict(self._hub.systems[name].options))
            bind = getattr(connector, "bind_store", None)
            if self._db is not None and callable(bind):
                bind(self._db)
            self._built[name] = connector
        return connector

    def __contains__(self, name: object) -> bool:  # without building it
        return name in self._resolved

    def __iter__(self) -> Iterator[str]:
        return iter(self._resolved)

    def __len__(self) -> int:
        return len(self._resolved)

    def built(self) -> list[str]:
        """The systems whose connector was built so far (what a run really touched)."""
        return list(self._built)
