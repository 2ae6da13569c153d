"""``continuum validate``: everything a sync would trip over, found before it runs.

It reads the hub config, then every file the config names (mappings and
rule books, found where a sync finds them: :meth:`HubConfig.files_dir`),
checks that every ``connector:`` is installed and every system a pipeline's
rules route to is configured, and renders every outbound template against a
sample record with strict undefined names (:mod:`.samples`), so an unknown
filter or a misspelt variable is an error here, not a dead letter later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from continuum.config import HubConfig, config_path, load_config, load_rulebook, pipeline_systems
from continuum.mapping import ConfigError, MappingFile, load_mapping


@dataclass
class Report:
    config: Path
    folder: Path | None = None
    mappings: list[str] = field(default_factory=list)
    rulebooks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def named_files(hub: HubConfig) -> tuple[dict[str, str], dict[str, str]]:
    """The mapping files and rule books the config names: file name → the setting that names it."""
    mappings: dict[str, str] = {}
    books: dict[str, str] = {}
    for name, pipeline in hub.pipelines.items():
        where = f"pipelines.{name}"
        for i, source in enumerate(pipeline.sources):
            mappings.setdefault(source.mapping, f"{where}.sources.{i}.mapping")
        for i, target in enumerate(pipeline.targets):
            mappings.setdefault(target.mapping, f"{where}.targets.{i}.mapping")
            if target.comment_mapping:
                mappings.setdefault(target.comment_mapping, f"{where}.targets.{i}.comment_mapping")
        for system, file in pipeline.reply_mapping.items():
            mappings.setdefault(file, f"{where}.reply_mapping.{system}")
        for system, file in pipeline.notify_mapping.items():
            mappings.setdefault(file, f"{where}.notify_mapping.{system}")
        if pipeline.feature_request_mapping:
            mappings.setdefault(pipeline.feature_request_mapping, f"{where}.feature_request_mapping")
        if pipeline.attachments:
            mappings.setdefault(pipeline.attachments.mapping, f"{where}.attachments.mapping")
        if pipeline.crm:
            mappings.setdefault(pipeline.crm.mapping, f"{where}.crm.mapping")
        if pipeline.expert_threads:
            mappings.setdefault(pipeline.expert_threads.mapping, f"{where}.expert_threads.mapping")
        if pipeline.rules:
            books.setdefault(pipeline.rules, f"{where}.rules")
    return mappings, books


def check(path: Path | None = None) -> Report:
    report = Report(config=(path or config_path()))
    try:
        hub = load_config(path)
    except ConfigError as exc:
        report.problems += exc.problems
        return report
    report.config = hub.source or report.config
    report.folder = hub.files_dir()
    label = str(report.config)
    mappings, books = named_files(hub)
    loaded: dict[str, MappingFile] = {}
    for name, setting in sorted(mappings.items()):
        try:
            loaded[name] = load_mapping(name, hub.files_dir(), f"{label}: {setting}")
        except ConfigError as exc:
            report.problems += exc.problems
    for name, setting in sorted(books.items()):
        book = hub.file(name)
        if not book.is_file():
            report.problems.append(f"{book}: rule book not found (named by {label}: {setting})")
            continue
        try:
            load_rulebook(book)
        except ConfigError as exc:
            report.problems += exc.problems
    report.mappings, report.rulebooks = sorted(mappings), sorted(books)
    report.problems += _connectors(hub, label)
    if not report.problems:
        for name in hub.pipelines:
            try:
                pipeline_systems(hub, name)
            except (ValueError, ConfigError) as exc:
                report.problems.append(f"{label}: pipelines.{name}: {exc}")
    if not report.problems:
        from continuum.ops.samples import render_problems

        report.problems += render_problems(hub, loaded, label)
    return report


def _connectors(hub: HubConfig, label: str) -> list[str]:
    from continuum.kit.registry import UnknownConnector, plugin

    problems = []
    for name, system in hub.systems.items():
        try:
            found = plugin(system.connector)
        except UnknownConnector as exc:
            problems.append(f"{label}: systems.{name}.connector: {exc}")
            continue
        stray = sorted(set(system.options) - found.config_class().option_names())
        if stray:
            known = ", ".join(sorted(found.config_class().option_names()))
            problems.append(f"{label}: systems.{name}.options: unknown option(s) {', '.join(stray)} for the "
                            f"{system.connector} connector (known: {known})")
    for name, pipeline in hub.pipelines.items():
        wiki = pipeline.knowledge.system if pipeline.knowledge else None
        if wiki in hub.systems:
            try:
                effects = plugin(hub.systems[wiki].connector).capabilities.effects
            except UnknownConnector:
                continue  # said above
            if "publish" not in effects:
                problems.append(f"{label}: pipelines.{name}.knowledge.system: {wiki!r} cannot publish pages (the "
                                f"{hub.systems[wiki].connector} connector's effects: {', '.join(effects) or 'none'})")
    return problems
