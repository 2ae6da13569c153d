"""The ``continuum`` command line."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from continuum.cli_brain import customers_app, override, plan
from continuum.config import HubConfig, config_path, load_config
from continuum.mapping import ConfigError, mappings_dir

app = typer.Typer(help="Continuum: the Social CRM integration hub.", no_args_is_help=True, add_completion=False)
app.add_typer(customers_app, name="customers")
app.command()(override)
app.command()(plan)
console = Console(stderr=True)
ConfigOption = typer.Option(None, "--config", "-c", help="Hub config file (default: CONTINUUM_CONFIG or the shipped one)")


def _hub(config: Optional[Path]) -> HubConfig:
    try:
        return load_config(config)
    except ConfigError as exc:
        for problem in exc.problems:
            console.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """While work runs, anything written to stdout (Airflow's and Alembic's log lines, child
    processes) goes to stderr, so that `--json` leaves exactly one JSON object on stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


@app.command()
def migrate(db: Optional[str] = typer.Option(None, help="Database URL (default: CONTINUUM_DB_URL or SQLite)")) -> None:
    """Create or upgrade the store's schema (Alembic); safe to run every time."""
    from continuum.runner import open_store

    open_store(db).dispose()
    console.print("store schema is up to date")


@app.command()
def validate(config: Optional[Path] = ConfigOption) -> None:
    """Check the hub config, rule books and every mapping file; errors name the file, line and field."""
    from continuum.engine.context import pipeline_systems
    from continuum.mapping import load_mapping
    from continuum.rulebook import load_rulebook

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


@app.command()
def schema(kind: str = typer.Argument("all", help="hub, mapping or all")) -> None:
    """Print JSON Schemas of the hub config and the mapping files, for editors."""
    from continuum.config import HubConfig as Hub
    from continuum.mapping import MappingFile

    schemas = {"hub": Hub.model_json_schema(), "mapping": MappingFile.model_json_schema()}
    if kind not in (*schemas, "all"):
        raise typer.BadParameter("kind must be hub, mapping or all")
    _print_json(schemas if kind == "all" else schemas[kind])


@app.command()
def sync(pipeline: Optional[str] = typer.Argument(None, help="Pipeline name (default: all)"),
         config: Optional[Path] = ConfigOption, as_json: bool = typer.Option(False, "--json")) -> None:
    """Run pipelines once: read, triage, apply, read back, answer."""
    from continuum.locking import EXIT_LOCKED, AnotherRunHoldsTheLock
    from continuum.runner import open_store
    from continuum.runner import sync as run

    hub = _hub(config)
    names = [pipeline] if pipeline else list(hub.pipelines)
    results = {}
    with stdout_to_stderr() if as_json else nullcontext(), _progress() as progress:
        db = open_store()
        tasks: dict[str, Any] = {}

        def tick(what: str, n: int) -> None:
            if what not in tasks:
                tasks[what] = progress.add_task(what, total=None)
            progress.advance(tasks[what], n)

        for name in names:
            try:
                results[name] = run(name, hub, db, tick).counts
            except AnotherRunHoldsTheLock as exc:
                progress.stop()
                console.print(f"[yellow]{exc}[/yellow]", highlight=False, soft_wrap=True)
                raise typer.Exit(EXIT_LOCKED) from None
    if as_json:
        _print_json(results)
    else:
        for name, counts in results.items():
            console.print(f"[bold]{name}[/bold]: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print one JSON object")) -> None:
    """Counts from the store: customers, interactions by status, links, outbox, dead letters."""
    from continuum.runner import open_store
    from continuum.store import repo

    from continuum.engine.sla_watch import sla_report
    from continuum.sla import parse_duration

    with stdout_to_stderr():
        db = open_store()
        soon = parse_duration(_breaching_soon())
        with db.connect() as conn:
            counts = repo.counts(conn)
            sla = sla_report(conn, soon)
    counts["sla"] = {"breached": len(sla["breached"]), "breaching_soon": len(sla["breaching_soon"]),
                     "items": sla}
    if as_json:
        _print_json(counts)
        return
    table = Table(title="Continuum store")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in counts.items():
        if isinstance(value, dict):
            for sub, n in value.items():
                table.add_row(f"{key}: {sub}", str(n))
        else:
            table.add_row(key, str(value))
    Console().print(table)
    for label, rows in (("breached", sla["breached"]), ("breaching soon", sla["breaching_soon"])):
        for row in rows:
            Console().print(f"SLA {label}: interaction {row['id']} ({row['source_system']} {row['source_id']}, "
                            f"{row['team']}, {row['priority']}) due {row['sla_due']}", highlight=False)


