"""Figure 4: peak RSS of a backfill of N interactions, each size in a fresh process.

The source is generated on the fly (nothing is held by the source), so the
peak measures the engine: pages are read, mapped and committed one at a
time, then triage walks the new interactions in pages.  ``ru_maxrss`` is per
process, hence one child process per size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import (
    GeneratedForum,
    NullTracker,
    Timer,
    emit,
    peak_rss_mb,
    shipped_hub,
    store,
)
from continuum.engine.context import SyncContext
from continuum.engine.read import read_source
from continuum.engine.triage import triage

DEFAULT_SIZES = (1_000, 5_000)
FULL_SIZES = (10_000, 100_000, 1_000_000)


def backfill(size: int, workdir: Path) -> dict[str, float]:
    hub = shipped_hub()
    with store("sqlite", workdir) as db:
        baseline = peak_rss_mb()
        ctx = SyncContext(db=db, hub=hub, pipeline_name="community",
                          # Chat too: the classifier sends what reads as HR or sales to Slack.
                          connectors={"discourse": GeneratedForum(size), "jira": NullTracker(),
                                      "slack": NullTracker("slack")})
        timer = Timer()
        read = read_source(ctx, hub.pipelines["community"].sources[0])
        triage(ctx)
        wall = timer.seconds
    assert read.counts.get("interactions_created") == size, read.counts
    return {"peak_rss_mb": peak_rss_mb(), "rss_before_backfill_mb": baseline, "wall_s": round(wall, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="*")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        with tempfile.TemporaryDirectory(prefix="continuum-bench-") as tmp:
            print(json.dumps(backfill(args.child, Path(tmp))), flush=True)
        return
    for size in args.sizes or (FULL_SIZES if args.full else DEFAULT_SIZES):
        done = subprocess.run([sys.executable, "-m", "bench.memory", "--child", str(size)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            # A crash is a bug to see, not a figure that is unavailable (the smoke test lets those pass).
            raise SystemExit(f"memory_backfill at {size} failed:\n{done.stderr.strip()[-3000:]}")
        emit("memory_backfill", size, json.loads(done.stdout.strip().splitlines()[-1]), store="sqlite",
             goal={"peak_rss_mb": 300, "flat": True})


if __name__ == "__main__":
    main()
