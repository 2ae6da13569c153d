"""A dead letter names the record, the system, the field and the reason, and keeps a payload to replay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import Engine, select

from continuum.connector import Effect, EffectResult, SourceRecord
from continuum.engine.context import SyncContext
from continuum.engine.read import _safe_payload
from continuum.engine.run import run_pipeline
from continuum.http import _Gates, _never_sent, _Registry
from continuum.mapping import MappingError
from continuum.store.tables import dead_letters, interactions, outbox
from tests.engine.fakes import FakeForum, FakeTracker
from tests.engine.test_engine import hub


@dataclass
class RefusingTracker(FakeTracker):
    """A tracker that refuses every new issue, naming the field, as Jira's bulk answer does."""

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return [EffectResult(e.key, False, error="Jira rejected the issue: field 'summary': too long")
                if e.action == "create" else result for e, result in zip(effects, super().write(effects), strict=True)]


def _letters(db: Engine) -> list[dict[str, Any]]:
    with db.connect() as conn:
        return [dict(row) for row in conn.execute(select(dead_letters).order_by(dead_letters.c.id)).mappings()]


def test_a_refused_effect_leaves_a_letter_naming_record_system_field_and_attempt(sqlite_db: Engine) -> None:
    forum = FakeForum()
    ctx = SyncContext(db=sqlite_db, hub=hub(), pipeline_name="p", max_attempts=3,
                      connectors={"forum": forum, "tracker": RefusingTracker()})
    forum.post("ann", 1, "Please add dark mode")
    run_pipeline(ctx)
    with sqlite_db.connect() as conn:
        (effect,) = conn.execute(select(outbox)).mappings().all()
    (letter,) = _letters(sqlite_db)
    assert (letter["pipeline"], letter["system"], letter["stream"], letter["stage"], letter["state"]) == (
        "p", "tracker", "create", "apply", "open")
    assert letter["record_key"] == effect["idempotency_key"] and letter["field"] == "summary"
    assert letter["error"] == (f"interaction {effect['record_id']} → tracker create: Jira rejected the issue: "
                               "field 'summary': too long (attempt 2 of 3)")  # apply, then apply_follow_ups
    assert letter["payload"] == {"outbox_id": effect["id"], "record_type": "interaction",
                                 "record_id": effect["record_id"], "target_id": None, "fields": effect["payload"]}
    run_pipeline(ctx)  # the last attempt: the effect is dead, and the letter says so
    (letter,) = _letters(sqlite_db)
    assert letter["error"].endswith("(attempt 3 of 3; given up until replay)")


def test_an_unreadable_post_is_a_letter_naming_its_field_and_a_huge_one_keeps_a_preview(sqlite_db: Engine) -> None:
    forum = FakeForum()
    ctx = SyncContext(db=sqlite_db, hub=hub(), pipeline_name="p", connectors={"forum": forum, "tracker": FakeTracker()})
    forum.post("ann", 1, "fine")
    forum.posts.append({"id": 2, "topic": 2, "author": "mal", "text": "x" * 300_000, "category": "ideas",
                        "first": True, "created": "2026-11-20T10:00:00Z"})
    run_pipeline(ctx)
    (letter,) = _letters(sqlite_db)
    assert (letter["system"], letter["stream"], letter["stage"], letter["record_key"], letter["field"]) == (
        "forum", "posts", "map", "posts/post:2", "text")
    assert letter["error"].startswith("forum post 2: field text: ")
    assert letter["payload"]["truncated"] is True and letter["payload"]["size"] > 300_000
    assert letter["payload"]["preview"] == repr(forum.posts[1])[:2000]


def test_a_payload_is_kept_whole_up_to_its_limit() -> None:
    small = {"text": "x" * 1000}
    assert _safe_payload(small) is small
    edge = "y" * (200_000 - 2)  # its repr is exactly the limit
    assert _safe_payload(edge) == edge
    assert _safe_payload(edge + "y") == {"truncated": True, "preview": repr(edge + "y")[:2000], "size": 200_001}


def test_a_ticket_that_cannot_be_read_back_is_a_letter_too(sqlite_db: Engine) -> None:
    forum, tracker = FakeForum(), FakeTracker()
    ctx = SyncContext(db=sqlite_db, hub=hub(), pipeline_name="p", connectors={"forum": forum, "tracker": tracker})
    forum.post("ann", 1, "Please add dark mode")
    run_pipeline(ctx)
    (issue_id,) = tracker.issues
    tracker.issues[issue_id]["status"] = {"not": "a string"}  # the mapping wants text
    tracker.issues[issue_id]["updated"] = tracker._tick()
    stats = run_pipeline(ctx)
    assert stats.counts.get("dead_letters") == 1
    (letter,) = _letters(sqlite_db)
    assert (letter["system"], letter["stream"], letter["stage"], letter["record_key"], letter["field"]) == (
        "tracker", "issues", "map", f"issues/issue:{issue_id}", "status")
    assert letter["error"].startswith(f"tracker issue {issue_id}: field status: ")
    assert letter["payload"]["id"] == issue_id