def _breaching_soon() -> str:
    """The warning window from the first pipeline's rule book (2h when there is none)."""
    try:
        from continuum.engine.context import pipeline_rulebook

        hub = load_config()
        return pipeline_rulebook(hub, next(iter(hub.pipelines))).sla.breaching_soon
    except Exception:
        return "2h"


@app.command("dead-letters")
def dead_letters_cmd(system: Optional[str] = typer.Option(None, help="Only this system's dead letters"),
                     error: Optional[str] = typer.Option(None, help="Only dead letters whose error contains this"),
                     state: str = typer.Option("open,expired", help="open, expired, resolved or all (comma-separated)"),
                     as_json: bool = typer.Option(False, "--json")) -> None:
    """List failed records and effects: record, system, field and reason; expired ones too."""
    from continuum.replay import list_dead_letters
    from continuum.runner import open_store

    states = tuple(part.strip() for part in state.split(",") if part.strip())
    rows = list_dead_letters(open_store(), system, error, states)
    if as_json:
        _print_json([{k: v for k, v in row.items() if k != "payload"} for row in rows])
        return
    table = Table(title=f"{len(rows)} dead letters ({', '.join(states)})")
    for column in ("id", "state", "system", "stage", "record", "field", "attempts", "error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(str(row["id"]), row["state"], row["system"], row["stage"], row["record"], row["field"] or "",
                      str(row["attempts"]), row["error"])
    Console().print(table)


@app.command()
def replay(system: Optional[str] = typer.Option(None, help="Only this system's dead letters"),
           error: Optional[str] = typer.Option(None, help="Only dead letters whose error contains this"),
           expired: bool = typer.Option(False, "--expired", help="Also run expired dead letters again"),
           config: Optional[Path] = ConfigOption) -> None:
    """Run dead letters again (after fixing a mapping or the data); failed effects go out on the next sync."""
    from continuum.replay import replay as run_replay
    from continuum.runner import open_store

    stats = run_replay(open_store(), _hub(config), system, error, include_expired=expired)
    console.print(", ".join(f"{k}={v}" for k, v in sorted(stats.counts.items())) or "nothing to replay")


@app.command()
def simulate(systems: Optional[list[str]] = typer.Argument(None, help="Systems to simulate (default: all)"),
             seed: bool = typer.Option(True, help="Seed realistic data"),
             port: int = typer.Option(0, help="First port (0: any free port)"),
             config: Optional[Path] = ConfigOption) -> None:
    """Run the simulators as a long-lived process and print their base URLs."""
    from continuum.simulate import start_simulators

    hub = _hub(config)
    names = systems or list(hub.systems)
    ports = {name: port + index for index, name in enumerate(names)} if port else None
    running = start_simulators(hub, names, seed=seed, ports=ports)
    for name, sim in running.items():
        conn_id = hub.systems[name].connection
        sys.stdout.write(f"{name}\t{sim.base_url}\tAIRFLOW_CONN_{conn_id.upper()}\n")
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    for sim in running.values():
        sim.stop()


@app.command()
def demo(as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object on stdout"),
         in_process: bool = typer.Option(False, "--in-process",
                                         help="Run the syncs in this process instead of through Airflow"),
         config: Optional[Path] = ConfigOption) -> None:
    """Seeded simulators, the whole loop through Airflow, then two re-runs that must change nothing."""
    from continuum.report import print_demo_summary

    if in_process:
        from continuum.demo import run_demo
    else:
        from continuum.orchestration.demo import run_demo
    hub = _hub(config) if config else None
    if as_json:
        with stdout_to_stderr():
            summary = run_demo(hub)
        _print_json(summary)
        return
    with _progress() as progress:
        tasks: dict[str, Any] = {}

        def tick(what: str, n: int) -> None:
            if what not in tasks:
                tasks[what] = progress.add_task(what, total=None)
            progress.advance(tasks[what], n)

        summary = run_demo(hub, progress=tick)
    print_demo_summary(summary, Console())


@app.command()
def pools(slots: Optional[list[str]] = typer.Argument(None, help="SYSTEM=N to size a pool (default 2 each)"),
          config: Optional[Path] = ConfigOption) -> None:
    """Create one Airflow pool per external system, so concurrent DAGs stay within each system's budget."""
    from continuum.orchestration.pools import ensure_pools

    sizes: dict[str, int] = {}
    for item in slots or []:
        name, _, number = item.partition("=")
        if not number.isdigit():
            raise typer.BadParameter(f"{item!r} is not SYSTEM=N")
        sizes[name] = int(number)
    for name, size in ensure_pools(_hub(config), sizes or None).items():
        console.print(f"pool {name}: {size} slots")


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


if __name__ == "__main__":  # pragma: no cover
    app()
