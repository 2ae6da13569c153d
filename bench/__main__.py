"""Run every benchmark: ``python -m bench [--full] [--tiny] [--only NAME ...]``.

Each benchmark runs in its own process (peak RSS is per process, and Airflow
reads its configuration once per process).  Only JSON lines reach stdout, one
object per line; everything else the children print goes to stderr, so the
output can be piped straight into ``jq`` or a file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

# name -> (module, arguments for --tiny): tiny sizes only prove a benchmark runs.  None: not run at --tiny,
# because even its smallest size starts a whole Airflow deployment; a test drives the same code path.
BENCHMARKS: dict[str, tuple[str, list[str] | None]] = {
    "throughput": ("bench.throughput", ["--sizes", "200"]),
    "calls": ("bench.calls", ["--size", "20"]),
    "memory": ("bench.memory", ["--sizes", "300"]),
    "headtohead": ("bench.headtohead", ["--size", "30"]),
    "airflow": ("bench.airflow_runs", ["--sizes", "20"]),
    "requests": ("bench.requests", ["--requests", "20"]),
    "email": ("bench.email", ["--size", "20"]),
    "webhooks": ("bench.webhooks", ["--rate", "20", "--seconds", "1", "--sqlite-only"]),
    "webhook_latency": ("bench.webhook_latency", ["--events", "3"]),
    "airflow_latency": ("bench.airflow_latency", None),  # tests/airflow/test_webhook_wakes.py
    "rules": ("bench.rules", ["--rounds", "1"]),
    "crm": ("bench.crm", ["--size", "50"]),
}


def run(name: str, full: bool, tiny: bool) -> int:
    module, tiny_args = BENCHMARKS[name]
    if tiny and tiny_args is None:
        print(f"bench: {name} is not run at --tiny (it starts a whole Airflow deployment)", file=sys.stderr)
        return 0
    args = [sys.executable, "-m", module] + (["--full"] if full else []) + ((tiny_args or []) if tiny else [])
    started = time.perf_counter()
    with subprocess.Popen(args, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            try:
                json.loads(line)
            except ValueError:
                sys.stderr.write(line)
                continue
            sys.stdout.write(line)
            sys.stdout.flush()
        code = child.wait()
    print(f"bench: {name} finished in {time.perf_counter() - started:.1f} s (exit {code})", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--full", action="store_true", help="the real sizes (tens of minutes)")
    parser.add_argument("--tiny", action="store_true", help="smallest sizes: only checks that each runs")
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), help="run just these")
    args = parser.parse_args(argv)
    failed = [name for name in (args.only or list(BENCHMARKS)) if run(name, args.full, args.tiny) != 0]
    if failed:
        print(f"bench: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
