"""Setting up: the store's schema, checking the config files, their JSON Schemas, and Airflow's pools."""

from __future__ import annotations

from pathlib import Path

import typer

from continuum.cli.common import ConfigOption, console, fail, load_hub, print_json, say
from continuum.cli.errors import EXIT_CONFIG, SettingError
from continuum.config import HubConfig


def migrate(db: str | None = typer.Option(None, help="Database URL (default: CONTINUUM_DB_URL or SQLite)")) -> None:
    """Create or upgrade the store's schema (Alembic); safe to run every time."""
    from continuum.store.db import make_engine
    from continuum.store.db import migrate as upgrade

    engine = make_engine(db)
    try:
        before, after = upgrade(engine)
        where = engine.url.render_as_string(hide_password=True)
    finally:
        engine.dispose()
    if before is None:
        say(f"created the store schema (revision {after}) in {where}")
    elif before != after:
        say(f"upgraded the store schema from revision {before} to {after} in {where}")
    else:
        say(f"the store schema is up to date (revision {after}) in {where}")


def validate(config: Path | None = ConfigOption) -> None:
    """Check the hub config, rule books and every mapping file; errors name the file, line and field."""
    from continuum.ops.validate import check

    report = check(config)
    for problem in report.problems:
        console.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
    if report.problems:
        raise typer.Exit(EXIT_CONFIG)
    say(f"ok: {report.config}, {len(report.rulebooks)} rule book(s) and {len(report.mappings)} mapping files "
        f"(in {report.folder}) are valid")


def schema(kind: str = typer.Argument("all", help="hub, mapping, rules or all")) -> None:
    """Print JSON Schemas of the hub config, the mapping files and the rule book (rules, banter, SLA,
    feature requests, alerts, classifier), for editors."""
    from continuum.mapping import MappingFile
    from continuum.policy.rulebook import RuleBook

    schemas = {"hub": HubConfig.model_json_schema(), "mapping": MappingFile.model_json_schema(),
               "rules": RuleBook.model_json_schema()}
    if kind not in (*schemas, "all"):
        raise typer.BadParameter(f"kind must be {', '.join(schemas)} or all", param_hint="KIND")
    print_json(schemas if kind == "all" else schemas[kind])


def pools(slots: list[str] | None = typer.Argument(None, help="SYSTEM=N to size a pool (default 2 each)"),
          config: Path | None = ConfigOption) -> None:
    """Create one Airflow pool per external system, so concurrent DAGs stay within each system's budget."""
    from continuum.orchestration.pools import ensure_pools, pool_specs

    hub = load_hub(config)
    sizes: dict[str, int] = {}
    for item in slots or []:
        name, _, number = item.partition("=")
        if not number.isdigit() or int(number) < 1:
            raise typer.BadParameter(f"{item!r} is not SYSTEM=N with N ≥ 1 (e.g. jira=4)", param_hint="SLOTS")
        sizes[name] = int(number)
    try:
        pool_specs(hub, sizes or None)  # the arguments and CONTINUUM_POOL_SLOTS, checked before Airflow is asked
    except ValueError as exc:
        raise SettingError(f"{exc}; configured systems: {', '.join(hub.systems)}") from None
    try:
        made = ensure_pools(hub, sizes or None)
    except Exception as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc) or "OperationalError" in type(exc).__name__:
            fail("Airflow's metadata database is not set up for this AIRFLOW_HOME: run `airflow db migrate` first "
                 "(or point AIRFLOW_HOME / AIRFLOW__DATABASE__SQL_ALCHEMY_CONN at your Airflow)")
        raise
    for name, size in made.items():
        say(f"pool {name}: {size} slots")
