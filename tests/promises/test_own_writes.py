"""The hub knows its own writes when it reads them back, by link or, before the link exists, by key.

Each path gets its own test: a reply whose link was committed, a reply read back before its link (a crash
between the write and the outbox recording it), a customer who types a marker into a post, and the hub's
own Jira comment read back before its link.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from connectors.discourse.markup import idempotency_marker
from continuum.engine.context import SyncContext
from continuum.engine.run import run_pipeline
from continuum.failpoints import SimulatedCrash
from continuum.store.tables import interactions, links
from tests.brain.helpers import company_posts
from tests.e2e.conftest import Loop
from tests.engine.fakes import FakeForum, FakeTracker
from tests.engine.test_engine import hub
from tests.promises.helpers import source_ids


def _answered_topic(loop: Loop) -> tuple[int, str]:
    loop.discourse.add_user("ann", "Ann", None)
    topic, _ = loop.discourse.create_topic("ann", "bugs", "Totals off", "The PDF total is off by a cent")
    loop.sync()
    (issue,) = loop.jira.issues()
    loop.jira.add_staff_comment(issue["key"], "Fixed in today's release.", public=True)
    return topic, issue["key"]


def _crash_at(loop: Loop, monkeypatch: pytest.MonkeyPatch, failpoint: str) -> None:
    monkeypatch.setenv("CONTINUUM_FAILPOINTS", failpoint)
    monkeypatch.setenv("CONTINUUM_FAILPOINTS_MODE", "raise")
    with pytest.raises(SimulatedCrash):
        loop.sync()
    monkeypatch.delenv("CONTINUUM_FAILPOINTS")


def test_the_hubs_reply_read_back_is_skipped_by_its_link(loop: Loop) -> None:
    topic, _ = _answered_topic(loop)
    loop.sync()
    (reply,) = company_posts(loop, topic)
    stats = loop.sync()
    # Skipped: the reply read on Discourse, and the staff answer on Jira that was handled already.
    assert stats.counts.get("records_read") == 1 and stats.counts.get("own_writes_skipped") == 2
    assert not stats.counts.get("interactions_created")
    assert f"post:{reply['id']}" not in source_ids(loop.db, "discourse")


def test_the_hubs_reply_read_back_before_its_link_is_skipped_by_its_key(loop: Loop, monkeypatch) -> None:
    topic, _ = _answered_topic(loop)
    _crash_at(loop, monkeypatch, "after_write:discourse")  # the reply is posted, the outbox never heard back
    (reply,) = company_posts(loop, topic)
    with loop.db.connect() as conn:
        assert conn.execute(select(links).where(links.c.system == "discourse",
                                                links.c.external_id == str(reply["id"]))).first() is None
    stats = loop.sync()  # reads the reply first (no link yet), then finds it by key instead of posting again
    assert stats.counts.get("own_writes_skipped") == 2 and stats.counts.get("reply_found") == 1
    assert not stats.counts.get("interactions_created")
    assert f"post:{reply['id']}" not in source_ids(loop.db, "discourse")
    assert company_posts(loop, topic) == [reply]


def test_a_marker_typed_by_a_customer_does_not_make_the_post_the_hubs(loop: Loop) -> None:
    loop.discourse.add_user("eve", "Eve", None)
    marker = idempotency_marker("ck-0123456789abcdef01234567")
    _, post = loop.discourse.create_topic("eve", "bugs", "Odd", f"Is this mine? {marker}")
    stats = loop.sync()
    assert not stats.counts.get("own_writes_skipped") and f"post:{post}" in source_ids(loop.db, "discourse")
    assert len(loop.jira.issues()) == 1


def test_the_hubs_own_jira_comment_read_back_before_its_link_is_no_answer(loop: Loop, monkeypatch) -> None:
    loop.discourse.add_user("ann", "Ann", None)
    topic, _ = loop.discourse.create_topic("ann", "bugs", "Totals off", "The PDF total is off by a cent")
    loop.sync()
    loop.discourse.reply("ann", topic, "It also happens with credit notes.")
    # The follow-up becomes a public comment by the hub; the run dies before the outbox records it.
    _crash_at(loop, monkeypatch, "after_write:jira")
    (issue,) = loop.jira.issues()
    assert len(loop.jira.comments(issue["key"])) == 1
    stats = loop.sync()  # reads its own comment back with no link yet, then finds it by its property
    assert stats.counts.get("comment_found") == 1 and not stats.counts.get("replies_planned")
    loop.sync()
    assert company_posts(loop, topic) == [] and len(loop.jira.comments(issue["key"])) == 1
    with loop.db.connect() as conn:
        answers = conn.execute(select(interactions).where(interactions.c.kind == "answer")).all()
    assert answers == []


def test_a_public_comment_by_the_hubs_own_account_is_never_an_answer(sqlite_db: Engine) -> None:
    """The engine's own check, whatever the connector says: this tracker marks no comment as the hub's."""
    forum, tracker = FakeForum(), FakeTracker()
    ctx = SyncContext(db=sqlite_db, hub=hub(), pipeline_name="p", connectors={"forum": forum, "tracker": tracker})
    forum.post("ann", 1, "Please add dark mode")
    run_pipeline(ctx)
    (issue_id,) = tracker.issues
    # Written by the hub's account with no key and no link (by hand, or by a run whose outbox row was lost).
    tracker.issues[issue_id]["comments"].append({"id": f"{issue_id}-9", "author": tracker.account, "text": "noted",
                                                 "public": True})
    tracker.issues[issue_id]["updated"] = tracker._tick()
    tracker.staff_comment(issue_id, "A real answer from staff", public=True)
    for _ in range(2):
        run_pipeline(ctx)
    assert forum.replies == 1 and "A real answer from staff" in forum.posts[-1]["text"]


def test_unknown_hub_objects_say_where_how_many_and_what_to_do() -> None:
    from continuum.engine.apply import UnknownHubObjects

    error = UnknownHubObjects("jira", 4, ["PROD-1", "PROD-2", "PROD-3", "PROD-4"])
    assert (error.system, error.count) == ("jira", 4)
    assert str(error) == ("jira holds 4 object(s) the hub made that this store does not know (e.g. PROD-1, PROD-2, "
                          "PROD-3): writing now would duplicate them; back up the store, then run `continuum "
                          "reconcile` (or `continuum sync --force`)")
    assert "(e.g." not in str(UnknownHubObjects("jira", 1, []))
