"""Batches, not records: the engine hands a connector its bulk size at once, and Jira gets 50 issues a call."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from continuum.connector import Capabilities, Effect, EffectResult
from continuum.engine.context import SyncContext
from continuum.engine.run import run_pipeline
from tests.e2e.conftest import Loop
from tests.engine.fakes import FakeForum, FakeTracker
from tests.engine.test_engine import hub


@dataclass
class CountingTracker(FakeTracker):
    """The fake tracker, with the sizes of the batches it was handed."""

    batches: list[tuple[str, int]] = field(default_factory=list)
    capabilities: Capabilities = field(
        default_factory=lambda: Capabilities(("issues",), ("create", "comment"), {"create": 50}))

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        self.batches.append((effects[0].action, len(effects)))
        return super().write(effects)


def test_the_engine_hands_the_connector_its_bulk_size_at_once(sqlite_db: Engine) -> None:
    forum, tracker = FakeForum(page_size=200), CountingTracker()
    ctx = SyncContext(db=sqlite_db, hub=hub(), pipeline_name="p", connectors={"forum": forum, "tracker": tracker})
    for n in range(120):
        forum.post(f"user{n}", n, f"idea number {n}")
    run_pipeline(ctx)
    assert tracker.created > 100  # (triage may set the odd one aside)
    assert tracker.batches == _chunks("create", tracker.created)
    # Effects without a bulk size go 50 at a time too: one comment per follow-up.
    tracker.batches.clear()
    for n in range(60):
        forum.post(f"user{n}", n, f"and one more thing {n}")
    run_pipeline(ctx)
    comments = [batch for batch in tracker.batches if batch[0] == "comment"]
    assert tracker.comments_added > 50 and comments == _chunks("comment", tracker.comments_added)


def _chunks(action: str, total: int) -> list[tuple[str, int]]:
    return [(action, min(50, total - start)) for start in range(0, total, 50)]


def test_more_than_fifty_issues_take_two_bulk_calls(loop: Loop) -> None:
    loop.hub.systems["jira"].options["remote_links"] = False  # one call per issue that this test does not need
    loop.discourse.add_user("ann", "Ann", None)
    for n in range(55):
        loop.discourse.create_topic("ann", "bugs", f"Bug {n}", f"Something is broken, case {n}")
    loop.sync()
    bulk = [x for x in loop.jira.exchanges if x.method == "POST" and x.path.endswith("/issue/bulk")]
    assert [len(json.loads(x.request_body)["issueUpdates"]) for x in bulk] == [50, 5]
    assert len(loop.jira.issues()) == 55
