"""The hub config (``continuum.yaml``): systems, the connections they use, pipelines and rules.

Also where the files are read: the hub config, and each pipeline's rule book
(:mod:`continuum.policy.rulebook`), from which follows every system a
pipeline touches.

Files a config names (mappings, rule books) are looked up next to that config
file, or in its ``mappings_dir`` (relative to the config file), or, when set,
in ``CONTINUUM_MAPPINGS_DIR``: never silently in the shipped folder, and never
relative to the process's working directory.  A missing file is an error that
names the path looked at.
"""

from __future__ import annotations

import hashlib
import os
import string
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from continuum.mapping import mappings_dir
from continuum.mapping.yamlfile import ConfigError, validate_file
from continuum.policy.rulebook import RuleBook
from continuum.policy.rules import Rule


class UnknownPipeline(KeyError):
    """A pipeline name the hub config does not have."""

    def __init__(self, name: str, known: list[str], config: object = None) -> None:
        self.text = (f"no pipeline {name!r} in {config or 'the hub config'}; configured: {', '.join(known) or 'none'}"
                     " (leave the name out to run them all)")
        super().__init__(self.text)

    def __str__(self) -> str:
        return self.text


class SystemConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connector: str = Field(description="Folder name under connectors/ (e.g. the system's name)")
    connection: str = Field(description="Airflow Connection id holding URL and credentials")
    options: dict[str, Any] = Field(default_factory=dict, description="Connector options (no secrets here)")


class SourceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: str
    stream: str
    mapping: str = Field(description="Mapping file for the records of this stream")
    partition: str = ""


class TargetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: str
    mapping: str = Field(description="Mapping file for the tickets made in this system")
    comment_mapping: str | None = Field(None, description="Mapping file for comments read back")
    stream: str | None = Field(None, description="Stream to read changes back from")


class AttachmentsSpec(BaseModel):
    """Where customers' attachments are stored (once per customer and content) and linked from the ticket."""

    model_config = ConfigDict(extra="forbid")

    system: str = Field(description="The document store (a system under systems:) the files go to")
    mapping: str = Field(description="Mapping file whose `store` action names the customer folder and the file")


def _check_title(value: str, allowed: tuple[str, ...]) -> str:
    """A page title pattern that names only the placeholders it may use (a typo is an error, not a blank)."""
    try:
        named = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a title pattern: {exc}") from None
    stray = sorted(set(named) - set(allowed))
    if stray:
        raise ValueError(f"{value!r} names {', '.join('{' + n + '}' for n in stray)}; it may use "
                         f"{', '.join('{' + n + '}' for n in allowed)}")
    if not value.strip():
        raise ValueError("a page title pattern cannot be empty")
    return value


PageSelector = Literal["ticket", "vip", "known", "any"]


def _ticketed_and_vips() -> list[PageSelector]:
    return ["ticket", "vip"]


class CustomerPagesSpec(BaseModel):
    """Which customers get a history page in the knowledge system, and what the page is called."""

    model_config = ConfigDict(extra="forbid")

    select: list[PageSelector] = Field(
        default_factory=_ticketed_and_vips, min_length=1,
        description="Who gets a page (any of): ticket (a kept interaction has a ticket, its own or its feature "
                    "request's), vip (tier in vip_tiers), known (has a primary e-mail), any (has a kept interaction)")
    vip_tiers: list[str] = Field(default_factory=lambda: ["vip"], description="The tiers `vip` selects")
    title: str = Field("{name} (customer {id})",
                       description="The page's title; {name} and {id} are the customer's (titles are unique in a "
                                   "space: keep {id} in it)")
    max_interactions: int = Field(200, ge=1, le=2000, description="The latest interactions a page shows")

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return _check_title(value, ("name", "id"))


class FeatureRequestPagesSpec(BaseModel):
    """One page per feature request with votes, and an index page of them all, sorted by votes."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field("Feature request {id}: {title}",
                       description="Each request's page title; {title} and {id} are the request's")
    index_title: str = Field("Feature requests by votes", min_length=1, description="The index page's title")

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return _check_title(value, ("title", "id"))


class FaqPagesSpec(BaseModel):
    """Knowledge capture: a staff answer to a customer's question becomes a draft FAQ page for staff to review."""

    model_config = ConfigDict(extra="forbid")

    kinds: list[str] = Field(default_factory=lambda: ["question"], min_length=1,
                             description="The kinds of interaction whose staff answer becomes an FAQ page")
    title: str = Field("FAQ {id}: {question}",
                       description="The page's title; {question} is the question's first words, {id} the answer's")
    label: str = Field("continuum-kb", pattern=r"^[a-z0-9_-]{1,50}$",
                       description="The label on every FAQ page (besides the wiki connector's own)")

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return _check_title(value, ("question", "id"))


