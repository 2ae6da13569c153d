"""Reading a target back, directly: which tickets and comments count, what an answer becomes, what is skipped.

The in-memory forum and tracker of the engine tests make the ticket (a real pipeline run on a SQLite store);
then the tracker serves pages this file writes record by record to :func:`read_target`, with mappings that use
the system context, so each line of :mod:`continuum.engine.readback` that mutants changed unseen is looked at.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from continuum.config import HubConfig
from continuum.connector import JSON, Page, SourceRecord
from continuum.engine.context import SyncContext
from continuum.engine.readback import read_target
from continuum.engine.run import run_pipeline
from continuum.store import interactions as interaction_store
from continuum.store.cursors import get_cursor, save_cursor
from continuum.store.db import utcnow
from continuum.store.feature_requests import create_feature_request
from continuum.store.links import add_link
from continuum.store.tables import audit_events, dead_letters, interactions, links, outbox
from tests.engine.fakes import FakeForum, FakeTracker

ENGINE_MAPPINGS = Path(__file__).parents[1] / "engine" / "mappings"

ISSUE = """system: tracker
object: issue
inbound:
  status: {path: status, type: str}
  resolution: {path: resolution, type: str}
  labels: {path: labels, type: list}
  summary: {template: "{{ record.summary }} [{{ system.name }}]"}
outbound:
  create:
    fields:
      summary: {template: "{{ interaction.text | truncate(50, true) }}", required: true}
"""

COMMENT = """system: tracker
object: comment
inbound:
  text: {template: "{% if record.text %}{{ record.text }} (via {{ system.name }}){% endif %}"}
  public: {path: public, type: bool, default: false}
  author_handle: {path: author, type: str}
  author_account_id: {path: account, type: str}
  votes: {path: votes, type: int}
"""


@dataclass
class PagedTracker(FakeTracker):
    """The engine tests' tracker, serving the pages a test queues when it is read back."""

    pages: list[Page] = field(default_factory=list)
    cursors_seen: list[JSON | None] = field(default_factory=list)

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        self.cursors_seen.append(cursor)
        yield from self.pages


def make_world(sqlite_db: Engine, tmp_path: Path, category: str) -> tuple[SyncContext, PagedTracker, str]:
    """A forum post routed to the tracker as ticket ``issue_id``; returns (ctx, tracker, issue_id)."""
    (tmp_path / "issue.yaml").write_text(ISSUE, encoding="utf-8")
    (tmp_path / "comment.yaml").write_text(COMMENT, encoding="utf-8")
    hub = HubConfig.model_validate({
        "systems": {"forum": {"connector": "fake", "connection": "none"},
                    "tracker": {"connector": "fake", "connection": "none"}},
        "pipelines": {"p": {
            "sources": [{"system": "forum", "stream": "posts", "mapping": str(ENGINE_MAPPINGS / "forum.post.yaml")}],
            "targets": [{"system": "tracker", "mapping": str(tmp_path / "issue.yaml"),
                         "comment_mapping": str(tmp_path / "comment.yaml"), "stream": "issues"}],
            "reply_mapping": {"forum": str(ENGINE_MAPPINGS / "forum.post.yaml")},
            "routing": [{"name": "all", "when": {}, "then": {"route": "tracker"}}],
        }},
    })
    forum, tracker = FakeForum(), PagedTracker()
    forum.post("ann", 1, "The export button does nothing", category=category)
    ctx = SyncContext(db=sqlite_db, hub=hub, pipeline_name="p", connectors={"forum": forum, "tracker": tracker})
    run_pipeline(ctx)
    (issue_id,) = tracker.issues
    tracker.pages.clear()
    tracker.cursors_seen.clear()
    return ctx, tracker, issue_id


@pytest.fixture
def world(sqlite_db: Engine, tmp_path: Path) -> tuple[SyncContext, PagedTracker, str]:
    return make_world(sqlite_db, tmp_path, "support")


def ticket(issue_id: str, version: str = "v2", **payload: Any) -> SourceRecord:
    return SourceRecord("issues", "issue", issue_id, {"status": "Open", **payload}, version=version)


