"""What an applied effect changes in the store, directly: a chat route routes, a shipped request is shipped.

Each of these was a mutant that survived `make mutation`: the loop ran, the effect landed, and no test looked at
the state the effect must leave behind.
"""

from __future__ import annotations

from tests.brain.helpers import company_posts, feature_request_rows, interaction
from tests.e2e.conftest import Loop
from tests.promises.helpers import audits
from tests.promises.test_votes_and_notices import _dark_mode


def test_a_question_routed_to_a_chat_channel_is_routed_and_an_ignored_one_is_not(loop: Loop) -> None:
    loop.discourse.add_user("ann", "Ann Lee", None)
    _, hr = loop.discourse.create_topic("ann", "support", "Jobs", "Are you hiring support engineers? Where is the CV "
                                        "form?")
    _, lounge = loop.discourse.create_topic("ann", "lounge", "Hello", "Just saying hi to everyone here")
    loop.sync()
    assert interaction(loop, hr)["status"] == "routed"
    assert interaction(loop, lounge)["status"] != "routed"


def test_a_shipped_feature_request_is_marked_shipped_and_its_notice_counts_customers_not_posts(loop: Loop) -> None:
    topics = _dark_mode(loop)  # five posts by three customers
    loop.sync()
    (issue,) = loop.jira.issues()
    loop.jira.release_version(issue["key"], "3.0")
    loop.sync()
    (request,) = feature_request_rows(loop)
    assert request["status"] == "shipped" and request["shipped_at"] is not None
    (notice,) = [p["raw"] for p in company_posts(loop, topics["hana"][0]) if "has shipped" in p["raw"]]
    assert f"**{request['title']}** has shipped" in notice
    assert "3 customers asked for this" in notice
    # A second release of the same ticket tells nobody again: the request is already shipped.
    loop.jira.release_version(issue["key"], "3.1")
    stats = loop.sync()
    assert stats.counts.get("notices_planned", 0) == 0
    assert len(audits(loop.db, "shipped")) == 1
