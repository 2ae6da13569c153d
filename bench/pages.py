"""Knowledge pages: Confluence writes per changed customer page (goal: 1) and on an unchanged re-run (goal: 0).

A generated forum (the shipped Discourse mapping) feeds a pipeline whose tickets go nowhere (a counting
tracker) and whose knowledge pages go to the Confluence simulator over loopback, through the real connector
and ``atlassian-python-api``.  Three runs: the first makes every customer's page; the second reads nothing
new and must write nothing; before the third, ``--changed`` customers each post once more, and the writes
the simulator counted are divided by the pages that changed.  Writes are what the simulator saw: pages
created or saved, and labels added.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import GeneratedForum, Timer, emit, log, sized_main, store
from connectors.confluence.plugin import PLUGIN
from connectors.confluence.simulator import ConfluenceSimulator
from continuum.config import HubConfig
from continuum.connector import JSON, Capabilities, ConnectionInfo, Effect, EffectResult, Page
from continuum.engine.context import SyncContext
from continuum.engine.run import run_pipeline


@dataclass
class CountingTracker:
    """A ticket system that hands out a new id for every ticket (so every ticket is a link of its own)."""

    system: str = "jira"
    account: str | None = "continuum-bot@example.com"
    capabilities: Capabilities = field(default_factory=lambda: Capabilities((), ("create", "comment"), {}))
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def check(self) -> None:
        return None

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        return iter(())

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return [EffectResult(e.key, True, f"PROD-{next(self.ids)}", "issue") for e in effects]

    def escape_text(self, text: str) -> str:
        return text


def hub() -> HubConfig:
    return HubConfig.model_validate(
        {
            "systems": {
                "discourse": {"connector": "discourse", "connection": "none"},
                "jira": {"connector": "jira", "connection": "none"},
                "confluence": {"connector": "confluence", "connection": "none"},
            },
            "pipelines": {
                "p": {
                    "sources": [{"system": "discourse", "stream": "posts", "mapping": "discourse.post.yaml"}],
                    "targets": [{"system": "jira", "mapping": "jira.issue.yaml"}],
                    "routing": [{"name": "everything kept becomes a ticket", "when": {}, "then": {"route": "jira"}}],
                    "knowledge": {"system": "confluence", "customer_pages": {"select": ["any"]}},
                }
            },
        }
    )


def writes(sim: ConfluenceSimulator) -> int:
    counts = sim.effect_counts()
    return counts["created"] + counts["updated"] + counts["labels"]


def run(size: int, workdir: Path) -> None:
    changed = max(1, size // 20)
    with ConfluenceSimulator() as sim, store("sqlite", workdir) as db:
        credentials = PLUGIN.simulator_connection(sim.base_url)
        wiki = PLUGIN.create(
            ConnectionInfo(
                "bench_confluence", sim.base_url, credentials["login"], credentials["password"], credentials["extra"]
            )
        )
        forum = GeneratedForum(size, authors=max(10, size // 4))
        ctx = SyncContext(
            db=db,
            hub=hub(),
            pipeline_name="p",
            connectors={"discourse": forum, "jira": CountingTracker(), "confluence": wiki},
        )
        timer = Timer()
        first = run_pipeline(ctx)
        first_s, pages, first_writes = timer.seconds, first.counts.get("publish_applied", 0), writes(sim)
        calls = sim.effect_counts()["calls"]
        rerun = run_pipeline(ctx)
        rerun_writes, rerun_calls = writes(sim) - first_writes, sim.effect_counts()["calls"] - calls
        # ``changed`` more posts; the generated authors repeat, so these go to customers who have a page.
        forum.size += changed
        before, calls = writes(sim), sim.effect_counts()["calls"]
        third = run_pipeline(ctx)
        updated = third.counts.get("publish_applied", 0)
        made = sim.effect_counts()["created"] - first.counts.get("publish_applied", 0)
        log(f"pages: {pages} made, re-run {rerun_writes} writes, then {updated} changed ({made} new)")
        emit(
            "knowledge_pages",
            size,
            {
                "customer_pages": pages,
                "first_run_writes": first_writes,
                "first_run_s": round(first_s, 2),
                "unchanged_rerun_writes": rerun_writes,
                "unchanged_rerun_calls": rerun_calls,
                "changed_pages": updated - made,
                "writes_per_changed_page": round((writes(sim) - before - 2 * made) / max(1, updated - made), 3),
                "calls_per_changed_page": round((sim.effect_counts()["calls"] - calls) / max(1, updated), 3),
            },
            rerun_counts=dict(sorted(rerun.counts.items())),
        )


if __name__ == "__main__":
    sized_main(run, __doc__, default=200, full=2000)
