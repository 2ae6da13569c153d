"""The simulators and the demo: the whole loop offline, on seeded simulators."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import typer
from rich.console import Console

from continuum.cli.common import ConfigOption, load_hub, print_json, progress_bars, stdout_to_stderr, ticker


def simulate(systems: list[str] | None = typer.Argument(None, help="Systems to simulate (default: all)"),
             seed: bool = typer.Option(True, help="Seed realistic data"),
             port: int = typer.Option(0, help="First port (0: any free port)"),
             config: Path | None = ConfigOption) -> None:
    """Run the simulators as a long-lived process and print their base URLs."""
    from continuum.demo.simulators import start_simulators

    hub = load_hub(config)
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


def demo(as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object on stdout"),
         in_process: bool = typer.Option(False, "--in-process",
                                         help="Run the syncs in this process instead of through Airflow"),
         config: Path | None = ConfigOption) -> None:
    """Seeded simulators, the whole loop through Airflow, then two re-runs that must change nothing."""
    from continuum.demo.summary import print_demo_summary

    if in_process:
        from continuum.demo.story import run_demo
    else:
        from continuum.demo.airflow import run_demo
    hub = load_hub(config) if config else None
    if as_json:
        with stdout_to_stderr():
            summary = run_demo(hub)
        print_json(summary)
        return
    with progress_bars() as progress:
        summary = run_demo(hub, progress=ticker(progress))
    print_demo_summary(summary, Console())
