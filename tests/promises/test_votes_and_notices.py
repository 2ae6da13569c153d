"""Votes count customers, not posts; when the feature ships, each customer is told once, where they first asked."""

from __future__ import annotations

import json

from tests.brain.helpers import company_posts, feature_request_rows
from tests.e2e.conftest import Loop

ASK = ("Dark mode please", "Please add a dark mode, the white screen hurts at night.")


def _dark_mode(loop: Loop) -> dict[str, list[int]]:
    """Mara asks three times (a topic, a +1 in it, a second topic), Hana once, Omar with a +1 in Mara's."""
    for user in ("mara", "hana", "omar"):
        loop.discourse.add_user(user, user.title(), None)
    mara_1, _ = loop.discourse.create_topic("mara", "feature-requests", *ASK)
    loop.discourse.reply("mara", mara_1, "+1, still need this")
    mara_2, _ = loop.discourse.create_topic("mara", "feature-requests", *ASK)  # her latest post: not her first
    hana, _ = loop.discourse.create_topic("hana", "feature-requests", *ASK)
    loop.discourse.reply("omar", mara_1, "+1 same here")
    return {"mara": [mara_1, mara_2], "hana": [hana]}


def test_votes_count_distinct_customers(loop: Loop) -> None:
    _dark_mode(loop)
    loop.sync()
    (request,) = feature_request_rows(loop)
    assert request["votes"] == 3  # five posts, three customers
    (issue,) = loop.jira.issues()
    assert "Votes: 3 customers" in json.dumps(issue["fields"]["description"])


def test_shipping_tells_each_customer_once_in_the_thread_of_their_first_request(loop: Loop) -> None:
    topics = _dark_mode(loop)
    loop.sync()
    (issue,) = loop.jira.issues()
    loop.jira.release_version(issue["key"], "3.0")
    for _ in range(2):
        loop.sync()

    def notices(topic: int) -> int:
        return sum("has shipped" in post["raw"] for post in company_posts(loop, topic))

    # Mara and Omar first asked in Mara's first topic: one notice there; Hana in hers; none in Mara's second.
    assert [notices(t) for t in (*topics["mara"], *topics["hana"])] == [1, 0, 1]


def test_a_single_customers_ticket_that_ships_tells_them_once(loop: Loop) -> None:
    from tests.promises.helpers import audits

    loop.discourse.add_user("ann", "Ann", None)
    topic, post = loop.discourse.create_topic("ann", "bugs", "Totals off", "The PDF total is off by a cent")
    loop.sync()
    (issue,) = loop.jira.issues()
    loop.jira.resolve(issue["key"], "Fixed")
    stats = loop.sync()
    assert stats.counts.get("notices_planned") == 1
    (notice,) = [p["raw"] for p in company_posts(loop, topic) if "has shipped" in p["raw"]]
    assert "**Totals off** has shipped" in notice and "1 customers asked for this" in notice
    (shipped,) = audits(loop.db, "shipped")
    interaction_id = next(a["record_id"] for a in audits(loop.db, "created") if a["record_type"] == "interaction")
    assert (shipped["record_type"], shipped["record_id"], shipped["pipeline"], shipped["changes"]) == (
        "interaction", interaction_id, "community", {"customers_told": 1})
    loop.sync()
    assert sum("has shipped" in p["raw"] for p in company_posts(loop, topic)) == 1 and post