def test_a_mapping_error_names_its_field() -> None:
    error = MappingError("fields.summary", "is required")
    assert (str(error), error.field, error.message) == ("fields.summary: is required", "fields.summary", "is required")


def test_only_a_connection_that_never_left_is_safe_to_send_again() -> None:
    assert _never_sent(requests.exceptions.ConnectionError("HTTPConnectionPool: NewConnectionError(...)"))
    assert _never_sent(requests.exceptions.ConnectionError("[Errno 111] Connection refused"))
    assert not _never_sent(requests.exceptions.ConnectionError("Connection reset by peer"))
    assert not _never_sent(requests.exceptions.ConnectionError("RemoteDisconnected('closed without response')"))


def test_call_counters_and_gates_are_per_system() -> None:
    counters, gates = _Registry(), _Gates()
    counters.bump("jira", calls=2, waited_s=0.5)
    counters.bump("jira", calls=1)
    counters.bump("slack", throttled=1)
    snapshot = counters.snapshot()
    assert snapshot["jira"]["calls"] == 3 and snapshot["jira"]["waited_s"] == 0.5
    assert snapshot["slack"] == {"calls": 0, "retries": 0, "throttled": 1, "transient_errors": 0, "waited_s": 0.0}
    counters.reset()
    assert counters.snapshot() == {}
    gates.hold("jira", 30)
    gates.hold("jira", 5)  # a shorter hold never shortens a longer one
    assert 29 < gates.remaining("jira") <= 30 and gates.remaining("slack") <= 0
    gates.reset()
    assert gates.remaining("jira") <= 0


def test_a_record_from_a_source_is_keyed_by_type_and_id() -> None:
    from continuum.engine.read import record_key

    assert record_key(SourceRecord("posts", "post", "12", {})) == "post:12"


def test_a_route_to_no_target_is_a_plan_letter_naming_the_route(sqlite_db: Engine) -> None:
    config = hub().model_dump()
    config["systems"]["crm"] = {"connector": "fake", "connection": "none"}  # a system, but not this pipeline's target
    config["pipelines"]["p"]["routing"].insert(
        0, {"name": "elsewhere", "when": {"regex": "export"}, "then": {"route": "crm"}, "stop": True})
    forum = FakeForum()
    ctx = SyncContext(db=sqlite_db, hub=type(hub()).model_validate(config), pipeline_name="p",
                      connectors={"forum": forum, "tracker": FakeTracker(), "crm": FakeTracker(system="crm")})
    forum.post("ann", 1, "Where do I find the export?", category="support")
    run_pipeline(ctx)
    (letter,) = _letters(sqlite_db)
    with sqlite_db.connect() as conn:
        (interaction_id,) = conn.execute(select(interactions.c.id)).scalars()
    assert (letter["pipeline"], letter["system"], letter["stream"], letter["stage"], letter["field"]) == (
        "p", "crm", "outbound", "plan", "route")
    assert letter["record_key"] == f"interaction/{interaction_id}"
    assert letter["error"] == (f"interaction {interaction_id} → crm: field route: pipeline 'p' routes to "
                               "'crm' but has no target for it")
    assert letter["payload"] == {"interaction_id": interaction_id}


@dataclass
class RefusingCommentsTracker(FakeTracker):
    """A tracker that takes new issues but refuses comments on them."""

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return [EffectResult(e.key, False, error="comments are closed on this issue")
                if e.action == "comment" else result for e, result in zip(effects, super().write(effects), strict=True)]


def test_a_refused_comment_names_the_ticket_it_was_for(sqlite_db: Engine) -> None:
    forum, tracker = FakeForum(), RefusingCommentsTracker()
    ctx = SyncContext(db=sqlite_db, hub=hub(), pipeline_name="p", connectors={"forum": forum, "tracker": tracker})
    forum.post("ann", 1, "Please add dark mode")
    run_pipeline(ctx)
    forum.post("ann", 1, "Also for the mobile app please")
    run_pipeline(ctx)
    with sqlite_db.connect() as conn:
        (comment,) = conn.execute(select(outbox).where(outbox.c.action == "comment")).mappings().all()
    (letter,) = [letter for letter in _letters(sqlite_db) if letter["stream"] == "comment"]
    assert comment["target_id"]
    assert letter["error"].startswith(f"interaction {comment['record_id']} → tracker comment on "
                                      f"{comment['target_id']}: ")
    assert letter["payload"]["target_id"] == comment["target_id"]
