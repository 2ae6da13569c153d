"""What every command shares: the consoles, the hub config option, JSON output, progress bars."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from continuum.cli.errors import EXIT_CONFIG, EXIT_FAILED
from continuum.config import HubConfig, load_config
from continuum.mapping import ConfigError
from continuum.ops.problems import LOADED_HUB

# Messages and progress go to stderr; stdout carries only what a command prints as its result.
console = Console(stderr=True)
# Results for people (tables, "ok"): as wide as they need, never cut at 80 columns when piped.
out = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200)
ConfigOption = typer.Option(None, "--config", "-c",
                            help="Hub config file (default: CONTINUUM_CONFIG or the shipped one)")




def load_hub(config: Path | None) -> HubConfig:
    """The hub config, or its problems (file, line, field) on stderr and exit 2."""
    try:
        hub = load_config(config)
    except ConfigError as exc:
        for problem in exc.problems:
            console.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_CONFIG) from None
    LOADED_HUB[:] = [hub]  # error messages name its connections
    return hub


def pipelines_of(hub: HubConfig, pipeline: str | None) -> list[str]:
    """The named pipeline (checked), or all of them."""
    return list(hub.pipelines) if pipeline is None else [hub.check_pipeline(pipeline)]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def say(message: str) -> None:
    """A command's result for people: on stdout (progress and errors go to stderr)."""
    out.print(message, highlight=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    console.print(f"[red]error[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


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


def progress_bars() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


def ticker(progress: Progress) -> Callable[[str, int], None]:
    """A ``(what, n)`` callback for the engine that shows one bar per kind of work."""
    tasks: dict[str, Any] = {}

    def tick(what: str, n: int) -> None:
        if what not in tasks:
            tasks[what] = progress.add_task(what, total=None)
        progress.advance(tasks[what], n)

    return tick
