"""RedditConnector (praw) against the Reddit simulator over real HTTP: what the shared contract suite does not cover."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import praw
import pytest

from connectors.reddit.connector import COMMENT_LIMIT, RedditConnector
from connectors.reddit.contract import praw_problems
from connectors.reddit.plugin import PLUGIN, SIM_USERNAME
from connectors.reddit.seed import seed
from connectors.reddit.simulator import SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_CUSTOMER_PASSWORD, RedditSimulator
from continuum.connector import ConnectionInfo, Effect, SourceRecord
from continuum.http import GATES, STATS
from continuum.kit import ClientError, RateLimitExhausted, split_for_limit
from continuum.kit.errors import is_auth_error


@pytest.fixture
def sim() -> Iterator[RedditSimulator]:
    simulator = RedditSimulator()
    seed(simulator)
    simulator.start()
    yield simulator
    simulator.stop()
    assert not praw_problems(simulator.exchanges)


def make(sim: RedditSimulator, **changes: Any) -> RedditConnector:
    data = PLUGIN.simulator_connection(sim.base_url)
    options: dict[str, Any] = {k: changes.pop(k) for k in ("page_size", "recheck_max", "recheck_days") if k in changes}
    data.update(changes)
    connector = PLUGIN.create(ConnectionInfo("reddit_test", data["host"], data["login"], data["password"],
                                             data["extra"]), options)
    assert isinstance(connector, RedditConnector)
    return connector


def read(connector: RedditConnector, cursor: dict[str, Any] | None) -> tuple[list[SourceRecord], Any]:
    records: list[SourceRecord] = []
    last = cursor
    for page in connector.read_changes("posts", cursor):
        records += page.records
        last = page.cursor
    return records, last


def reply(key: str, parent: str, text: str, *, maybe_applied: bool = False) -> Effect:
    return Effect(key=key, action="reply", object_type="post", fields={"text": text}, target_id=parent,
                  maybe_applied=maybe_applied, context={"in_reply_to": parent})


def test_first_read_has_every_thing_once_with_threads_and_the_company_voice(sim: RedditSimulator) -> None:
    connector = make(sim)
    records, _ = read(connector, None)
    by_id = {r.external_id: r for r in records}
    # everything but the post in another subreddit (only its comment mentions the company), each once
    expected = {n for n, t in sim.things.items() if not (t.kind == "t3" and t.subreddit != "acmeapp")}
    assert len(by_id) == len(records) and set(by_id) == expected
    launch = next(t for t in sim.by(SIM_USERNAME) if t.kind == "t3")
    csv = next(t for t in sim.by("datawrangler42") if t.kind == "t1")
    assert by_id[csv.fullname].payload["continuum"]["thread_id"] == launch.fullname
    assert by_id[csv.fullname].payload["continuum"]["parent_id"] == launch.fullname
    assert by_id[launch.fullname].payload["continuum"]["is_thread_start"]
    # the mention elsewhere comes from the inbox, its thread from the context path (the inbox has no link_id)
    mention = next(t for t in sim.by("pixel_pusher") if t.subreddit == "smallbusiness")
    assert by_id[mention.fullname].payload["continuum"]["thread_id"] == mention.link_id
    dm = next(t for t in sim.things.values() if t.kind == "t4")
    assert by_id[dm.fullname].payload["kind"] == "message" and by_id[dm.fullname].payload["title"] == "CSV question"
    own = [r for r in records if r.payload["author"] == connector.account]
    assert {r.external_id for r in own} == {t.fullname for t in sim.by(SIM_USERNAME)}
    assert all(r.payload["author_fullname"].startswith("t2_") for r in records)


def test_paging_resume_and_a_later_post(sim: RedditSimulator) -> None:
    connector = make(sim, page_size=5)
    post = sim.submit("quiet_kestrel", "Many questions", "Here they come.")
    for n in range(23):
        sim.comment("quiet_kestrel", post, f"Question number {n}")
    records, cursor = read(connector, None)
    comments = [r.external_id for r in records
                if r.external_id.startswith("t1_") and r.payload["subreddit"] == "acmeapp"]
    assert comments == sorted(comments, key=lambda name: int(name[3:], 36))  # oldest first
    assert len(set(comments)) == len(comments) == len(
        [t for t in sim.things.values() if t.kind == "t1" and t.subreddit == "acmeapp"])
    assert read(make(sim, page_size=5), cursor)[0] == []
    later = sim.comment("mapleleaf_dev", post, "One more")
    again, _ = read(make(sim, page_size=5), cursor)
    assert [r.external_id for r in again] == [later]


def test_far_behind_reads_forward_with_before_committing_each_page(sim: RedditSimulator) -> None:
    connector = make(sim, page_size=5)
    _, cursor = read(connector, None)
    post = sim.submit("quiet_kestrel", "Burst", "A burst of comments follows.")
    made = [sim.comment("pixel_pusher", post, f"burst {n}") for n in range(17)]
    pages = list(make(sim, page_size=5).read_changes("posts", cursor))
    comment_pages = [p for p in pages if any(r.external_id.startswith("t1_") for r in p.records)]
    assert [r.external_id for p in comment_pages for r in p.records] == made
    assert len(comment_pages) >= 4 and all(len(p.records) <= 5 for p in comment_pages)
    assert any("before=t1_" in x.query_string for x in sim.calls("GET", "/comments"))
    for page in comment_pages:  # each page's cursor already covers it
        assert page.cursor["listings"]["comments"]["name"] == page.records[-1].external_id


def test_a_deleted_anchor_falls_back_to_time_and_loses_nothing(sim: RedditSimulator) -> None:
    _, cursor = read(make(sim, page_size=3), None)
    sim.delete(cursor["listings"]["comments"]["name"])
    post = sim.submit("quiet_kestrel", "After the deletion", "text")
    made = [sim.comment("pixel_pusher", post, f"late {n}") for n in range(7)]
    records, _ = read(make(sim, page_size=3), cursor)
    assert [r.external_id for r in records if r.external_id.startswith("t1_") and not r.deleted] == made


def test_edits_and_deletions_come_back_as_updates_and_deleted_records(sim: RedditSimulator) -> None:
    _, cursor = read(make(sim), None)
    csv = next(t for t in sim.by("datawrangler42") if t.kind == "t1")
    praise = next(t for t in sim.by("pixel_pusher") if t.kind == "t1")
    bug = next(t for t in sim.by("mapleleaf_dev") if t.kind == "t3")
    sim.edit(csv.fullname, "Edit: CSV or XLSX, either works.")
    sim.delete(praise.fullname)
    sim.delete(bug.fullname, "[removed]")
    records, cursor = read(make(sim), cursor)
    changed = {r.external_id: r for r in records}
    assert changed[csv.fullname].payload["text"] == "Edit: CSV or XLSX, either works."
    assert changed[csv.fullname].version == str(int(sim.things[csv.fullname].edited))
    assert changed[praise.fullname].deleted and changed[bug.fullname].deleted
    assert len(records) == 3
    assert read(make(sim), cursor)[0] == []  # each change once


def test_recheck_is_bounded(sim: RedditSimulator) -> None:
    _, cursor = read(make(sim, recheck_max=4), None)
    assert len(cursor["recent"]) == 4
    before = len(sim.calls("GET", "/api/info"))
    read(make(sim, recheck_max=4), cursor)
    assert len(sim.calls("GET", "/api/info")) == before + 1


def test_a_reply_lands_under_the_customer_and_a_retry_finds_it(sim: RedditSimulator) -> None:
    connector = make(sim)
    csv = next(t for t in sim.by("datawrangler42") if t.kind == "t1")
    first = connector.write([reply("k-csv", csv.fullname, "Thanks! CSV export is on our list.")])[0]
    assert first.ok and first.external_id
    made = sim.things[first.external_id]
    assert made.parent_id == csv.fullname and made.link_id == csv.link_id and made.author.name == SIM_USERNAME
    again = make(sim).write([reply("k-csv", csv.fullname, "Thanks! CSV export is on our list.",
                                   maybe_applied=True)])[0]
    assert again.found_existing and again.external_id == first.external_id
    assert sim.effect_counts()["replies"] == 1


def test_a_reply_to_a_private_message_and_its_retry(sim: RedditSimulator) -> None:
    dm = next(t for t in sim.things.values() if t.kind == "t4")
    first = make(sim).write([reply("k-dm", dm.fullname, "It is on the roadmap.")])[0]
    assert first.ok and sim.things[str(first.external_id)].dest == "datawrangler42"
    again = make(sim).write([reply("k-dm", dm.fullname, "It is on the roadmap.", maybe_applied=True)])[0]
    assert again.found_existing and sim.effect_counts()["replies"] == 1


def test_a_long_answer_is_a_chain_of_numbered_replies(sim: RedditSimulator) -> None:
    question = next(t for t in sim.by("quiet_kestrel") if t.kind == "t3")
    words = [f"step{n}" for n in range(4200)]  # about 29,000 characters
    result = make(sim).write([reply("k-long", question.fullname, " ".join(words))])[0]
    assert result.ok
    parts = [t for t in sim.by(SIM_USERNAME) if t.kind == "t1" and t.text.startswith("step")]
    assert len(parts) >= 3 and all(len(p.text) <= COMMENT_LIMIT for p in parts)
    assert parts[0].fullname == result.external_id and parts[0].parent_id == question.fullname
    assert [p.parent_id for p in parts[1:]] == [p.fullname for p in parts[:-1]]  # each under the previous
    assert [p.text.rsplit(" ", 1)[1] for p in parts] == [f"({n}/{len(parts)})" for n in range(1, len(parts) + 1)]
    assert " ".join(p.text.rsplit(" ", 1)[0] for p in parts).split() == words  # nothing lost, nothing cut


def test_a_retry_after_a_partly_posted_chain_posts_only_the_rest(sim: RedditSimulator) -> None:
    question = next(t for t in sim.by("quiet_kestrel") if t.kind == "t3")
    text = " ".join(f"word{n}" for n in range(2500))
    sim.inject("500", path_contains="/api/comment", method="POST", times=1)
    sim.inject("latency", path_contains="/api/comment", method="POST", times=1, latency_s=0)  # part 1 goes
    sim.faults.queued.reverse()  # the first POST passes, the second fails
    failed = make(sim).write([reply("k-part", question.fullname, text)])[0]
    posts = [x for x in sim.exchanges if x.method == "POST" and x.path == "/api/comment"]
    assert not failed.ok and len(posts) == 2  # prawcore did not resend the failed POST
    done = make(sim).write([reply("k-part", question.fullname, text, maybe_applied=True)])[0]
    parts = [t for t in sim.by(SIM_USERNAME) if t.kind == "t1" and t.text.startswith("word")]
    assert [p.text for p in parts] == split_for_limit(text, COMMENT_LIMIT) and len(parts) >= 2
    assert done.ok and done.found_existing and done.external_id == parts[0].fullname


def test_a_spent_window_stops_cleanly_and_the_next_run_resumes(sim: RedditSimulator) -> None:
    post = sim.submit("quiet_kestrel", "Rate test", "text")
    made = {sim.comment("pixel_pusher", post, f"c{n}") for n in range(12)}
    sim.rate_limit = 4  # the token call is outside the OAuth window, as on Reddit
    committed: Any = None
    seen: list[SourceRecord] = []
    with pytest.raises(RateLimitExhausted) as stopped:
        for page in make(sim, page_size=5).read_changes("posts", None):
            seen += page.records
            committed = page.cursor
    assert "reddit" in str(stopped.value) and stopped.value.resume_in_s > 60
    assert not any(x.status == 429 for x in sim.exchanges)  # stopped before Reddit had to refuse
    GATES.reset()
    sim.rate_limit = 1000
    sim.reset_window()
    rest, _ = read(make(sim, page_size=5), committed)
    got = {r.external_id for r in seen + rest}
    elsewhere = {n for n, t in sim.things.items() if t.subreddit == "smallbusiness" and t.kind == "t3"}
    assert made <= got and set(sim.things) - elsewhere <= got


def test_wrong_credentials_are_auth_errors_naming_reddit(sim: RedditSimulator) -> None:
    for change in ({"password": "wrong-password-1"}, {"extra": {**PLUGIN.simulator_credentials["extra"],
                                                                "client_secret": "wrong-secret-2"}}):
        with pytest.raises(ClientError) as caught:
            make(sim, **change).check()
        assert is_auth_error(caught.value) and str(caught.value).startswith("reddit")
        assert "wrong-" not in str(caught.value)


def test_a_broken_answer_is_caught_by_the_praw_check(sim: RedditSimulator) -> None:
    read(make(sim), None)
    assert not praw_problems(sim.exchanges)
    listing = next(x for x in sim.exchanges if x.path == "/r/acmeapp/comments")
    listing.response_body = listing.response_body.replace(b'"body":', b'"bodyx":')
    problems = praw_problems([listing])
    assert problems and "lacks body" in problems[0]
    sim.exchanges.remove(listing)


def test_calls_per_hundred_posts(sim: RedditSimulator) -> None:
    post = sim.submit("quiet_kestrel", "Volume", "text")
    for n in range(299):
        sim.comment("pixel_pusher", post, f"volume {n}")
    _, cursor = read(make(sim), None)
    first = STATS.snapshot()["reddit"]["calls"]
    read(make(sim), cursor)
    quiet = STATS.snapshot()["reddit"]["calls"] - first
    print(f"calls for a first read of {len(sim.things)} things: {first}; for a run with nothing new: {quiet}")
    assert first <= 3 + 1 + len(sim.things) // 100 + 3 and quiet <= 3 + 1 + 3


def test_a_customer_posts_through_the_api_with_praw_and_the_hub_reads_it(sim: RedditSimulator) -> None:
    _, cursor = read(make(sim), None)
    customer = praw.Reddit(client_id=SIM_CLIENT_ID, client_secret=SIM_CLIENT_SECRET, username="new_face",
                           password=SIM_CUSTOMER_PASSWORD, user_agent="python:sim-test:1 (by /u/new_face)",
                           oauth_url=sim.base_url, reddit_url=sim.base_url, check_for_updates=False)
    post = customer.subreddit("acmeapp").submit("Hello from the API", selftext="Does the export work on iPad?")
    launch = next(t for t in sim.by(SIM_USERNAME) if t.kind == "t3")
    answer = customer.submission(launch.sid).reply("And can I schedule it, u/AcmeOfficial?")
    assert answer is not None
    records, _ = read(make(sim), cursor)
    assert [r.external_id for r in records] == [f"t3_{post.id}", answer.fullname]
    assert {r.payload["author"] for r in records} == {"new_face"}
