"""Figure 1, core throughput: map + identity + upsert (read) and triage, per second.

The source is generated in process (:class:`GeneratedForum`) with the shipped
Discourse mapping and routing rules, so the time measured is the engine's and
the store's, not an HTTP simulator's.  Triage plans a ticket in the outbox for
each routed interaction (mapping the outbound Jira fields); the apply stage then
sends the planned effects to targets that only answer (:class:`NullTracker`).
Apply is timed and counted on its own: the overall figure is read + triage.
Loading the kind model is a fixed cost of a process, timed apart (``model_load_s``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from bench.common import (
    GeneratedForum,
    NullTracker,
    Timer,
    emit,
    peak_rss_mb,
    pg_available,
    shipped_hub,
    store,
)
from continuum.config import HubConfig, pipeline_rulebook
from continuum.engine.apply import apply_effects
from continuum.engine.context import SyncContext
from continuum.engine.read import read_source
from continuum.engine.reading import model_path
from continuum.engine.triage import triage
from continuum.nlp.model import kind_model
from continuum.store.tables import cursors


class Statements:
    """SQL statements the engine sends, as the driver sees them (an executemany is one statement)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: Any) -> None:
        self.count += 1


@contextmanager
def counting(db: Engine) -> Iterator[Statements]:
    counter = Statements()
    event.listen(db, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(db, "before_cursor_execute", counter)


def per(count: int, size: int) -> float:
    return round(count / size, 3)


DEFAULT_SIZES = (2_000,)
FULL_SIZES = (10_000, 100_000)


def load_models(hub: HubConfig) -> float:
    """Load the kind model (and the libraries under it) once, as a task process does before its first page.

    It is a fixed cost of a process, not of an interaction (1.5 s here, most of it importing scikit-learn),
    so it is timed apart from the throughput and reported as ``model_load_s``."""
    timer = Timer()
    kind_model(model_path(pipeline_rulebook(hub, "community").classifier)).predict(["warm up"])
    return round(timer.seconds, 3)


def run_once(kind: str, size: int, workdir: Path) -> dict[str, float | int | None]:
    hub = shipped_hub()
    model_load_s = load_models(hub)
    with store(kind, workdir) as db:
        forum = GeneratedForum(size)
        ctx = SyncContext(db=db, hub=hub, pipeline_name="community",
                          # Chat too: the classifier sends what reads as HR or sales to Slack.
                          connectors={"discourse": forum, "jira": NullTracker(), "slack": NullTracker("slack")})
        source = hub.pipelines["community"].sources[0]
        timer = Timer()
        cpu = time.process_time()
        with counting(db) as read_sql:
            read = read_source(ctx, source)
        read_s = timer.seconds
        with counting(db) as triage_sql:
            triaged = triage(ctx)
        total_s = timer.seconds
        # This process's CPU (SQLite runs in it; PostgreSQL's server does not): steadier than wall time on a
        # machine other jobs share.
        cpu_s = time.process_time() - cpu
        applied = 0
        with counting(db) as apply_sql:
            for target in ("jira", "slack"):
                applied += sum(n for name, n in apply_effects(ctx, target).counts.items()
                               if name.endswith("_applied"))
        apply_s = timer.seconds - total_s
        # A second read of the same data: every record is unchanged.
        ctx.connectors["discourse"] = GeneratedForum(size)
        with db.begin() as conn:
            conn.execute(cursors.delete())  # read it all again from the start
        timer = Timer()
        with counting(db) as reread_sql:
            again = read_source(ctx, source)
        reread_s = timer.seconds
    created = read.counts.get("interactions_created", 0)
    assert created == size, f"expected {size} interactions, got {read.counts}"
    assert again.counts.get("interactions_unchanged", 0) == size, again.counts
    return {
        "interactions_per_s": round(size / total_s, 1),
        "read_interactions_per_s": round(size / read_s, 1),
        "triage_interactions_per_s": round(size / (total_s - read_s), 1),
        "apply_interactions_per_s": round(size / apply_s, 1),
        "interactions_per_cpu_s": round(size / cpu_s, 1),
        "unchanged_reread_interactions_per_s": round(size / reread_s, 1),
        "read_statements_per_interaction": per(read_sql.count, size),
        "triage_statements_per_interaction": per(triage_sql.count, size),
        "apply_statements_per_interaction": per(apply_sql.count, size),
        "statements_per_interaction": per(read_sql.count + triage_sql.count, size),
        "unchanged_reread_statements_per_interaction": per(reread_sql.count, size),
        "wall_s": round(total_s, 3),
        "model_load_s": model_load_s,
        "routed": triaged.counts.get("triage_routed", 0),
        "effects_applied": applied,
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="*")
    parser.add_argument("--stores", nargs="*", default=["sqlite", "postgresql"])
    args = parser.parse_args(argv)
    sizes = args.sizes or (FULL_SIZES if args.full else DEFAULT_SIZES)
    with tempfile.TemporaryDirectory(prefix="continuum-bench-") as tmp:
        for kind in args.stores:
            for size in sizes:
                name = f"throughput_{kind}"
                if kind == "postgresql" and (reason := pg_available()):
                    emit(name, size, {"interactions_per_s": None}, unavailable=reason)
                    continue
                emit(name, size, run_once(kind, size, Path(tmp)), store=kind, goal={"interactions_per_s": 10_000}
                     if kind == "sqlite" else None)


if __name__ == "__main__":
    main()
