"""A customer edits what they wrote: the hub reads the edit, stores the new text once, and says so once.

Discourse's ``/posts.json`` pages by post id, so an edit does not move a post; the connector re-reads the
posts the feed serves anyway (the latest 50) whose ``updated_at`` is newer than any it has read.  The
engine's content hash then tells an edit (``updated``) from a re-read (``unchanged``).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine

from continuum.connector import ConnectionInfo
from continuum.engine.context import SyncContext
from continuum.engine.run import run_pipeline
from tests.e2e.conftest import Loop
from tests.engine.fakes import FakeForum, FakeTracker
from tests.engine.test_engine import hub
from tests.promises.helpers import audit_count, audits, forget_cursors, row_of


def test_an_edited_post_is_read_again_stored_once_and_then_left_alone(loop: Loop) -> None:
    loop.discourse.add_user("ann", "Ann", None)
    topic, post = loop.discourse.create_topic("ann", "bugs", "Totals off", "The PDF total is off by a cent")
    loop.discourse.reply("ann", topic, "Seen on every invoice since Monday")
    loop.sync()
    row = row_of(loop.db, "discourse", f"post:{post}")

    loop.discourse.edit_post(post, "The PDF total is off by two cents, on credit notes too")
    stats = loop.sync()
    assert stats.counts.get("interactions_updated") == 1 and not stats.counts.get("interactions_created")
    assert row_of(loop.db, "discourse", f"post:{post}")["text"] == "The PDF total is off by two cents, on " \
                                                                   "credit notes too"
    (updated,) = audits(loop.db, "updated")
    assert updated["record_id"] == row["id"] and updated["system"] == "discourse"
    assert updated["changes"]["text"].startswith("The PDF total is off by two cents")

    before = audit_count(loop.db)
    stats = loop.sync()  # the edit was read: nothing to read again
    assert not stats.counts.get("records_read") and audit_count(loop.db) == before
    forget_cursors(loop.db)
    stats = loop.sync()  # everything read again from scratch: all of it unchanged
    assert stats.counts.get("interactions_unchanged") == 2 and not stats.counts.get("interactions_updated")
    assert audit_count(loop.db) == before and len(audits(loop.db, "updated")) == 1


def test_an_edit_among_new_posts_is_read_in_the_same_run(loop: Loop) -> None:
    loop.discourse.add_user("ann", "Ann", None)
    _, first = loop.discourse.create_topic("ann", "bugs", "Export slow", "The CSV export takes minutes")
    loop.sync()
    loop.discourse.create_topic("ann", "bugs", "Login loop", "I am sent back to the login page")
    loop.discourse.edit_post(first, "The CSV export takes ten minutes")
    stats = loop.sync()
    assert stats.counts.get("interactions_updated") == 1 and stats.counts.get("interactions_created") == 1
    assert row_of(loop.db, "discourse", f"post:{first}")["text"] == "The CSV export takes ten minutes"


def test_the_content_hash_covers_the_text(sqlite_db: Engine) -> None:
    """A re-read whose text changed (and nothing else: this forum has no edit time) is an update."""
    forum = FakeForum()
    ctx = SyncContext(db=sqlite_db, hub=hub(), pipeline_name="p", connectors={"forum": forum, "tracker": FakeTracker()})
    forum.post("ann", 1, "Please add dark mode")
    forum.post("bob", 2, "Export to CSV would help")
    run_pipeline(ctx)
    forum.posts[0]["text"] = "Please add dark mode to the mobile app too"
    forget_cursors(sqlite_db)
    stats = run_pipeline(ctx)
    assert stats.counts.get("interactions_updated") == 1 and stats.counts.get("interactions_unchanged") == 1
    assert row_of(sqlite_db, "forum", "post:1")["text"] == "Please add dark mode to the mobile app too"
    assert [a["changes"]["text"] for a in audits(sqlite_db, "updated")] == ["Please add dark mode to the mobile "
                                                                             "app too"]
    forget_cursors(sqlite_db)
    stats = run_pipeline(ctx)
    assert stats.counts.get("interactions_unchanged") == 2 and not stats.counts.get("interactions_updated")


def test_the_same_post_twice_in_one_page_keeps_the_later_copy(sqlite_db: Engine) -> None:
    """A page may serve one object twice (a feed that shifted); the later copy wins, once."""
    forum = FakeForum()
    ctx = SyncContext(db=sqlite_db, hub=hub(), pipeline_name="p", connectors={"forum": forum, "tracker": FakeTracker()})
    forum.post("ann", 1, "Please add dark mode")
    forum.posts.append({**forum.posts[0], "text": "Please add dark mode, edited"})
    stats = run_pipeline(ctx)
    assert stats.counts.get("interactions_created") == 1 and stats.counts.get("interactions_updated") == 1
    assert row_of(sqlite_db, "forum", "post:1")["text"] == "Please add dark mode, edited"
    assert [a["action"] for a in audits(sqlite_db) if a["record_type"] == "interaction"][:2] == ["created", "updated"]


def test_the_discourse_connector_reads_an_edit_once_and_keeps_its_place(loop: Loop) -> None:
    from continuum.kit.registry import plugin

    def connector() -> Any:
        conn = json.loads(loop.env["AIRFLOW_CONN_CONTINUUM_DISCOURSE"])
        return plugin("discourse").create(ConnectionInfo("d", conn["host"], conn["login"], conn["password"]), {})

    def read(cursor: dict[str, Any] | None) -> tuple[list[str], dict[str, Any] | None]:
        pages = list(connector().read_changes("posts", cursor))
        return [r.payload["raw"] for p in pages for r in p.records], (pages[-1].cursor if pages else cursor)

    loop.discourse.add_user("ann", "Ann", None)
    _, old = loop.discourse.create_topic("ann", "bugs", "One", "first text")
    loop.discourse.create_topic("ann", "bugs", "Two", "second text")
    _, cursor = read(None)
    assert cursor is not None
    loop.discourse.edit_post(old, "first text, edited")
    raws, after = read(cursor)
    edited = next(p for p in loop.discourse.posts() if p["id"] == old)
    assert raws == ["first text, edited"]
    assert after == {"last_post_id": cursor["last_post_id"], "edited_after": edited["updated_at"]}
    assert read(after) == ([], after)  # read once
    # A cursor from before edits were read has no stamp: nothing is read again until a new post comes.
    assert read({"last_post_id": cursor["last_post_id"]})[0] == []


def test_a_repeated_object_in_a_page_is_recorded_like_any_other(sqlite_db: Engine) -> None:
    """The record-by-record path (a page that serves an object twice) keeps every promise the bulk path keeps."""
    forum = FakeForum()
    ctx = SyncContext(db=sqlite_db, hub=hub(), pipeline_name="p", connectors={"forum": forum, "tracker": FakeTracker()})
    forum.post("ann", 1, "Please add dark mode")
    forum.posts.append(dict(forum.posts[0]))  # served twice, unchanged
    forum.post("company", 1, "We are on it")  # the company's own account
    forum.posts.append(dict(forum.posts[2]))
    stats = run_pipeline(ctx)
    assert (stats.counts.get("interactions_created"), stats.counts.get("interactions_unchanged")) == (2, 2)
    ann, ours = row_of(sqlite_db, "forum", "post:1"), row_of(sqlite_db, "forum", "post:3")
    assert ann["customer_id"] is not None and ann["direction"] == "inbound"
    assert ours["customer_id"] is None and ours["direction"] == "outbound"  # the company is nobody's customer
    created = [a for a in audits(sqlite_db, "created") if a["record_type"] == "interaction"]
    assert [(a["record_id"], a["pipeline"], a["system"]) for a in created] == [(ann["id"], "p", "forum"),
                                                                               (ours["id"], "p", "forum")]
    assert created[0]["changes"]["author_account_id"] == "ann" and created[0]["changes"]["customer_id"] == ann[
        "customer_id"]
    forum.posts[0]["text"] = forum.posts[1]["text"] = "Please add dark mode, edited"
    forget_cursors(sqlite_db)
    seen = row_of(sqlite_db, "forum", "post:1")["last_seen_at"]
    stats = run_pipeline(ctx)
    assert (stats.counts.get("interactions_updated"), stats.counts.get("interactions_unchanged")) == (1, 3)
    (updated,) = audits(sqlite_db, "updated")
    assert (updated["record_id"], updated["pipeline"], updated["system"], updated["changes"]) == (
        ann["id"], "p", "forum", {"text": "Please add dark mode, edited"})
    assert row_of(sqlite_db, "forum", "post:1")["last_seen_at"] > seen
    forget_cursors(sqlite_db)
    stats = run_pipeline(ctx)  # the new hash was stored: nothing changed since
    assert stats.counts.get("interactions_unchanged") == 4 and not stats.counts.get("interactions_updated")
