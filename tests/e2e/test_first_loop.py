"""The first loop, Discourse ⇄ Jira, through the real connectors and simulators over loopback HTTP.

a. a customer's feature request on Discourse → one Interaction, one Customer;
b. the routing rule → one Jira issue, made by the bulk call, text escaped, a remote
   link back to the post, the interaction `routed`;
c. a public comment and Done in Jira → a reply on the Discourse topic, `answered`;
d. syncing again, any number of times, changes nothing anywhere.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import func, select

from continuum.store.status import counts as store_counts
from continuum.store.tables import customers, dead_letters, interactions
from tests.e2e.conftest import Loop

HOSTILE = ("Please add dark mode <script>alert(1)</script> {code}x{code} [~accountid:557058:abc] "
           "{color:red}red{color} <ac:structured-macro ac:name=\"html\"/> \u202eevil\u202c 🌙")


def _effects(loop: Loop) -> dict[str, dict[str, int]]:
    return {"jira": loop.jira.effect_counts(), "discourse": loop.discourse.effect_counts()}


def _without_calls(effects: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {s: {k: v for k, v in c.items() if k != "calls"} for s, c in effects.items()}


def _text_nodes(adf: dict) -> list[str]:
    found = []
    if adf.get("type") == "text":
        found.append(adf["text"])
    for child in adf.get("content", []) or []:
        found += _text_nodes(child)
    return found


def _node_types(adf: dict) -> set[str]:
    types = {adf.get("type")}
    for child in adf.get("content", []) or []:
        types |= _node_types(child)
    return types


def test_the_first_loop_end_to_end(loop: Loop) -> None:
    loop.discourse.add_user("mara", "Mara Lindqvist", "mara@example.com")
    topic_id, post_id = loop.discourse.create_topic("mara", "feature-requests", "Dark mode please", HOSTILE)

    # a + b
    loop.sync()
    with loop.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(customers)).scalar_one() == 1
        rows = conn.execute(select(interactions)).mappings().all()
    assert len(rows) == 1 and rows[0]["status"] == "routed" and rows[0]["kind"] == "feature_request"
    (issue,) = loop.jira.issues()
    bulk_calls = [x for x in loop.jira.exchanges if x.method == "POST" and x.path.endswith("/issue/bulk")]
    single_creates = [x for x in loop.jira.exchanges if x.method == "POST" and x.path.endswith("/rest/api/3/issue")]
    assert len(bulk_calls) == 1 and not single_creates
    description = issue["fields"]["description"]
    texts = "\n".join(_text_nodes(description))
    assert "<script>alert(1)</script>" in texts and "[~accountid:557058:abc]" in texts and "{code}x{code}" in texts
    assert _node_types(description) <= {"doc", "paragraph", "text", "hardBreak"}  # no mention, no code block
    (link,) = loop.jira.remote_links(issue["key"])
    assert f"/{topic_id}/1" in link["object"]["url"]

    # c
    loop.jira.add_staff_comment(issue["key"], "Shipped today <b>under Settings</b> @everyone", public=True)
    loop.jira.set_status(issue["key"], "Done")
    loop.sync()
    replies = [p for p in loop.discourse.posts(topic_id) if p["username"] == "continuum"]
    assert len(replies) == 1
    assert "Shipped today" in replies[0]["raw"] and "<b>" not in replies[0]["raw"]
    assert "@everyone" not in replies[0]["raw"]  # escaped so nobody is pinged
    with loop.db.connect() as conn:
        status = conn.execute(select(interactions.c.status).where(
            interactions.c.source_id == f"post:{post_id}")).scalar_one()
    assert status == "answered"

    # d
    effects = _effects(loop)
    with loop.db.connect() as conn:
        counts = store_counts(conn)
    for _ in range(3):
        loop.sync()
    with loop.db.connect() as conn:
        assert store_counts(conn) | {"audit_events": 0} == counts | {"audit_events": 0}
    assert _without_calls(_effects(loop)) == _without_calls(effects)
    assert len(loop.jira.issues()) == 1
    assert len([p for p in loop.discourse.posts(topic_id) if p["username"] == "continuum"]) == 1


def test_an_internal_comment_is_not_sent_to_the_customer(loop: Loop) -> None:
    loop.discourse.add_user("ann", "Ann", None)
    topic_id, _ = loop.discourse.create_topic("ann", "bugs", "Export crashes", "The CSV export crashes every time")
    loop.sync()
    (issue,) = loop.jira.issues()
    assert issue["fields"]["priority"]["name"] == "High"  # the crash rule set priority high
    loop.jira.add_staff_comment(issue["key"], "Internal: probably the 2.3 regression", public=False)
    loop.sync()
    loop.sync()
    assert [p for p in loop.discourse.posts(topic_id) if p["username"] == "continuum"] == []


def test_the_hubs_own_jira_comment_read_back_is_not_a_new_change(loop: Loop) -> None:
    loop.discourse.add_user("ann", "Ann", None)
    topic_id, _ = loop.discourse.create_topic("ann", "bugs", "PDF totals wrong", "The PDF shows the wrong total")
    loop.sync()
    loop.discourse.reply("ann", topic_id, "It also happens with credit notes.")
    stats = loop.sync()
    (issue,) = loop.jira.issues()
    comments = loop.jira.comments(issue["key"])
    assert len(comments) == 1 and stats.counts.get("comment_applied") == 1
    # Unrestricted (so "public") and by the hub: reading it back must not answer the customer with it.
    for _ in range(2):
        stats = loop.sync()
    assert stats.counts.get("own_writes_skipped", 0) >= 1
    assert [p for p in loop.discourse.posts(topic_id) if p["username"] == "continuum"] == []
    assert len(loop.jira.comments(issue["key"])) == 1


def test_banter_is_kept_but_ignored_and_makes_no_ticket(loop: Loop) -> None:
    loop.discourse.add_user("bob", "Bob", None)
    loop.discourse.create_topic("bob", "lounge", "Friday!", "Happy Friday everyone, have a great weekend")
    loop.sync()
    assert loop.jira.issues() == []
    with loop.db.connect() as conn:
        assert store_counts(conn)["by_status"] == {"ignored": 1}


def test_malformed_posts_are_dead_lettered_while_the_others_sync(loop: Loop) -> None:
    loop.discourse.add_user("ann", "Ann", None)
    loop.discourse.add_user("eve", "Eve", None)
    loop.discourse.create_topic("ann", "feature-requests", "Dark mode", "Dark mode please")
    loop.discourse.create_topic("eve", "feature-requests", "Big", "x" * 70_000)  # oversized
    bad_date, _ = loop.discourse.create_topic("eve", "feature-requests", "When", "What day is it?")
    loop.discourse.insert_post(topic_id=bad_date, username="eve", raw="again", created_at="yesterday")
    loop.discourse.create_topic("ann", "feature-requests", "CSV", "CSV export please")
    loop.sync()
    with loop.db.connect() as conn:
        letters = {row.field: row.error for row in conn.execute(select(dead_letters))}
    assert set(letters) == {"text", "created_at"}
    assert "70000 characters" in letters["text"] and "discourse post" in letters["text"]
    assert len(loop.jira.issues()) == 3  # ann's two requests and eve's readable one
    loop.sync()
    assert len(loop.jira.issues()) == 3


def test_retry_after_is_honoured_and_counted(loop: Loop) -> None:
    from continuum.http import STATS

    loop.discourse.add_user("ann", "Ann", None)
    loop.discourse.create_topic("ann", "feature-requests", "Dark mode", "Dark mode please")
    loop.sync()
    loop.jira.inject("429", times=2, path_contains="/search/jql", retry_after="1")
    STATS.reset()
    loop.sync()
    jira = STATS.snapshot()["jira"]
    assert jira["throttled"] == 2 and jira["retries"] == 2
    searches = [x for x in loop.jira.exchanges if "/search/jql" in x.path]
    faulted = [x for x in searches if x.fault == "429"][-2:]
    answered = [x for x in searches if x.fault is None and x.at > faulted[-1].at]
    assert faulted[1].at - faulted[0].at >= 1.0 and answered[0].at - faulted[1].at >= 1.0


def test_the_demo_json_has_the_promised_keys() -> None:
    from continuum.demo.story import run_demo

    summary = run_demo()
    json.dumps(summary, default=str)
    for key in ("customers", "interactions", "by_status", "links", "outbox_pending", "dead_letters", "effects",
                "rerun_effects"):
        assert key in summary
    assert summary["rerun_effects"] == 0
    assert summary["interactions"] >= 30 and summary["customers"] >= 15
    jira = summary["effects"]["jira"]
    assert jira["created"] >= 10 and jira["comments"] >= 1
    assert summary["staff_answers"] == 3 and summary["features_shipped"] == 1
    # Each answer reaches every thread behind its ticket, and the shipped feature's askers are told.
    assert summary["effects"]["discourse"]["replies"] > summary["staff_answers"]
    assert summary["effects"]["slack"]["notifications"] == 2  # the HR question and the sales lead
    # The report of the run outlives the demo's throwaway store, and counts the calls it made.
    page = Path(summary["report"]).read_text(encoding="utf-8")
    assert 'id="chart-calls"' in page and 'id="chart-requests"' in page and "jira" in page
    # What the wiki and the CRM hold, in the summary people read: every figure counted, none of them zero.
    text = _printed(summary)
    pages = re.search(r"The wiki holds (\d+) customer history pages and (\d+) feature-request pages", text)
    crm = re.search(r"The CRM \(hubspot\) has (\d+) contacts the hub created and (\d+) it linked to a customer "
                    r"it knew, (\d+) timeline entries \(one per kept interaction\) and (\d+) cases", text)
    assert pages and crm, text
    assert all(int(n) > 0 for n in (*pages.groups(), *crm.groups())), (pages.groups(), crm.groups())
    figures = summary["crm"]["hubspot"]
    assert [int(n) for n in crm.groups()] == [figures[k] for k in ("contacts_created", "contacts_linked",
                                                                    "timeline_entries", "cases")]
    hubspot = summary["effects"]["hubspot"]  # the simulator counted what the summary says
    assert (hubspot["contacts_created"], hubspot["notes"], hubspot["tickets"]) == (
        figures["contacts_created"], figures["timeline_entries"], figures["cases"])


def _printed(summary: dict[str, object]) -> str:
    import io

    from rich.console import Console

    from continuum.demo.summary import print_demo_summary

    buffer = io.StringIO()
    print_demo_summary(summary, Console(file=buffer, width=400))
    return buffer.getvalue()
