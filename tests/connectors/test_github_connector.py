"""GithubConnector against the GitHub simulator over real HTTP: what the shared contract suite does not cover."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from connectors.github.connector import GithubConnector, IssuesCursor
from connectors.github.markup import idempotency_marker, split_marker
from connectors.github.plugin import PLUGIN, SIM_LOGIN, SIM_REPOSITORY, SIM_TOKEN
from connectors.github.simcontract import SPEC, allow_null_in_nullable_enums, github_errors
from connectors.github.simulator import SIM_APP_LOGIN, SIM_STAFF_LOGIN, SIM_VISITOR_LOGIN, GithubSimulator
from continuum.connector import ConnectionInfo, Effect, SourceRecord
from continuum.http import STATS, RetryPolicy
from continuum.kit.config import ConfigError
from continuum.kit.dispatch import Deferred
from continuum.kit.ratelimit import RateLimitExhausted
from continuum.mapping import load_mapping, map_inbound
from continuum.policy.rulebook import RuleBook
from continuum.simkit.contract import specs_dir
from continuum.testing.contract import read_all


@pytest.fixture
def sim() -> Iterator[GithubSimulator]:
    simulator = GithubSimulator()
    with simulator:
        yield simulator
        if (specs_dir() / SPEC).is_file():  # every exchange of every test here is true to GitHub's description
            problems = github_errors(simulator.exchanges)
            assert not problems, "\n".join(problems[:5])


def connect(sim: GithubSimulator, token: str = SIM_TOKEN, login: str | None = SIM_LOGIN,
            policy: RetryPolicy | None = None, **options: Any) -> GithubConnector:
    config = PLUGIN.config_class().from_connection(ConnectionInfo("github_test", sim.base_url, login, token),
                                                   {"repository": SIM_REPOSITORY, **options})
    return GithubConnector(config, policy)  # type: ignore[arg-type]


def key(n: int) -> str:
    return f"ck-{n:024x}"


def create(n: int, body: str = "It crashes on start", **fields: Any) -> Effect:
    return Effect(key(n), "create", "issue", {"title": f"Crash {n}", "body": body, **fields})


def records(connector: GithubConnector, cursor: dict[str, Any] | None = None) -> list[SourceRecord]:
    return read_all(connector, "issues", cursor)[0]


# -- config ----------------------------------------------------------------------------
def test_the_repository_is_checked_and_the_token_never_shown() -> None:
    conn = ConnectionInfo("gh", "", None, "github_pat_SECRET123")
    config = PLUGIN.config_class().from_connection(conn, {"repository": "acme/sdk"})
    assert config.url == "https://api.github.com"  # an empty host is github.com's API
    assert "SECRET123" not in repr(config)
    with pytest.raises(ConfigError) as caught:
        PLUGIN.config_class().from_connection(conn, {"repository": "not a repo"})
    assert "repository" in str(caught.value) and "SECRET123" not in str(caught.value)
    assert PLUGIN.config_class().from_connection(conn, {"repository": "acme/sdk", "staff_associations": "owner, member"}
                                                 ).staff_associations == ("OWNER", "MEMBER")  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="staff_associations"):
        PLUGIN.config_class().from_connection(conn, {"repository": "acme/sdk", "staff_associations": ["MEMBERS"]})
    with pytest.raises(ConfigError, match="unknown option"):
        PLUGIN.config_class().from_connection(conn, {"repository": "acme/sdk", "projcet": "x"})


def test_bad_token_is_an_auth_error_naming_github(sim: GithubSimulator) -> None:
    with pytest.raises(Exception) as caught:
        connect(sim, token="github_pat_wrong").check()
    assert getattr(caught.value, "is_auth_error", False) and "github" in str(caught.value)
    assert "github_pat_wrong" not in str(caught.value)


# -- writing -----------------------------------------------------------------------------
def test_create_makes_one_labelled_issue_with_the_key_hidden_in_the_body(sim: GithubSimulator) -> None:
    result = connect(sim).write([create(1, labels=["customer-request"])])[0]
    assert result.ok and result.external_id == "1" and result.url and result.url.endswith("/issues/1")
    (issue,) = sim.issues()
    assert {label["name"] for label in issue["labels"]} == {"customer-request", "continuum"}
    assert issue["body"].endswith(idempotency_marker(key(1))) and split_marker(issue["body"]) == (
        "It crashes on start", key(1))
    assert issue["user"]["login"] == SIM_LOGIN and sim.effect_counts()["created"] == 1


def test_a_maybe_applied_retry_finds_the_issue_and_makes_no_second(sim: GithubSimulator) -> None:
    connector = connect(sim)
    for n in range(2, 5):  # other hub issues made after it: the retry looks through them
        connector.write([create(n)])
    first = connector.write([create(1)])[0]
    connector.write([create(5)])
    again = connector.write([Effect(**{**create(1).__dict__, "maybe_applied": True})])[0]
    assert again.ok and again.found_existing and again.external_id == first.external_id
    assert len(sim.issues()) == 5 and sim.effect_counts()["created"] == 5
    assert connector.find_keys([key(1), key(3), key(99)]).keys() == {key(1), key(3)}
    # Not found (an attempt that never reached GitHub): the retry makes it.
    made = connector.write([Effect(**{**create(6).__dict__, "maybe_applied": True})])[0]
    assert made.ok and not made.found_existing and len(sim.issues()) == 6


def test_a_maybe_applied_comment_is_found_by_its_marker(sim: GithubSimulator) -> None:
    connector = connect(sim)
    number = connector.write([create(1)])[0].external_id
    comment = Effect(key(2), "comment", "comment", {"body": "Another customer sees it too"}, target_id=number)
    first = connector.write([comment])[0]
    again = connector.write([Effect(**{**comment.__dict__, "maybe_applied": True})])[0]
    assert first.ok and again.found_existing and again.external_id == first.external_id
    assert len(sim.comments(1)) == 1


def test_bad_effects_fail_alone_naming_the_field(sim: GithubSimulator) -> None:
    connector = connect(sim)
    results = connector.write([
        Effect(key(1), "create", "issue", {"title": "x", "body": "y" * 70000}),
        Effect(key(2), "create", "issue", {"title": "x", "priority": {"name": "High"}}),
        Effect(key(3), "comment", "comment", {"body": "hi"}, target_id="1; DROP"),
        create(4)])
    assert [r.ok for r in results] == [False, False, False, True]
    assert "field 'body'" in str(results[0].error) and key(1) in str(results[0].error)
    assert "priority" in str(results[1].error) and "target_id" in str(results[2].error)


def test_an_update_keeps_the_key_and_the_hub_label(sim: GithubSimulator) -> None:
    connector = connect(sim)
    connector.write([create(1, labels=["bug"])])
    result = connector.write([Effect(key(2), "update", "issue", {"body": "[deleted by its author]",
                                                                 "labels": ["triaged"]}, target_id="1")])[0]
    assert result.ok
    (issue,) = sim.issues()
    assert split_marker(issue["body"]) == ("[deleted by its author]", key(1))  # the create's key, not the update's
    assert {label["name"] for label in issue["labels"]} == {"triaged", "continuum"}
    assert connector.find_keys([key(1)])[key(1)]["number"] == 1


def test_hostile_titles_show_as_typed_and_bodies_stay_inert(sim: GithubSimulator) -> None:
    connector = connect(sim)
    title = connector.escape_text("Crash in <Widget> when @ana uses *bold* #12")
    body = connector.escape_text("- [ ] approve @octocat\n<img src=x onerror=alert(1)> see #12")
    assert connector.write([Effect(key(1), "create", "issue", {"title": title, "body": body})])[0].ok
    (issue,) = sim.issues()
    assert issue["title"] == "Crash in <Widget> when @\u200bana uses *bold* #\u200b12"  # no Markdown in titles
    text, _ = split_marker(issue["body"])
    assert "<img" not in text and "- [ ]" not in text and "@octocat" not in text and "#12" not in text


# -- reading -----------------------------------------------------------------------------
def test_staff_comments_are_answers_and_ours_carry_their_key(sim: GithubSimulator) -> None:
    connector = connect(sim)
    connector.write([create(1)])
    connector.write([Effect(key(2), "comment", "comment", {"body": "Follow-up from the customer"}, target_id="1")])
    sim.add_comment(1, "Fixed in **2.4.1**, thanks! <!-- internal note -->")
    sim.add_comment(1, "me too, any news?", author=SIM_VISITOR_LOGIN)
    sim.add_comment(1, "CI passed", author=SIM_APP_LOGIN)
    found = {r.payload["body"]: r for r in records(connector) if r.object_type == "comment"}
    ours = found[next(b for b in found if "Follow-up" in b)]
    assert ours.own_key == key(2) and not ours.payload["continuum"]["public"]
    staff = found["Fixed in **2.4.1**, thanks! <!-- internal note -->"]
    assert staff.payload["continuum"] == {"text": "Fixed in 2.4.1, thanks!", "public": True, "issue_number": "1"}
    assert staff.parent_id == "1" and staff.own_key is None
    assert not found["me too, any news?"].payload["continuum"]["public"]  # anyone may comment: not staff
    assert not found["CI passed"].payload["continuum"]["public"]  # a bot is not staff either
    mapped = map_inbound(load_mapping("github.comment.yaml"), staff.payload)
    assert mapped["text"] == "Fixed in 2.4.1, thanks!" and mapped["public"]
    assert mapped["author_handle"] == SIM_STAFF_LOGIN


def test_a_public_comment_prefix_picks_the_answers(sim: GithubSimulator) -> None:
    connector = connect(sim, public_comment_prefix="[reply]")
    connector.write([create(1)])
    sim.add_comment(1, "[reply] It ships on Monday.")
    sim.add_comment(1, "Looks like the cache again")
    comments = {r.payload["body"]: r.payload["continuum"] for r in records(connector) if r.object_type == "comment"}
    assert comments["[reply] It ships on Monday."] == {"text": "It ships on Monday.", "public": True,
                                                       "issue_number": "1"}
    assert not comments["Looks like the cache again"]["public"]


def test_closed_as_completed_reads_back_as_shipped(sim: GithubSimulator) -> None:
    connector = connect(sim)
    for n in (1, 2, 3):
        connector.write([create(n)])
    sim.close(1, "completed")
    sim.close(2, "not_planned")
    mapping, shipped = load_mapping("github.issue.yaml"), RuleBook().feature_requests.shipped_resolutions
    issues = {r.external_id: map_inbound(mapping, r.payload) for r in records(connector) if r.object_type == "issue"}
    assert issues["1"]["status"] == "closed" and issues["1"]["resolution"] in shipped
    assert issues["2"]["resolution"] == "Won't Do" and issues["2"]["resolution"] not in shipped
    assert issues["3"]["status"] == "open" and issues["3"]["resolution"] is None
    assert "continuum" in issues["1"]["labels"]


def test_a_read_resumes_from_its_cursor_and_skips_other_issues(sim: GithubSimulator) -> None:
    connector = connect(sim, page_size=2)
    sim.add_staff_issue("Roadmap", "not the hub's", ["planning"])
    for n in range(1, 6):
        connector.write([create(n)])
    first, cursor = read_all(connector, "issues", None)
    assert sorted(int(r.external_id) for r in first if r.object_type == "issue") == [2, 3, 4, 5, 6]
    assert cursor is not None and IssuesCursor.from_json(cursor).issues is not None
    sim.add_comment(3, "Reproduced on 2.4")
    later = records(connect(sim), cursor)
    assert [r.object_type for r in later if r.external_id == "3"] == ["issue"]  # the comment changed it
    assert [r.payload["body"] for r in later if r.object_type == "comment"] == ["Reproduced on 2.4"]
    assert len([x for x in sim.calls("GET", "/issues") if "page=" in x.query_string]) >= 2  # Link pages


# -- rate limits -------------------------------------------------------------------------
def test_a_secondary_rate_limit_403_is_waited_for_not_taken_as_bad_credentials(sim: GithubSimulator) -> None:
    sim.secondary_limit(times=1, retry_after="1")
    started = time.monotonic()
    result = connect(sim).write([create(1)])[0]
    assert result.ok, result.error
    limited = [x for x in sim.exchanges if x.status == 403]
    assert len(limited) == 1 and b"secondary rate limit" in limited[0].response_body
    retried = sim.exchanges[sim.exchanges.index(limited[0]) + 1]
    assert retried.method == "POST" and retried.at - limited[0].at >= 0.95  # Retry-After: 1 was honoured
    assert time.monotonic() - started >= 0.95 and len(sim.issues()) == 1
    assert STATS.snapshot()["github"]["throttled"] == 1


def test_a_secondary_limit_without_retry_after_waits_the_minute_github_asks(sim: GithubSimulator) -> None:
    sim.secondary_limit(times=1, retry_after=None, status=429)
    # A run that may wait at most 30 s stops cleanly instead: the effect is deferred, not failed.
    result = connect(sim, policy=RetryPolicy(max_window_wait_s=30)).write([create(1)])[0]
    assert isinstance(result, Deferred) and 59 <= result.resume_in_s <= 60 and sim.issues() == []


def test_a_spent_primary_window_stops_the_read_cleanly(sim: GithubSimulator) -> None:
    connector = connect(sim, page_size=1)
    for n in range(1, 4):
        connector.write([create(n)])
    sim.rate_limit = sim._used + 2  # two calls left in this hour
    pages = connector.read_changes("issues", None)
    next(pages), next(pages)
    with pytest.raises(RateLimitExhausted) as caught:
        next(pages)
    assert caught.value.resume_in_s > 60 and not caught.value.is_auth_error
    assert [x.status for x in sim.exchanges[-2:]] == [200, 200]  # the third call was never sent


def test_a_real_403_is_still_an_auth_error() -> None:
    from connectors.github.client import RATE_LIMITS, GithubError

    assert GithubError("github", "Resource not accessible by personal access token", status=403).is_auth_error
    assert not GithubError("github", "You have exceeded a secondary rate limit", status=403).is_auth_error
    assert not RATE_LIMITS.is_throttle(403, {}, '{"message": "Resource not accessible"}')
    assert RATE_LIMITS.is_throttle(403, {}, '{"message": "You have exceeded a Secondary Rate Limit"}')
    assert RATE_LIMITS.is_throttle(403, {"x-ratelimit-remaining": "0"}, "{}")
    assert RATE_LIMITS.is_throttle(403, {"Retry-After": "5"}, "{}")
    assert not RATE_LIMITS.is_throttle(404, {"Retry-After": "5"}, "secondary rate limit")


def test_a_next_link_to_another_host_is_refused(sim: GithubSimulator) -> None:
    from connectors.github.client import GithubError

    connector = connect(sim)
    with pytest.raises(GithubError, match="leaves"):
        connector.api.call("GET", "/x", url="https://evil.example/steal")


# -- the description ---------------------------------------------------------------------
def test_only_nullable_enums_learn_null() -> None:
    doc = allow_null_in_nullable_enums({"a": {"nullable": True, "enum": ["x"]}, "b": {"enum": ["y"]},
                                        "c": [{"nullable": True, "enum": ["z", None]}]})
    assert doc == {"a": {"nullable": True, "enum": ["x", None]}, "b": {"enum": ["y"]},
                   "c": [{"nullable": True, "enum": ["z", None]}]}


def test_the_description_still_refuses_a_wrong_state_reason(sim: GithubSimulator) -> None:
    if not (specs_dir() / SPEC).is_file():
        pytest.skip(f"{SPEC} is not checked out next to the repository")
    connect(sim).write([create(1)])
    sim.close(1, "because")  # not one of GitHub's reasons
    connect(sim).api.get(f"/repos/{SIM_REPOSITORY}/issues/1")
    problems = github_errors(sim.exchanges)
    sim.exchanges.clear()  # checked here; the fixture must not fail the test for it
    assert any("state_reason" in p for p in problems), problems


def test_staff_answer_and_close_through_the_api_as_themselves(sim: GithubSimulator) -> None:
    import requests

    from connectors.github.simulator import SIM_STAFF_TOKEN

    connect(sim).write([create(1)])
    staff = {"Authorization": f"Bearer {SIM_STAFF_TOKEN}", "Accept": "application/vnd.github+json"}
    made = requests.post(f"{sim.base_url}/repos/{SIM_REPOSITORY}/issues/1/comments", json={"body": "On it"},
                         headers=staff, timeout=5)
    closed = requests.patch(f"{sim.base_url}/repos/{SIM_REPOSITORY}/issues/1", headers=staff, timeout=5,
                            json={"state": "closed", "state_reason": "completed"})
    assert made.status_code == 201 and made.json()["user"]["login"] == SIM_STAFF_LOGIN
    assert made.json()["author_association"] == "MEMBER"
    assert closed.json()["state_reason"] == "completed" and closed.json()["closed_by"]["login"] == SIM_STAFF_LOGIN
    assert sim.effect_counts()["comments"] == sim.effect_counts()["updated"] == 0  # people, not the hub
