"""The benchmarks run and print valid JSON lines; no figure is asserted (a benchmark is never a timed test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_benchmark_runs_at_tiny_sizes_and_prints_json_lines() -> None:
    done = subprocess.run([sys.executable, "-m", "bench", "--tiny"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert lines, done.stderr[-3000:]
    seen = set()
    for line in lines:
        assert isinstance(line["benchmark"], str) and line["benchmark"]
        assert isinstance(line["size"], int)
        figures = line["figures"]
        assert isinstance(figures, dict) and figures
        for name, value in figures.items():
            # A figure is a number, or null together with the reason it is unavailable.
            assert isinstance(value, (int, float)) or (value is None and line.get("unavailable")), (name, line)
        seen.add(line["benchmark"])
    assert {"throughput_sqlite", "api_calls_per_record", "noop_incremental_run", "memory_backfill",
            "head_to_head_tap_jira", "airflow_run", "rules", "crm_timeline_salesforce",
            "crm_timeline_hubspot"} <= seen, seen
