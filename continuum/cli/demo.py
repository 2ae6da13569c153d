"""The simulators and the demo: the whole loop offline, on seeded simulators."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import typer

from continuum.cli.common import ConfigOption, load_hub, out, print_json, progress_bars, stdout_to_stderr, ticker
from continuum.cli.errors import SettingError


def simulate(systems: list[str] | None = typer.Argument(None, help="Systems to simulate (default: all)"),
             seed: Path | None = typer.Option(
                 None, "--seed", help="Your own conversations (YAML or JSON, one section per system; see "
                                      "docs/guides/quickstart.md) instead of the shipped story"),
             empty: bool = typer.Option(False, "--no-seed", help="Start without the shipped story"),
             port: int = typer.Option(0, help="First port (0: any free port)"),
             as_json: bool = typer.Option(False, "--json", help="Print one JSON line (for scripts)"),
             faults: list[str] | None = typer.Option(
                 None, "--fault", help="SYSTEM:KIND[:METHOD[:PATH[:SECONDS]]], e.g. "
                                       "discourse:timeout:POST:/posts.json:2 (answer every reply 2 s late, after it "
                                       "is made); kinds: 429, 500, 502, 503, latency, timeout, reset, malformed"),
             config: Path | None = ConfigOption) -> None:
    """Run the simulators as a long-lived process: print each one's URL, the connection to export,
    and the accounts customers and staff use on its API."""
    from continuum.demo.simulators import SeedFileError, describe, read_seed_file, start_simulators

    hub = load_hub(config)
    names = systems or list(hub.systems)
    unknown = [name for name in names if name not in hub.systems]
    if unknown:
        raise SettingError(f"no system {', '.join(unknown)} in the hub config (configured: {', '.join(hub.systems)})")
    try:
        data = read_seed_file(seed, hub) if seed else None
    except SeedFileError as exc:
        raise SettingError(str(exc)) from None
    ports = {name: port + index for index, name in enumerate(names)} if port else None
    planned = [_fault(text, names) for text in faults or []]
    running = start_simulators(hub, names, seed=not empty, ports=ports, seed_data=data)
    for system, kind, method, path, seconds in planned:
        running[system].inject(kind, times=2**31, path_contains=path, method=method, latency_s=seconds)
    described = describe(hub, running)
    if as_json:
        sys.stdout.write(json.dumps(described) + "\n")
    else:
        _print_simulators(described)
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    for sim in running.values():
        sim.stop()


def _fault(text: str, systems: list[str]) -> tuple[str, str, str | None, str, float]:
    from continuum.simkit import FAULT_KINDS

    system, kind, method, path, seconds = [*text.split(":", 4), "", "", "", ""][:5]
    if system not in systems or kind not in FAULT_KINDS:
        raise SettingError(f"--fault {text!r}: expected SYSTEM:KIND[:METHOD[:PATH[:SECONDS]]] with SYSTEM one of "
                           f"{', '.join(systems)} and KIND one of {', '.join(FAULT_KINDS)}")
    try:
        delay = float(seconds) if seconds else 0.5
    except ValueError:
        raise SettingError(f"--fault {text!r}: SECONDS must be a number") from None
    return system, kind, method or None, path, delay


def _print_simulators(described: dict[str, Any]) -> None:
    write = sys.stdout.write
    for name, system in described.items():
        write(f"{name}\t{system['url']}\t{system['env']}\n")
    write("\n# The hub's connections (paste into the shell that runs `continuum sync` or Airflow):\n")
    for system in described.values():
        write(f"export {system['env']}='{system['value']}'\n")
    write("\n# Who else may use each API (customers write, staff answer), and how:\n")
    for name, system in described.items():
        for account in system["accounts"]:
            if account["role"] == "hub":
                continue
            how = account["how"] if "how" in account else \
                ", ".join(f"{k}: {v}" for k, v in account["headers"].items()) if "headers" in account else \
                f"basic auth {account['basic'][0]} / {account['basic'][1]}" if "basic" in account else \
                f"Authorization: Bearer {account['bearer']}"
            write(f"#   {name} {account['role']}: {how}\n#     {account['does']}\n")
    write("\n# Stop with Ctrl-C.\n")


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
    print_demo_summary(summary, out)