def comment(comment_id: str, parent: str | None, text: str = "Fixed in 2.1", version: str = "c1",
            own_key: str | None = None, **payload: Any) -> SourceRecord:
    return SourceRecord("issues", "comment", comment_id,
                        {"text": text, "public": True, "author": "staff", "account": "s-1", **payload},
                        version=version, parent_id=parent, own_key=own_key)


def read(ctx: SyncContext, tracker: PagedTracker, *records: SourceRecord, cursor: JSON | None = None) -> Any:
    tracker.pages.append(Page(list(records), cursor))
    stats = read_target(ctx, ctx.pipeline.targets[0])
    tracker.pages.clear()
    return stats


def answers(db: Engine) -> list[dict[str, Any]]:
    with db.connect() as conn:
        return [dict(r) for r in conn.execute(select(interactions).where(interactions.c.kind == "answer"))
                .mappings()]


def table(db: Engine, which: Any) -> list[dict[str, Any]]:
    with db.connect() as conn:
        return [dict(r) for r in conn.execute(select(which).order_by(which.c.id)).mappings()]


# -- the read itself ------------------------------------------------------------------------------------------

def test_the_read_starts_from_the_saved_cursor_saves_the_new_one_and_reports_progress(world: Any) -> None:
    ctx, tracker, issue_id = world
    with ctx.db.begin() as conn:
        save_cursor(conn, "p", "tracker", "issues", {"updated": 3})
    ticks: list[tuple[str, int]] = []
    ctx.progress = lambda what, n: ticks.append((what, n))
    read(ctx, tracker, ticket(issue_id), ticket("999"), cursor={"updated": 7})
    assert tracker.cursors_seen == [{"updated": 3}]
    with ctx.db.connect() as conn:
        assert get_cursor(conn, "p", "tracker", "issues") == {"updated": 7}
    assert ticks == [("read back tracker", 2)]


# -- tickets --------------------------------------------------------------------------------------------------

def test_every_ticket_is_counted_and_one_the_hub_did_not_make_does_not_stop_the_page(world: Any) -> None:
    ctx, tracker, issue_id = world
    read(ctx, tracker, ticket(issue_id, version="v1"))  # the first look: remembered, no news
    stats = read(ctx, tracker, ticket("999"), ticket(issue_id, status="Done", version="v3", summary="Export"))
    assert stats.counts["tickets_read"] == 2
    assert stats.counts["tickets_changed"] == 1
    (changed,) = [a for a in table(ctx.db, audit_events) if a["action"] == "ticket_changed"]
    # The mapping saw the system context (a template naming the system).
    assert changed["changes"]["now"]["summary"] == "Export [tracker]"
    with ctx.db.connect() as conn:
        version = conn.execute(select(links.c.external_version).where(links.c.external_id == issue_id)).scalar()
    assert version == "v3"


def test_a_rejected_label_override_is_audited_on_the_interaction(world: Any) -> None:
    ctx, tracker, issue_id = world
    read(ctx, tracker, ticket(issue_id, labels=["continuum-priority-extreme"]))
    (rejected,) = [a for a in table(ctx.db, audit_events) if a["action"] == "override_rejected"]
    (asked,) = [r for r in table(ctx.db, interactions) if r["direction"] == "inbound"]
    assert (rejected["record_type"], rejected["record_id"]) == ("interaction", asked["id"])
    assert "extreme" in rejected["changes"]["error"]


def test_a_feature_request_ships_once_however_often_its_ticket_changes_after(world: Any) -> None:
    ctx, tracker, _ = world
    with ctx.db.begin() as conn:
        request = create_feature_request(conn, "Export to CSV", "", "export csv", utcnow())
        conn.execute(update(interactions).values(feature_request_id=request))
        add_link(conn, "feature_request", request, "tracker", "issue", "FR-1")
    read(ctx, tracker, ticket("FR-1", version="v1", resolution="Fixed"))
    read(ctx, tracker, ticket("FR-1", version="v2", resolution="Fixed", status="Closed"))
    shipped = [a for a in table(ctx.db, audit_events) if a["action"] == "shipped"]
    assert [(a["record_type"], a["record_id"]) for a in shipped] == [("feature_request", request)]


# -- comments -------------------------------------------------------------------------------------------------

