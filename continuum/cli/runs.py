"""Running and watching: sync, the store's status, dead letters and their replay."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import typer
from rich.table import Table

from continuum.cli.common import (
    ConfigOption,
    console,
    load_hub,
    out,
    pipelines_of,
    print_json,
    progress_bars,
    say,
    stdout_to_stderr,
    ticker,
)
from continuum.cli.errors import EXIT_DEAD_LETTERS, SettingError
from continuum.config import load_config
from continuum.mapping import ConfigError


def sync(pipeline: str | None = typer.Argument(None, help="Pipeline name (default: all)"),
         config: Path | None = ConfigOption, as_json: bool = typer.Option(False, "--json"),
         max_dead_letters: int | None = typer.Option(
             None, "--max-dead-letters", min=0,
             help="Dead letters a run may make and still exit 0 (default: CONTINUUM_MAX_DEAD_LETTERS or 0)"),
         force: bool = typer.Option(False, "--force", help="Write even where a target holds hub-made objects the "
                                                           "store does not know (see `continuum reconcile`)")) -> None:
    """Run pipelines once: read, triage, apply, read back, answer.

    Exits 6 when a run dead-lettered more records or effects than allowed (see `continuum dead-letters`)."""
    from continuum.engine.run import DEAD_LETTERED
    from continuum.engine.run import max_dead_letters as configured_limit
    from continuum.engine.run import sync as run
    from continuum.store.db import open_store

    hub = load_hub(config)
    names = pipelines_of(hub, pipeline)
    try:
        limit = configured_limit() if max_dead_letters is None else max_dead_letters
    except ValueError as exc:
        raise SettingError(str(exc)) from None
    results = {}
    notes: list[str] = []
    with stdout_to_stderr() if as_json else nullcontext(), progress_bars() as progress:
        db = open_store()
        tick = ticker(progress)
        for name in names:
            stats = run(name, hub, db, tick, force=force)
            results[name] = stats.counts
            notes += [line for line in stats.notes.values() if line not in notes]
    # Not failures: e.g. a spent rate-limit window, and when the next run goes on.
    for line in notes:
        console.print(line, highlight=False, soft_wrap=True, markup=False)
    if as_json:
        print_json(results)
    else:
        for name, counts in results.items():
            say(f"[bold]{name}[/bold]: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    failed = {name: counts.get(DEAD_LETTERED, 0) for name, counts in results.items()}
    over = {name: n for name, n in failed.items() if n > limit}
    for name, n in over.items():
        console.print(f"[red]dead letters[/red] pipeline {name}: {n} record(s) or effect(s) failed in this run "
                      f"(allowed: {limit}); see `continuum dead-letters`, fix, then `continuum replay`",
                      highlight=False, soft_wrap=True)
    if over:
        raise typer.Exit(EXIT_DEAD_LETTERS)


def reconcile(pipeline: str | None = typer.Argument(None, help="Pipeline (default: all)"),
              config: Path | None = ConfigOption, as_json: bool = typer.Option(False, "--json")) -> None:
    """After a lost or restored store: find what the hub already made (by the keys on the objects) and link
    it, instead of making it again; only what is truly missing is written.  Back up the store first."""
    from continuum.ops.reconcile import reconcile as run_reconcile
    from continuum.store.db import open_store

    hub = load_hub(config)
    names = pipelines_of(hub, pipeline)
    with stdout_to_stderr() if as_json else nullcontext():
        db = open_store()
        results = [run_reconcile(hub, name, db) for name in names]
    if as_json:
        print_json(results)
        return
    for result in results:
        found = ", ".join(f"{n} {what}" for what, n in sorted(result["found"].items())) or "nothing"
        made = ", ".join(f"{n} {what}" for what, n in sorted(result["made"].items())) or "nothing"
        say(f"[bold]{result['pipeline']}[/bold]: found and linked {found}; made {made} that was missing")


def status(as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
           config: Path | None = ConfigOption) -> None:
    """Counts from the store: customers, interactions by status, links, outbox, dead letters, SLA."""
    from continuum.engine.sla_watch import sla_report
    from continuum.policy.sla import parse_duration
    from continuum.store.db import open_store
    from continuum.store.status import counts as store_counts

    with stdout_to_stderr():
        db = open_store()
        soon = parse_duration(_breaching_soon(config))
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
                if not isinstance(n, dict):  # the SLA items are listed below, not as counts
                    table.add_row(f"{key}: {sub}", str(n))
        else:
            table.add_row(key, str(value))
    out.print(table)
    for label, rows in (("breached", sla["breached"]), ("breaching soon", sla["breaching_soon"])):
        if not rows:
            continue
        items = Table(title=f"SLA {label}")
        for column in ("interaction", "source", "title", "team", "priority", "policy", "due"):
            items.add_column(column, overflow="fold")
        for row in rows:
            items.add_row(str(row["id"]), f"{row['source_system']} {row['source_id']}", row["title"] or "",
                          row["team"] or "", row["priority"] or "", row["sla_policy"] or "", _when(row["sla_due"]))
        out.print(items)


def _when(moment: object) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip() if hasattr(moment, "strftime") else str(moment or "")


def _breaching_soon(config: Path | None) -> str:
    """The warning window from the first pipeline's rule book (2h when there is none)."""
    from continuum.config import pipeline_rulebook

    try:
        hub = load_config(config)
    except ConfigError:
        return "2h"  # status reads the store; a broken config must not hide it
    return pipeline_rulebook(hub, next(iter(hub.pipelines))).sla.breaching_soon if hub.pipelines else "2h"


def dead_letters(system: str | None = typer.Option(None, help="Only this system's dead letters"),
                 error: str | None = typer.Option(None, help="Only dead letters whose error contains this"),
                 state: str = typer.Option("open,expired", help="open, expired, resolved or all (comma-separated)"),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """List failed records and effects: record, system, field and reason; expired ones too."""
    from continuum.ops.replay import list_dead_letters
    from continuum.store.db import open_store

    states = tuple(part.strip() for part in state.split(",") if part.strip())
    unknown = sorted(set(states) - {"open", "expired", "resolved", "all"})
    if unknown or not states:
        raise typer.BadParameter(f"unknown state(s) {', '.join(unknown) or '(none given)'}; "
                                 "use open, expired, resolved or all (comma-separated)", param_hint="--state")
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
    out.print(table)


def replay(system: str | None = typer.Option(None, help="Only this system's dead letters"),
           error: str | None = typer.Option(None, help="Only dead letters whose error contains this"),
           expired: bool = typer.Option(False, "--expired", help="Also run expired dead letters again"),
           config: Path | None = ConfigOption) -> None:
    """Run dead letters again (after fixing a mapping or the data); failed effects go out on the next sync."""
    from continuum.ops.replay import replay as run_replay
    from continuum.store.db import open_store

    stats = run_replay(open_store(), load_hub(config), system, error, include_expired=expired)
    say(", ".join(f"{k}={v}" for k, v in sorted(stats.counts.items())) or "nothing to replay")
