"""A public staff comment becomes the hub's answer: one stored row that says what it answers, and one reply."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from continuum.store.tables import interactions, links
from tests.brain.helpers import company_posts, feature_request_rows, interaction
from tests.e2e.conftest import Loop


def _answers(loop: Loop) -> list[dict[str, Any]]:
    with loop.db.connect() as conn:
        return [dict(r) for r in conn.execute(select(interactions).where(interactions.c.kind == "answer")
                                              .order_by(interactions.c.id)).mappings()]


def _ticket_url(loop: Loop, record_type: str, record_id: int) -> str:
    with loop.db.connect() as conn:
        return str(conn.execute(select(links.c.url).where(links.c.system == "jira", links.c.record_type == record_type,
                                                          links.c.record_id == record_id)).scalar_one())


def test_a_staff_answer_on_an_interactions_ticket_is_stored_as_what_it_is(loop: Loop) -> None:
    loop.discourse.add_user("ann", "Ann", None)
    topic, post = loop.discourse.create_topic("ann", "bugs", "Totals off", "The PDF total is off by a cent")
    loop.sync()
    (issue,) = loop.jira.issues()
    loop.jira.add_staff_comment(issue["key"], "Internal: the rounding again", public=False)
    comment_id = loop.jira.add_staff_comment(issue["key"], "Fixed in today's release.", public=True)
    stats = loop.sync()
    assert stats.counts.get("internal_comments") == 1 and stats.counts.get("replies_planned") == 1
    asked = interaction(loop, post)
    (answer,) = _answers(loop)
    comment = next(c for c in loop.jira.comments(issue["key"]) if str(c["id"]) == str(comment_id))
    assert {k: answer[k] for k in ("source_system", "source_id", "direction", "status", "channel", "text",
                                   "in_reply_to", "feature_request_id", "customer_id", "thread_id", "url")} == {
        "source_system": "jira", "source_id": f"comment:{comment_id}", "direction": "outbound", "status": "closed",
        "channel": "jira", "text": "Fixed in today's release.", "in_reply_to": asked["id"],
        "feature_request_id": None, "customer_id": None, "thread_id": issue["id"],
        "url": _ticket_url(loop, "interaction", asked["id"])}
    assert answer["created_at"].replace(tzinfo=None) == datetime.fromisoformat(comment["created"]).replace(
        tzinfo=None, microsecond=answer["created_at"].microsecond)
    assert answer["updated_at"] is not None
    assert asked["status"] == "answered" and len(company_posts(loop, topic)) == 1


def test_a_staff_answer_on_a_feature_requests_ticket_belongs_to_the_request(loop: Loop) -> None:
    loop.discourse.add_user("mara", "Mara", None)
    loop.discourse.create_topic("mara", "feature-requests", "Dark mode please", "Please add a dark mode.")
    loop.sync()
    (issue,) = loop.jira.issues()
    (request,) = feature_request_rows(loop)
    loop.jira.add_staff_comment(issue["key"], "On the roadmap for next quarter.", public=True)
    loop.sync()
    (answer,) = _answers(loop)
    assert (answer["feature_request_id"], answer["in_reply_to"]) == (request["id"], None)
    assert answer["url"] == _ticket_url(loop, "feature_request", request["id"])
