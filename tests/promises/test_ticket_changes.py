"""Reading a ticket back, directly (in-memory tracker): what a person changes there is recorded once, and wins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine

from continuum.config import HubConfig
from continuum.engine.context import SyncContext
from continuum.engine.run import run_pipeline
from tests.engine.fakes import FakeForum, FakeTracker
from tests.engine.test_engine import MAPPINGS, hub
from tests.promises.helpers import audits, row_of


@pytest.fixture
def world(sqlite_db: Engine, tmp_path: Path) -> tuple[SyncContext, FakeForum, FakeTracker]:
    """The engine tests' pipeline, with a ticket mapping that also reads labels and the resolution."""
    ticket = yaml.safe_load((MAPPINGS / "tracker.issue.yaml").read_text(encoding="utf-8"))
    ticket["inbound"].update({"labels": {"path": "labels", "type": "list"},
                              "resolution": {"path": "resolution", "type": "str"}})
    (tmp_path / "tracker.issue.yaml").write_text(yaml.safe_dump(ticket), encoding="utf-8")
    config = hub().model_dump()
    config["pipelines"]["p"]["targets"][0]["mapping"] = str(tmp_path / "tracker.issue.yaml")
    forum, tracker = FakeForum(), FakeTracker()
    ctx = SyncContext(db=sqlite_db, hub=HubConfig.model_validate(config), pipeline_name="p",
                      connectors={"forum": forum, "tracker": tracker})
    return ctx, forum, tracker


def _change(tracker: FakeTracker, issue_id: str, **fields: Any) -> None:
    tracker.issues[issue_id].update(fields)
    tracker.issues[issue_id]["updated"] = tracker._tick()


def test_a_change_on_the_ticket_is_one_audited_change(world: tuple[SyncContext, FakeForum, FakeTracker]) -> None:
    ctx, forum, tracker = world
    forum.post("ann", 1, "Please add dark mode")
    run_pipeline(ctx)
    (issue_id,) = tracker.issues
    asked = row_of(ctx.db, "forum", "post:1")
    _change(tracker, issue_id, status="In Progress")
    assert run_pipeline(ctx).counts.get("tickets_changed") == 1
    (event,) = audits(ctx.db, "ticket_changed")
    assert (event["record_type"], event["record_id"], event["pipeline"], event["system"]) == (
        "interaction", asked["id"], "p", "tracker")
    assert event["changes"]["system"] == "tracker" and event["changes"]["ticket"] == issue_id
    assert event["changes"]["now"]["status"] == "In Progress"
    assert not run_pipeline(ctx).counts.get("tickets_changed")
    assert len(audits(ctx.db, "ticket_changed")) == 1


def test_a_label_on_the_ticket_overrides_once_and_a_bad_one_is_refused(
        world: tuple[SyncContext, FakeForum, FakeTracker]) -> None:
    ctx, forum, tracker = world
    forum.post("ann", 1, "Please add dark mode")
    run_pipeline(ctx)
    (issue_id,) = tracker.issues
    _change(tracker, issue_id, labels=[*tracker.issues[issue_id]["labels"], "continuum-priority-urgent",
                                       "continuum-team-sales"])
    run_pipeline(ctx)
    row = row_of(ctx.db, "forum", "post:1")
    assert (row["priority"], row["team"]) == ("urgent", "sales")
    (override,) = audits(ctx.db, "override")
    assert override["record_id"] == row["id"] and override["changes"] == {"by": "ticket label", "priority": "urgent",
                                                                          "team": "sales"}
    for _ in range(2):
        run_pipeline(ctx)
    assert len(audits(ctx.db, "override")) == 1  # already in force: not applied again
    _change(tracker, issue_id, labels=[*tracker.issues[issue_id]["labels"], "continuum-priority-whenever"])
    run_pipeline(ctx)
    (rejected,) = audits(ctx.db, "override_rejected")
    assert rejected["record_id"] == row["id"] and "whenever" in rejected["changes"]["error"]
    assert rejected["pipeline"] == "p" and row_of(ctx.db, "forum", "post:1")["priority"] == "urgent"


def test_a_resolved_ticket_tells_the_customer_once(world: tuple[SyncContext, FakeForum, FakeTracker]) -> None:
    ctx, forum, tracker = world
    forum.post("ann", 1, "Please add dark mode")
    run_pipeline(ctx)
    (issue_id,) = tracker.issues
    _change(tracker, issue_id, status="Done", resolution="Won't Do")
    run_pipeline(ctx)
    assert audits(ctx.db, "shipped") == []  # not a resolution that ships anything
    _change(tracker, issue_id, resolution="Fixed")
    assert run_pipeline(ctx).counts.get("notices_planned", 0) == 0  # this pipeline's forum mapping has no notice
    (shipped,) = audits(ctx.db, "shipped")
    assert shipped["record_id"] == row_of(ctx.db, "forum", "post:1")["id"]
    assert shipped["changes"] == {"customers_told": 1}
