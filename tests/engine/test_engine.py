"""The engine's invariants, with in-memory connectors (no HTTP): see DESIGN.md "Invariants"."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from continuum.config import HubConfig
from continuum.engine.context import SyncContext
from continuum.engine.run import run_pipeline
from continuum.failpoints import SimulatedCrash
from continuum.store.status import counts
from continuum.store.tables import cursors, dead_letters, interactions, links, outbox
from tests.engine.fakes import FakeForum, FakeTracker

MAPPINGS = Path(__file__).parent / "mappings"


def hub() -> HubConfig:
    return HubConfig.model_validate({
        "systems": {"forum": {"connector": "fake", "connection": "none"},
                    "tracker": {"connector": "fake", "connection": "none"}},
        "pipelines": {"p": {
            "sources": [{"system": "forum", "stream": "posts", "mapping": str(MAPPINGS / "forum.post.yaml")}],
            "targets": [{"system": "tracker", "mapping": str(MAPPINGS / "tracker.issue.yaml"),
                         "comment_mapping": str(MAPPINGS / "tracker.comment.yaml"), "stream": "issues"}],
            "reply_mapping": {"forum": str(MAPPINGS / "forum.post.yaml")},
            "routing": [
                {"name": "chat", "when": {"kind": ["noise"]}, "then": {"action": "ignore"}, "stop": True},
                {"name": "ideas", "when": {"kind": ["feature_request"]}, "then": {"route": "tracker"}},
            ],
        }},
    })


@pytest.fixture
def world(sqlite_db: Engine) -> tuple[SyncContext, FakeForum, FakeTracker]:
    forum, tracker = FakeForum(), FakeTracker()
    ctx = SyncContext(db=sqlite_db, hub=hub(), pipeline_name="p", connectors={"forum": forum, "tracker": tracker})
    return ctx, forum, tracker


def count(db: Engine, table: object, *where: object) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())  # type: ignore


def test_requests_become_one_ticket_each_and_banter_is_ignored(world) -> None:
    ctx, forum, tracker = world
    forum.post("ann", 1, "Please add dark mode")
    forum.post("bob", 2, "Export to CSV would help")
    forum.post("cid", 3, "lol nice weather", category="chat")
    stats = run_pipeline(ctx)
    assert tracker.created == 2
    assert stats.counts["triage_ignored"] == 1
    with ctx.db.connect() as conn:
        by_status = counts(conn)["by_status"]
    assert by_status == {"ignored": 1, "routed": 2}


def test_rerunning_changes_nothing(world) -> None:
    ctx, forum, tracker = world
    for n in range(7):
        forum.post(f"user{n}", n, f"idea number {n}")
    run_pipeline(ctx)
    before = (tracker.created, tracker.comments_added, forum.replies, count(ctx.db, interactions),
              count(ctx.db, links), count(ctx.db, outbox))
    for _ in range(3):
        run_pipeline(ctx)
    after = (tracker.created, tracker.comments_added, forum.replies, count(ctx.db, interactions),
             count(ctx.db, links), count(ctx.db, outbox))
    assert before == after == (7, 0, 0, 7, 7, 7)


def test_reading_the_same_data_from_scratch_again_makes_no_second_record(world) -> None:
    ctx, forum, _ = world
    forum.post("ann", 1, "Please add dark mode")
    run_pipeline(ctx)
    with ctx.db.begin() as conn:
        conn.execute(cursors.delete())  # forget where reading stopped: everything is read again
    run_pipeline(ctx)
    assert count(ctx.db, interactions) == 1


def test_crash_after_create_before_commit_finds_the_ticket_by_key(world, monkeypatch) -> None:
    ctx, forum, tracker = world
    forum.post("ann", 1, "Please add dark mode")
    monkeypatch.setenv("CONTINUUM_FAILPOINTS", "after_write:tracker")
    monkeypatch.setenv("CONTINUUM_FAILPOINTS_MODE", "raise")
    with pytest.raises(SimulatedCrash):
        run_pipeline(ctx)
    assert tracker.created == 1 and count(ctx.db, links) == 0  # made outside, not yet known inside
    monkeypatch.delenv("CONTINUUM_FAILPOINTS")
    stats = run_pipeline(ctx)
    assert stats.counts.get("create_found") == 1
    assert tracker.created == 1 and len(tracker.issues) == 1
    assert count(ctx.db, links) == 1


def test_bad_record_is_dead_lettered_and_the_rest_go_on(world) -> None:
    ctx, forum, tracker = world
    forum.post("ann", 1, "fine request")
    forum.posts.append({"id": 2, "topic": 2, "author": "mal", "text": "x" * 5000, "category": "ideas",
                        "first": True, "created": "2026-11-20T10:00:00Z"})
    forum.post("bob", 3, "another fine request")
    forum.posts.append({"id": 4, "topic": 4, "author": "eve", "text": "no date", "category": "ideas",
                        "first": True, "created": "not a date"})
    run_pipeline(ctx)
    assert tracker.created == 2
    with ctx.db.connect() as conn:
        letters = {row.record_key: row for row in conn.execute(select(dead_letters))}
    assert set(letters) == {"posts/post:2", "posts/post:4"}
    assert letters["posts/post:2"].field == "text" and "1000" in letters["posts/post:2"].error
    assert letters["posts/post:4"].field == "created_at"
    assert "forum post 4" in letters["posts/post:4"].error


def test_public_answer_goes_back_once_and_internal_note_does_not(world) -> None:
    ctx, forum, tracker = world
    forum.post("ann", 1, "Please add dark mode")
    run_pipeline(ctx)
    (issue_id,) = tracker.issues
    tracker.staff_comment(issue_id, "internal: ask design", public=False)
    tracker.staff_comment(issue_id, "Shipped <b>today</b>!", public=True)
    run_pipeline(ctx)
    assert forum.replies == 1
    reply = forum.posts[-1]
    assert reply["text"] == "Hi ann: Shipped &lt;b&gt;today&lt;/b&gt;!"
    with ctx.db.connect() as conn:
        status = conn.execute(select(interactions.c.status).where(interactions.c.source_id == "post:1")).scalar()
    assert status == "answered"
    for _ in range(2):
        run_pipeline(ctx)
    assert forum.replies == 1


def test_follow_up_becomes_a_comment_and_is_not_echoed_back(world) -> None:
    ctx, forum, tracker = world
    forum.post("ann", 1, "Please add dark mode")
    run_pipeline(ctx)
    forum.post("ann", 1, "Also for the mobile app please")
    run_pipeline(ctx)
    assert tracker.comments_added == 1
    (issue,) = tracker.issues.values()
    assert issue["comments"][0]["text"] == "ann: Also for the mobile app please"
    # The hub's own comment is public and unrestricted, yet reading it back is not an answer.
    run_pipeline(ctx)
    run_pipeline(ctx)
    assert forum.replies == 0 and tracker.comments_added == 1


class RefusingTracker(FakeTracker):
    """A tracker that refuses the "hopeless" request for good and the "flaky" one for now."""

    def write(self, effects):  # type: ignore[no-untyped-def]
        from continuum.kit.dispatch import failed

        passed, results = [], {}
        for effect in effects:
            summary = str(effect.fields.get("summary", ""))
            if "hopeless" in summary:
                results[effect.key] = failed(effect, "over the size limit", permanent=True)
            elif "flaky" in summary:
                results[effect.key] = failed(effect, "try again later")
            else:
                passed.append(effect)
        done = {r.key: r for r in super().write(passed)}
        return [results.get(e.key) or done[e.key] for e in effects]


def test_a_permanent_failure_is_a_dead_letter_at_once_a_passing_one_is_retried(sqlite_db: Engine) -> None:
    forum, tracker = FakeForum(), RefusingTracker()
    ctx = SyncContext(db=sqlite_db, hub=hub(), pipeline_name="p", connectors={"forum": forum, "tracker": tracker})
    forum.post("ann", 1, "a hopeless request")
    forum.post("bob", 2, "a flaky request")
    forum.post("cat", 3, "a fine request")
    run_pipeline(ctx)
    with ctx.db.connect() as conn:
        states = {r.payload.get("summary", "")[:20]: (r.state, r.attempts)
                  for r in conn.execute(select(outbox).where(outbox.c.action == "create"))}
        letters = [row.error for row in conn.execute(select(dead_letters))]
    by_word = {word: next(v for k, v in states.items() if word in k) for word in ("hopeless", "flaky", "fine")}
    assert by_word["hopeless"] == ("dead", 1)  # not retried: a retry cannot change it
    assert by_word["flaky"][0] == "failed"  # retried on the next run
    assert by_word["fine"][0] == "done"
    assert any("a retry cannot help" in e for e in letters)
    assert not any("try again later" in e and "a retry cannot help" in e for e in letters)