class KnowledgeSpec(BaseModel):
    """Where the pipeline writes knowledge pages (a wiki), after its effects are applied."""

    model_config = ConfigDict(extra="forbid")

    system: str = Field(description="The wiki (a system under systems:, whose connector publishes pages)")
    customer_pages: CustomerPagesSpec | None = Field(
        default_factory=CustomerPagesSpec, description="Customer history pages (null: none)")
    feature_request_pages: FeatureRequestPagesSpec | None = Field(
        None, description="Feature-request pages and their index (null: none)")
    faq_pages: FaqPagesSpec | None = Field(
        None, description="Draft FAQ pages from staff answers to questions (null: none)")


class ExpertThreadsSpec(BaseModel):
    """Each routed ticket's notice in a team's chat channel starts a thread tied to that ticket."""

    model_config = ConfigDict(extra="forbid")

    system: str = Field(description="The chat system (also a target with a stream, read back for the replies)")
    mapping: str = Field(description="Mapping file whose `expert` outbound action renders the notice")
    channels: dict[str, str] = Field(description="Team → channel of its experts ('*': every other team)")


class CrmSpec(BaseModel):
    """Two-way sync of the pipeline's customers with a CRM's contacts, after its effects are applied."""

    model_config = ConfigDict(extra="forbid")

    system: str = Field(description="The CRM (a system under systems:, whose connector reads `contacts`)")
    mapping: str = Field(description="The contact mapping file, per-field direction (e.g. hubspot.contact.yaml)")
    stream: str = Field("contacts", description="The connector's stream of contacts")
    timeline: bool = Field(True, description="Log every kept interaction on its customer's contact, once")
    unknown_authors: Literal["contact", "lead", "none"] = Field(
        "none", description="A customer with kept interactions and no contact: a new contact, a lead, or nothing")


class PipelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    schedule: str | None = Field("*/15 * * * *", description="Cron expression or interval like '30m'")
    sources: list[SourceSpec]
    targets: list[TargetSpec] = Field(default_factory=list)
    reply_mapping: dict[str, str] = Field(
        default_factory=dict, description="Source system → mapping file used to answer there")
    follow_ups: str = Field("comment", pattern="^(comment|ignore)$",
                            description="What a later post in a ticketed thread becomes on the ticket")
    rules: str | None = Field(None, description="Rule book file (triage rules, SLA, aggregation), e.g. rules.yaml")
    routing: list[Rule] = Field(default_factory=list, description="Extra rules, run after the rule book's")
    notify_mapping: dict[str, str] = Field(
        default_factory=dict, description="Chat system → mapping file for notifications there")
    feature_request_mapping: str | None = Field(
        None, description="Mapping file for the one ticket per feature request (create and update)")
    attachments: AttachmentsSpec | None = Field(
        None, description="Document store for customers' attachments; the tickets link to the stored files "
                          "(the target mapping's `attachments` action renders that comment)")
    knowledge: KnowledgeSpec | None = Field(
        None, description="Write knowledge pages (customer histories, feature requests) to a wiki after apply")
    expert_threads: ExpertThreadsSpec | None = Field(
        None, description="Start a chat thread per routed ticket; replies there become internal comments, "
                          "a reply marked with the answer reaction goes back to the customer")
    crm: CrmSpec | None = Field(
        None, description="Sync customers with a CRM's contacts (identity in, what the hub learned out, timeline)")


def _expert_problems(name: str, pipeline: PipelineConfig) -> list[str]:
    """Expert threads are read back from a target; a source shares its cursor and would take the replies."""
    spec = pipeline.expert_threads
    if spec is None:
        return []
    if spec.system in {s.system for s in pipeline.sources}:
        return [f"pipeline {name!r}: expert_threads.system {spec.system!r} is also a source; give the staff "
                "workspace a system of its own (one cursor per system and stream)"]
    if not any(t.system == spec.system and t.stream for t in pipeline.targets):
        return [f"pipeline {name!r}: expert_threads.system {spec.system!r} must also be a target with a stream "
                "(e.g. stream: messages), or the replies in its threads are never read"]
    return []


class HubConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mappings_dir: str | None = Field(
        None, description="Folder of the mapping files and rule books this config names, relative to this file "
                          "(default: the folder this file is in; CONTINUUM_MAPPINGS_DIR, when set, wins)")
    systems: dict[str, SystemConfig]
    pipelines: dict[str, PipelineConfig]
    # The file this config was read from (None when built in code): the files it names are found next to it.
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        return self._source

    def files_dir(self) -> Path:
        """Where the files this config names are read."""
        configured = os.environ.get("CONTINUUM_MAPPINGS_DIR")
        if configured:
            return Path(configured).resolve()
        if self._source is None:  # built in code (tests, the demo): absolute names, or the shipped folder
            return Path(self.mappings_dir).resolve() if self.mappings_dir else mappings_dir()
        base = self._source.resolve().parent
        return (base / self.mappings_dir).resolve() if self.mappings_dir else base

    def check_pipeline(self, name: str) -> str:
        if name not in self.pipelines:
            raise UnknownPipeline(name, list(self.pipelines), self._source)
        return name

    def file(self, name: str) -> Path:
        """The path of a file this config names (a mapping, a rule book)."""
        path = Path(name)
        return path if path.is_absolute() else self.files_dir() / path

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> HubConfig:
        problems: list[str] = []
        for name, pipeline in self.pipelines.items():
            named = [s.system for s in pipeline.sources] + [t.system for t in pipeline.targets]
            named += [r.then.route for r in pipeline.routing if r.then.route]
            named += list(pipeline.reply_mapping)
            named += [pipeline.attachments.system] if pipeline.attachments else []
            named += [pipeline.knowledge.system] if pipeline.knowledge else []
            named += [pipeline.expert_threads.system] if pipeline.expert_threads else []
            named += [pipeline.crm.system] if pipeline.crm else []
            for system in named:
                if system not in self.systems:
                    problems.append(f"pipeline {name!r} names system {system!r}, which is not under systems:")
            problems += _expert_problems(name, pipeline)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def config_path() -> Path:
    configured = os.environ.get("CONTINUUM_CONFIG")
    return Path(configured) if configured else mappings_dir() / "continuum.yaml"


def load_config(path: Path | None = None) -> HubConfig:
    where = (path or config_path()).resolve()
    if not where.is_file():
        setting = "--config" if path else "CONTINUUM_CONFIG" if os.environ.get("CONTINUUM_CONFIG") else \
            "the shipped config"
        raise ConfigError([f"{where}: hub config file not found (from {setting}); point CONTINUUM_CONFIG or "
                           "--config at your continuum.yaml"])
    hub = validate_file(HubConfig, where)
    hub._source = where
    return hub


# Rule books by (path, content digest): a run asks for its rule book once per stage and parsing the YAML
# was most of a webhook run's time; a changed file has another digest, so an edit is read at once.
_RULEBOOKS: dict[tuple[str, str], RuleBook] = {}


def load_rulebook(path: Path) -> RuleBook:
    try:
        key = (str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest())
    except OSError:
        return validate_file(RuleBook, path)  # its error names the file
    book = _RULEBOOKS.get(key)
    if book is None:
        if len(_RULEBOOKS) > 64:
            _RULEBOOKS.clear()
        book = _RULEBOOKS[key] = validate_file(RuleBook, path)
    return book.model_copy(deep=True)  # callers may adjust their copy; the cached one stays as read


def pipeline_rulebook(hub: HubConfig, pipeline: str) -> RuleBook:
    """The pipeline's rule book file, with its inline ``routing`` rules appended."""
    spec = hub.pipelines[pipeline]
    book = load_rulebook(_named_file(hub, spec.rules, f"pipelines.{pipeline}.rules")) if spec.rules \
        else RuleBook()
    if spec.routing:
        book = book.model_copy(update={"rules": [*book.rules, *spec.routing]})
    return book


def _named_file(hub: HubConfig, name: str, setting: str) -> Path:
    path = hub.file(name)
    if not path.is_file():
        named_by = f" (named by {hub.source}: {setting})" if hub.source else f" (named by {setting})"
        raise ConfigError([f"{path}: file not found{named_by}"])
    return path


def pipeline_systems(hub: HubConfig, pipeline: str) -> list[str]:
    """Every system the pipeline reads or writes: sources, targets, and what its rules route and notify to."""
    spec = hub.pipelines[pipeline]
    book = pipeline_rulebook(hub, pipeline)
    names = [s.system for s in spec.sources] + [t.system for t in spec.targets]
    names += [r.then.route for r in book.rules if r.then.route]
    names += [r.then.notify.system for r in book.rules if r.then.notify]
    if book.feature_requests.route:
        names.append(book.feature_requests.route)
    if book.alerts.notify:
        names.append(book.alerts.notify.system)
    if spec.attachments:
        names.append(spec.attachments.system)
    if spec.knowledge:
        names.append(spec.knowledge.system)
    if spec.expert_threads:
        names.append(spec.expert_threads.system)
    if spec.crm:
        names.append(spec.crm.system)
    unknown = [n for n in names if n not in hub.systems]
    if unknown:
        raise ValueError(f"pipeline {pipeline!r}: its rules name unknown system(s) {', '.join(sorted(set(unknown)))}")
    return list(dict.fromkeys(names))
