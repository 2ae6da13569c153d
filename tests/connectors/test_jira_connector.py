"""JiraConnector against the Jira simulator over real HTTP: what the shared contract suite does not cover."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from connectors.jira.adf import adf_to_text, text_to_adf
from connectors.jira.connector import MAX_WALKS, IssuesCursor, JiraConnector
from connectors.jira.contract import text_nodes
from connectors.jira.plugin import PLUGIN, SIM_LOGIN, SIM_TOKEN
from connectors.jira.seed import seed
from connectors.jira.simmodel import SIM_PAT, SIM_TIMEZONE
from connectors.jira.simulator import JiraSimulator
from continuum.connector import ConnectionInfo, Effect
from continuum.kit.config import ConfigError
from continuum.kit.errors import ClientError

HOSTILE = "Broken {code}rm -rf{code}\n[~accountid:123] <script>alert(1)</script>\n\n{color:red}x{color} *bold*"
ALLOWED_NODES = {"doc", "paragraph", "text", "hardBreak"}


@pytest.fixture
def sim() -> Iterator[JiraSimulator]:
    simulator = JiraSimulator()
    seed(simulator)
    with simulator:
        yield simulator


def connect(sim: JiraSimulator, token: str = SIM_TOKEN, extra: dict[str, Any] | None = None,
            **options: Any) -> JiraConnector:
    connector = PLUGIN.create(ConnectionInfo("jira_test", sim.base_url, SIM_LOGIN, token, extra or {}),
                              {"project": "PROD", **options})
    assert isinstance(connector, JiraConnector)
    return connector


def key(n: int) -> str:
    return f"ck-{n:024x}"


def create(n: int, **extra: Any) -> Effect:
    fields = {"summary": f"Issue {n}", "description": f"Body {n}"}
    return Effect(key(n), "create", "issue", fields, **extra)


def node_types(node: Any) -> set[str]:
    if isinstance(node, dict):
        return {node["type"]}.union(*(node_types(c) for c in node.get("content") or []))
    return set()


def calls(sim: JiraSimulator, method: str, path_contains: str) -> int:
    return len(sim.calls(method, path_contains))


# -- adf -------------------------------------------------------------------------------
def test_text_becomes_paragraphs_and_hard_breaks_and_reads_back() -> None:
    doc = text_to_adf("line one\nline two\n\n\nsecond paragraph\r\n")
    assert doc == {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "line one"}, {"type": "hardBreak"},
                                          {"type": "text", "text": "line two"}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "second paragraph"}]}]}
    assert adf_to_text(doc) == "line one\nline two\n\nsecond paragraph"
    assert text_to_adf("") == {"type": "doc", "version": 1, "content": []}


def test_staff_rich_text_flattens_to_readable_text() -> None:
    doc = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Hi "},
                                          {"type": "mention", "attrs": {"id": "1", "text": "@Ana"}},
                                          {"type": "text", "text": " fixed", "marks": [{"type": "strong"}]}]},
        {"type": "bulletList", "content": [
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "a"}]}]},
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "b"}]}]}]}]}
    assert adf_to_text(doc) == "Hi @Ana fixed\n\n- a\n- b"


# -- construction and auth ---------------------------------------------------------------
def test_options_and_capabilities(sim: JiraSimulator) -> None:
    connector = connect(sim, page_size=7)
    assert connector.account == SIM_LOGIN and connector.config.page_size == 7
    assert connector.capabilities.bulk_sizes["create"] == 50
    assert SIM_TOKEN not in repr(connector.config)
    assert connector.escape_text(HOSTILE) == HOSTILE  # ADF text nodes are literal: nothing to escape
    with pytest.raises(ConfigError, match="unknown option"):
        connect(sim, colour="red")


def test_data_center_personal_access_token(sim: JiraSimulator) -> None:
    connect(sim, token=SIM_PAT, extra={"auth": "pat"}).check()
    [result] = connect(sim, token=SIM_PAT, extra={"auth": "pat"}).write([create(1)])
    assert result.ok
    with pytest.raises(ClientError, match="401") as caught:
        connect(sim, token="not-the-pat", extra={"auth": "pat"}).check()
    assert "not-the-pat" not in str(caught.value)


def test_old_search_is_gone_and_unknown_jql_is_a_400(sim: JiraSimulator) -> None:
    auth = (SIM_LOGIN, SIM_TOKEN)
    old = requests.get(f"{sim.base_url}/rest/api/3/search", params={"jql": "project = PROD"}, auth=auth, timeout=5)
    assert old.status_code == 410
    bad = requests.get(f"{sim.base_url}/rest/api/3/search/jql", params={"jql": 'summary ~ "x"'}, auth=auth, timeout=5)
    assert bad.status_code == 400 and bad.json()["errorMessages"]
    unbounded = requests.get(f"{sim.base_url}/rest/api/3/search/jql", params={"jql": "ORDER BY key"}, auth=auth,
                             timeout=5)
    assert unbounded.status_code == 400


# -- writing -------------------------------------------------------------------------------
def test_create_sends_adf_label_and_remote_link(sim: JiraSimulator) -> None:
    connector = connect(sim)
    effect = Effect(key(1), "create", "issue", {"summary": "Login\nfails  twice", "description": HOSTILE,
                                                "labels": ["feedback"]},
                    context={"source_url": "https://forum.example/t/7", "source_title": "Login fails"})
    [result] = connector.write([effect])
    assert result.ok and not result.found_existing
    issue = sim.get_issue(result.external_id or "")
    assert result.url == f"{sim.base_url}/browse/{issue['key']}"
    fields = issue["fields"]
    assert fields["summary"] == "Login fails twice"
    assert fields["labels"] == ["feedback", f"continuum-{key(1)}"]
    assert node_types(fields["description"]) <= ALLOWED_NODES
    assert "".join(text_nodes(fields["description"])) == HOSTILE.replace("\n", "")
    [link] = sim.remote_links(issue["id"])
    assert link["globalId"] == "continuum:https://forum.example/t/7"
    assert link["object"] == {"url": "https://forum.example/t/7", "title": "Login fails"}


def test_bulk_create_splits_into_fifty_and_keeps_order(sim: JiraSimulator) -> None:
    connector = connect(sim)
    results = connector.write([create(n) for n in range(101)])
    assert [r.key for r in results] == [key(n) for n in range(101)]
    assert all(r.ok for r in results)
    assert sim.effect_counts()["bulk_calls"] == 3
    by_id = {i["id"]: i for i in sim.issues()}
    assert [by_id[r.external_id or ""]["fields"]["summary"] for r in results] == [f"Issue {n}" for n in range(101)]


def test_recovery_finds_issue_by_label_instead_of_creating_again(sim: JiraSimulator) -> None:
    connector = connect(sim)
    [first] = connector.write([create(1)])
    retried = [dataclasses.replace(create(1), maybe_applied=True), dataclasses.replace(create(2), maybe_applied=True)]
    searches_before = calls(sim, "GET", "/search/jql")
    again = connector.write(retried)
    assert again[0].ok and again[0].found_existing and again[0].external_id == first.external_id
    assert again[1].ok and not again[1].found_existing  # never made before: created now
    assert calls(sim, "GET", "/search/jql") == searches_before + 1  # one labels search for the batch
    assert sim.effect_counts()["created"] == 2
    assert sorted(i["fields"]["summary"] for i in sim.issues()) == ["Issue 1", "Issue 2"]


def test_remote_link_is_upserted_by_global_id(sim: JiraSimulator) -> None:
    connector = connect(sim)
    context = {"source_url": "https://forum.example/t/9", "source_title": "Old title"}
    [made] = connector.write([create(1, context=context)])
    renamed = {"source_url": "https://forum.example/t/9", "source_title": "New title"}
    [again] = connector.write([create(1, context=renamed, maybe_applied=True)])
    assert again.found_existing and again.external_id == made.external_id
    links = sim.remote_links(made.external_id or "")
    assert len(links) == 1 and links[0]["object"]["title"] == "New title"
    assert sim.effect_counts()["remote_links"] == 1 and len(sim.issues()) == 1


def test_comment_is_literal_adf_and_recovered_by_property(sim: JiraSimulator) -> None:
    connector = connect(sim)
    issue_id = sim.add_staff_issue("Question")
    effect = Effect("cm-1", "comment", "comment", {"body": HOSTILE}, target_id=issue_id)
    [made] = connector.write([effect])
    assert made.ok and made.object_type == "comment"
    [stored] = sim.comments(issue_id)
    assert node_types(stored["body"]) <= ALLOWED_NODES
    assert text_nodes(stored["body"]) == ["Broken {code}rm -rf{code}", "[~accountid:123] <script>alert(1)</script>",
                                          "{color:red}x{color} *bold*"]
    assert stored["properties"] == [{"key": "continuum", "value": {"key": "cm-1"}}]
    sim.add_staff_comment(issue_id, "Unrelated staff note")
    [again] = connector.write([dataclasses.replace(effect, maybe_applied=True)])
    assert again.found_existing and again.external_id == made.external_id
    assert sim.effect_counts()["comments"] == 1
    [fresh] = connector.write([Effect("cm-2", "comment", "comment", {"body": "New"}, target_id=issue_id,
                                      maybe_applied=True)])
    assert fresh.ok and not fresh.found_existing and sim.effect_counts()["comments"] == 2


def test_transition_matches_target_status_and_skips_when_already_there(sim: JiraSimulator) -> None:
    connector = connect(sim)
    issue_id = sim.add_staff_issue("To close")
    done = Effect("tr-1", "transition", "issue", {"status": "Done"}, target_id=issue_id)
    [result] = connector.write([done])
    assert result.ok
    issue = sim.get_issue(issue_id)
    assert issue["fields"]["status"]["name"] == "Done" and issue["fields"]["resolution"]["name"] == "Done"
    posts = calls(sim, "POST", "/transitions")
    [again] = connector.write([dataclasses.replace(done, maybe_applied=True)])
    assert again.ok and again.found_existing and calls(sim, "POST", "/transitions") == posts
    [nowhere] = connector.write([Effect("tr-2", "transition", "issue", {"status": "Blocked"}, target_id=issue_id)])
    assert not nowhere.ok and "tr-2" in (nowhere.error or "") and "'status'" in (nowhere.error or "")
    assert sim.effect_counts()["transitions"] == 1


def test_an_update_for_a_purged_post_drops_the_hubs_source_link_and_only_it(sim: JiraSimulator) -> None:
    connector = connect(sim)
    [made] = connector.write([create(1, context={"source_url": "https://x.example/ann/status/9",
                                                 "source_title": "Ann's words"})])
    issue = made.external_id or ""
    staff_link = {"globalId": "staff:wiki", "application": {"type": "com.wiki"},
                  "object": {"url": "https://wiki.example/p", "title": "Runbook"}}
    requests.post(f"{sim.base_url}/rest/api/3/issue/{issue}/remotelink", json=staff_link,
                  auth=(SIM_LOGIN, SIM_TOKEN), timeout=5).raise_for_status()
    update = Effect("up-2", "update", "issue", {"summary": "[deleted by the author]"}, target_id=issue,
                    context={"purpose": "erased", "drop_source_link": True})

    [result] = connector.write([update])
    [again] = connector.write([dataclasses.replace(update, maybe_applied=True)])  # the link is gone already

    assert result.ok and again.ok
    assert [link["globalId"] for link in sim.remote_links(issue)] == ["staff:wiki"]
    assert calls(sim, "DELETE", "/remotelink") == 1


def test_update_converts_rich_text(sim: JiraSimulator) -> None:
    connector = connect(sim)
    issue_id = sim.add_staff_issue("Draft")
    [result] = connector.write([Effect("up-1", "update", "issue", {"description": "New <b>text</b>",
                                                                   "summary": "Final"}, target_id=issue_id)])
    assert result.ok and result.version
    fields = sim.get_issue(issue_id)["fields"]
    assert fields["summary"] == "Final" and text_nodes(fields["description"]) == ["New <b>text</b>"]


def test_bad_effects_fail_alone_with_clear_errors(sim: JiraSimulator) -> None:
    connector = connect(sim)
    issue_id = sim.add_staff_issue("Target")
    results = connector.write([
        Effect("bad-1", "create", "issue", {"description": "no summary"}),
        create(1),
        Effect("bad-2", "create", "issue", {"summary": "x", "priority": {"name": "Urgent"}}),
        Effect("bad-3", "comment", "comment", {"body": "hi"}, target_id="../../myself"),
        Effect("bad-4", "reply", "comment", {"body": "hi"}, target_id=issue_id),
        Effect("bad-5", "create", "issue", {"summary": "x", "labels": ["two words"]}),
        Effect("ok-2", "comment", "comment", {"body": "fine"}, target_id=issue_id),
    ])
    assert [r.ok for r in results] == [False, True, False, False, False, False, True]
    errors = [r.error or "" for r in results]
    assert "bad-1" in errors[0] and "'summary'" in errors[0]
    assert "bad-2" in errors[2] and "'priority'" in errors[2]  # rejected by Jira inside the bulk call
    assert "bad-3" in errors[3] and "target_id" in errors[3]
    assert "bad-4" in errors[4] and "cannot 'reply'" in errors[4]
    assert "bad-5" in errors[5] and "'labels'" in errors[5]
    assert sim.effect_counts()["created"] == 1


def test_a_bulk_jira_refuses_whole_still_says_why_for_each_issue(sim: JiraSimulator) -> None:
    results = connect(sim).write([Effect("bad-1", "create", "issue", {"summary": "x", "priority": {"name": "Urgent"}}),
                                  Effect("bad-2", "create", "issue", {"summary": "y", "labels": ["two words"]})])
    assert [r.ok for r in results] == [False, False]  # Jira answered 400: it made none of them
    assert "bad-1" in (results[0].error or "") and "'priority'" in (results[0].error or "")
    assert "bad-2" in (results[1].error or "") and "'labels'" in (results[1].error or "")


# -- reading -------------------------------------------------------------------------------
def test_read_changes_pages_and_cursor(sim: JiraSimulator) -> None:
    connector = connect(sim, page_size=3)
    ids = [sim.add_staff_issue(f"Staff issue {n}") for n in range(7)]
    sim.advance_clock(300)
    sim.add_staff_comment(ids[0], "Public answer")
    sim.add_staff_comment(ids[0], "Internal note", public=False)
    pages = list(connector.read_changes("issues", None))
    assert [len([r for r in p.records if r.object_type == "issue"]) for p in pages] == [3, 3, 1]
    issues = [r for p in pages for r in p.records if r.object_type == "issue"]
    assert {r.external_id for r in issues} == set(ids)
    assert issues[-1].external_id == ids[0]  # the commented issue changed last: ORDER BY updated ASC
    comments = [r for p in pages for r in p.records if r.object_type == "comment"]
    assert [(c.parent_id, c.payload["continuum"]["text"], c.payload["continuum"]["public"]) for c in comments] == [
        (ids[0], "Public answer", True), (ids[0], "Internal note", False)]
    assert comments[0].payload["continuum"]["issue_key"] == sim.get_issue(ids[0])["key"]
    assert comments[0].version and issues[0].version
    # The cursor moves once the walk is complete (an issue edited mid-walk could otherwise be skipped).
    assert [p.cursor for p in pages[:-1]] == [None, None] and pages[-1].cursor
    cursors = [pages[-1].cursor["updated"]]

    # Five minutes later staff answer on another issue.  Read from the cursor:
    # that issue, plus the cursor's own minute again (ids[0], by design), but
    # none of the issues untouched since before.  Jira reads JQL dates in the
    # user's zone (Europe/Berlin here): an unconverted cursor would return all.
    sim.advance_clock(300)
    sim.add_staff_comment(ids[3], "Later answer")
    later = list(connector.read_changes("issues", pages[-1].cursor))
    changed = [r for p in later for r in p.records]
    assert [r.external_id for r in changed if r.object_type == "issue"] == [ids[0], ids[3]]
    assert [r.payload["continuum"]["text"] for r in changed if r.object_type == "comment"] == [
        "Public answer", "Internal note", "Later answer"]
    assert later[-1].cursor and later[-1].cursor["updated"] > cursors[-1]


def test_truncated_embedded_comments_are_fetched(sim: JiraSimulator) -> None:
    sim.search_comment_limit = 2
    connector = connect(sim)
    issue_id = sim.add_staff_issue("Busy thread")
    for n in range(5):
        sim.add_staff_comment(issue_id, f"reply {n}")
    [page] = list(connector.read_changes("issues", None))
    assert [r.payload["continuum"]["text"] for r in page.records if r.object_type == "comment"] == [
        f"reply {n}" for n in range(5)]
    assert calls(sim, "GET", f"/issue/{issue_id}/comment") == 1


def test_public_prefix_convention(sim: JiraSimulator) -> None:
    connector = connect(sim, public_comment_prefix="[public]")
    issue_id = sim.add_staff_issue("Prefixed")
    sim.add_staff_comment(issue_id, "[public] Shipped in 2.4")
    sim.add_staff_comment(issue_id, "Just between us")
    [page] = list(connector.read_changes("issues", None))
    seen = [(r.payload["continuum"]["text"], r.payload["continuum"]["public"])
            for r in page.records if r.object_type == "comment"]
    assert seen == [("Shipped in 2.4", True), ("Just between us", False)]


def test_remote_links_can_be_turned_off_to_save_a_call_per_issue(sim: JiraSimulator) -> None:
    connector = connect(sim, remote_links=False)
    results = connector.write([create(n, context={"source_url": f"https://forum.example/t/{n}"}) for n in range(60)])
    assert all(r.ok for r in results)
    assert calls(sim, "POST", "/remotelink") == 0
    assert calls(sim, "POST", "/issue/bulk") == 2  # 60 issues in two bulk calls: 0.033 calls per issue


# -- Jira's own answers and paging ------------------------------------------------------------
class ShortBulkAnswer(JiraSimulator):
    """Creates every issue sent to the bulk endpoint but leaves the last one out of its answer."""

    def bulk_create(self, request: Request) -> Response:
        answer = super().bulk_create(request)
        body = json.loads(answer.get_data())
        return self.json_response({**body, "issues": body["issues"][:-1]}, answer.status_code)


def test_a_short_bulk_answer_fails_only_the_missing_issue_and_the_retry_finds_it() -> None:
    sim = ShortBulkAnswer()
    with sim:
        connector = connect(sim)
        results = connector.write([create(1), create(2), create(3)])
        assert [r.ok for r in results] == [True, True, False]
        assert "ck-" in (results[2].error or "") and "left this issue out" in (results[2].error or "")
        [again] = connector.write([create(3, maybe_applied=True)])
        assert again.ok and again.found_existing
        assert sim.effect_counts()["created"] == 3


def test_issues_moving_while_paging_are_walked_again_and_the_cursor_stays(sim: JiraSimulator) -> None:
    for n in range(9):
        sim.add_staff_issue(f"Staff issue {n}")
    sim.set_paging_faults("shift", rate=1.0)  # every next page: an issue already served is edited
    pages = list(connect(sim, page_size=3).read_changes("issues", None))
    assert all(p.cursor is None for p in pages), "the cursor moved past a walk that may have skipped an issue"
    walks = [x for x in sim.calls("GET", "/search/jql") if "nextPageToken" not in x.query_string]
    assert len(walks) == MAX_WALKS
    sim.set_paging_faults(None)
    pages = list(connect(sim, page_size=3).read_changes("issues", None))
    assert pages[-1].cursor and len({r.external_id for p in pages for r in p.records}) == 9


def test_the_time_zone_is_kept_in_the_cursor_for_a_day(sim: JiraSimulator) -> None:
    sim.add_staff_issue("First")
    cursor = list(connect(sim).read_changes("issues", None))[-1].cursor
    assert cursor and cursor.get("tz") is None  # a first read needs no zone: nothing to compare
    cursor = list(connect(sim).read_changes("issues", cursor))[-1].cursor  # this one asks /myself
    assert cursor and cursor["tz"] == SIM_TIMEZONE and cursor["account_id"]
    asked = calls(sim, "GET", "/myself")
    sim.advance_clock(120)
    sim.add_staff_issue("Second")
    pages = list(connect(sim).read_changes("issues", cursor))
    assert calls(sim, "GET", "/myself") == asked, "a fresh zone in the cursor was asked again"
    assert [r.payload["fields"]["summary"] for p in pages for r in p.records][-1] == "Second"
    stale = IssuesCursor.from_json(cursor).model_copy(update={"tz_checked": datetime.now(UTC) - timedelta(days=2)})
    list(connect(sim).read_changes("issues", stale.to_json()))
    assert calls(sim, "GET", "/myself") == asked + 1