def test_a_public_staff_comment_becomes_an_answer_on_the_ticket_thread(world: Any) -> None:
    ctx, tracker, issue_id = world
    stats = read(ctx, tracker, comment(f"{issue_id}-9", issue_id, version="c7"))
    assert stats.counts["comments_read"] == 1 and stats.counts["replies_planned"] == 1
    (answer,) = answers(ctx.db)
    (asked,) = [r for r in table(ctx.db, interactions) if r["direction"] == "inbound"]
    assert answer["text"] == "Fixed in 2.1 (via tracker)"
    assert (answer["title"], answer["customer_id"], answer["is_thread_start"], answer["in_reply_to"],
            answer["thread_id"], answer["status"]) == ("", None, False, asked["id"], issue_id, "closed")
    with ctx.db.connect() as conn:
        link = conn.execute(select(links).where(links.c.external_id == f"{issue_id}-9")).mappings().one()
    assert (link["record_type"], link["record_id"], link["external_version"], link["content_hash"]) == \
        ("interaction", answer["id"], "c7", answer["content_hash"])
    assert len(answer["content_hash"]) == 64


def test_an_empty_comment_is_an_empty_answer(world: Any) -> None:
    ctx, tracker, issue_id = world
    record = SourceRecord("issues", "comment", f"{issue_id}-9", {"public": True, "author": "staff"},
                          parent_id=issue_id)
    read(ctx, tracker, record)
    (answer,) = answers(ctx.db)
    assert answer["text"] == ""


def test_two_answers_differ_in_their_content_hash(world: Any) -> None:
    ctx, tracker, issue_id = world
    read(ctx, tracker, comment(f"{issue_id}-8", issue_id, text="One"), comment(f"{issue_id}-9", issue_id, text="Two"))
    assert len({a["content_hash"] for a in answers(ctx.db)}) == 2


def test_own_comments_by_link_or_key_and_orphans_are_skipped_without_stopping_the_page(world: Any) -> None:
    ctx, tracker, issue_id = world
    own = table(ctx.db, outbox)[0]["idempotency_key"]
    stats = read(ctx, tracker,
                 comment("c-own", issue_id, text="The hub wrote this", own_key=own),
                 comment("c-orphan", "no-such-ticket"),
                 comment("c-none", None),
                 comment(f"{issue_id}-9", issue_id))
    assert stats.counts["comments_read"] == 4
    assert stats.counts["own_writes_skipped"] == 1
    assert [a["text"] for a in answers(ctx.db)] == ["Fixed in 2.1 (via tracker)"]
    again = read(ctx, tracker, comment(f"{issue_id}-9", issue_id), comment(f"{issue_id}-10", issue_id, text="More"))
    assert again.counts["own_writes_skipped"] == 1  # the first is linked now: the hub's own record of it
    assert len(answers(ctx.db)) == 2


def test_an_answer_another_run_took_meanwhile_is_not_planned_twice(world: Any) -> None:
    ctx, tracker, issue_id = world
    now = utcnow()
    with ctx.db.begin() as conn:  # stored by the other run, which links it and plans its reply
        interaction_store.insert_new(conn, [{"source_system": "tracker", "source_id": f"comment:{issue_id}-9",
                                             "content_hash": "h", "first_seen_at": now, "last_seen_at": now}])
    stats = read(ctx, tracker, comment(f"{issue_id}-9", issue_id))
    assert stats.counts["own_writes_skipped"] == 1
    assert "replies_planned" not in stats.counts


def test_the_hubs_account_by_id_is_not_an_answer(world: Any) -> None:
    ctx, tracker, issue_id = world
    read(ctx, tracker, comment(f"{issue_id}-9", issue_id, author="someone", account=tracker.account))
    assert answers(ctx.db) == []


def test_an_internal_comment_is_counted_and_a_bad_one_dead_lettered(world: Any) -> None:
    ctx, tracker, issue_id = world
    stats = read(ctx, tracker, comment(f"{issue_id}-8", issue_id, public=False),
                 comment(f"{issue_id}-9", issue_id, votes="many"))
    assert (stats.counts["internal_comments"], stats.counts["dead_letters"]) == (1, 1)
    (letter,) = table(ctx.db, dead_letters)
    assert (letter["stage"], letter["stream"], letter["field"]) == ("map", "issues", "votes")
    assert answers(ctx.db) == []
