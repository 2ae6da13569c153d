"""Running and watching: sync, the store's status, dead letters and their replay."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from continuum.cli.common import ConfigOption, console, load_hub, print_json, progress_bars, stdout_to_stderr, ticker
from continuum.config import load_config


def sync(pipeline: str | None = typer.Argument(None, help="Pipeline name (default: all)"),
         config: Path | None = ConfigOption, as_json: bool = typer.Option(False, "--json")) -> None:
    """Run pipelines once: read, triage, apply, read back, answer."""
    from continuum.engine.run import sync as run
    from continuum.store.db import open_store
    from continuum.store.locking import EXIT_LOCKED, AnotherRunHoldsTheLock

    hub = load_hub(config)
    names = [pipeline] if pipeline else list(hub.pipelines)
    results = {}
    with stdout_to_stderr() if as_json else nullcontext(), progress_bars() as progress:
        db = open_store()
        tick = ticker(progress)
        for name in names:
            try:
                results[name] = run(name, hub, db, tick).counts
            except AnotherRunHoldsTheLock as exc:
                progress.stop()
                console.print(f"[yellow]{exc}[/yellow]", highlight=False, soft_wrap=True)
                raise typer.Exit(EXIT_LOCKED) from None
    if as_json:
        print_json(results)
    else:
        for name, counts in results.items():
            console.print(f"[bold]{name}[/bold]: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))


def status(as_json: bool = typer.Option(False, "--json", help="Print one JSON object")) -> None:
    """Counts from the store: customers, interactions by status, links, outbox, dead letters."""
    from continuum.engine.sla_watch import sla_report
    from continuum.policy.sla import parse_duration
    from continuum.store.db import open_store
    from continuum.store.status import counts as store_counts

    with stdout_to_stderr():
        db = open_store()
        soon = parse_duration(_breaching_soon())
        with db.connect() as conn:
            counts = store_counts(conn)
            sla = sla_report(conn, soon)
    counts["sla"] = {"breached": len(sla["breached"]), "breaching_soon": len(sla["breaching_soon"]),
                     "items": sla}
    if as_json:
        print_json(counts)
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
        from continuum.config import pipeline_rulebook

        hub = load_config()
        return pipeline_rulebook(hub, next(iter(hub.pipelines))).sla.breaching_soon
    except Exception:
        return "2h"


def dead_letters(system: str | None = typer.Option(None, help="Only this system's dead letters"),
                 error: str | None = typer.Option(None, help="Only dead letters whose error contains this"),
                 state: str = typer.Option("open,expired", help="open, expired, resolved or all (comma-separated)"),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """List failed records and effects: record, system, field and reason; expired ones too."""
    from continuum.ops.replay import list_dead_letters
    from continuum.store.db import open_store

    states = tuple(part.strip() for part in state.split(",") if part.strip())
    rows = list_dead_letters(open_store(), system, error, states)
    if as_json:
        print_json([{k: v for k, v in row.items() if k != "payload"} for row in rows])
        return
    table = Table(title=f"{len(rows)} dead letters ({', '.join(states)})")
    for column in ("id", "state", "system", "stage", "record", "field", "attempts", "error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(str(row["id"]), row["state"], row["system"], row["stage"], row["record"], row["field"] or "",
                      str(row["attempts"]), row["error"])
    Console().print(table)


def replay(system: str | None = typer.Option(None, help="Only this system's dead letters"),
           error: str | None = typer.Option(None, help="Only dead letters whose error contains this"),
           expired: bool = typer.Option(False, "--expired", help="Also run expired dead letters again"),
           config: Path | None = ConfigOption) -> None:
    """Run dead letters again (after fixing a mapping or the data); failed effects go out on the next sync."""
    from continuum.ops.replay import replay as run_replay
    from continuum.store.db import open_store

    stats = run_replay(open_store(), load_hub(config), system, error, include_expired=expired)
    console.print(", ".join(f"{k}={v}" for k, v in sorted(stats.counts.items())) or "nothing to replay")
