"""Setting up: the store's schema, checking the config files, their JSON Schemas, and Airflow's pools."""

from __future__ import annotations

from pathlib import Path

import typer

from continuum.cli.common import ConfigOption, console, load_hub, print_json
from continuum.config import HubConfig, config_path, load_config
from continuum.mapping import ConfigError, mappings_dir


def migrate(db: str | None = typer.Option(None, help="Database URL (default: CONTINUUM_DB_URL or SQLite)")) -> None:
    """Create or upgrade the store's schema (Alembic); safe to run every time."""
    from continuum.store.db import open_store

    open_store(db).dispose()
    console.print("store schema is up to date")


def validate(config: Path | None = ConfigOption) -> None:
    """Check the hub config, rule books and every mapping file; errors name the file, line and field."""
    from continuum.config import load_rulebook, pipeline_systems
    from continuum.mapping import load_mapping

    problems: list[str] = []
    try:
        hub: HubConfig | None = load_config(config)
    except ConfigError as exc:
        problems += exc.problems
        hub = None
    books = {"rules.yaml"} if (mappings_dir() / "rules.yaml").exists() else set()
    if hub is not None:
        books.update(p.rules for p in hub.pipelines.values() if p.rules)
    names = {p.name for p in mappings_dir().glob("*.yaml")} - books - {config_path().name}
    if hub is not None:
        for pipeline in hub.pipelines.values():
            names.update(s.mapping for s in pipeline.sources)
            names.update(t.mapping for t in pipeline.targets)
            names.update(t.comment_mapping for t in pipeline.targets if t.comment_mapping)
            names.update(pipeline.reply_mapping.values())
            names.update(pipeline.notify_mapping.values())
            if pipeline.feature_request_mapping:
                names.add(pipeline.feature_request_mapping)
    for name in sorted(names):
        try:
            load_mapping(name)
        except ConfigError as exc:
            problems += exc.problems
    for book in sorted(books):
        try:
            load_rulebook(mappings_dir() / book)
        except ConfigError as exc:
            problems += exc.problems
    if hub is not None and not problems:
        for name in hub.pipelines:
            try:
                pipeline_systems(hub, name)
            except (ValueError, ConfigError) as exc:
                problems.append(f"{config_path() if config is None else config}: pipelines.{name}: {exc}")
    for problem in problems:
        console.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    console.print(f"[green]ok[/green] config, {len(books)} rule book(s) and {len(names)} mapping files are valid")


def schema(kind: str = typer.Argument("all", help="hub, mapping or all")) -> None:
    """Print JSON Schemas of the hub config and the mapping files, for editors."""
    from continuum.mapping import MappingFile

    schemas = {"hub": HubConfig.model_json_schema(), "mapping": MappingFile.model_json_schema()}
    if kind not in (*schemas, "all"):
        raise typer.BadParameter("kind must be hub, mapping or all")
    print_json(schemas if kind == "all" else schemas[kind])


def pools(slots: list[str] | None = typer.Argument(None, help="SYSTEM=N to size a pool (default 2 each)"),
          config: Path | None = ConfigOption) -> None:
    """Create one Airflow pool per external system, so concurrent DAGs stay within each system's budget."""
    from continuum.orchestration.pools import ensure_pools

    sizes: dict[str, int] = {}
    for item in slots or []:
        name, _, number = item.partition("=")
        if not number.isdigit():
            raise typer.BadParameter(f"{item!r} is not SYSTEM=N")
        sizes[name] = int(number)
    for name, size in ensure_pools(load_hub(config), sizes or None).items():
        console.print(f"pool {name}: {size} slots")
