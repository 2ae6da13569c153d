"""XConnector (xdk on the shared HTTP layer) against the X simulator over real HTTP: beyond the contract suite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.x.connector import XConnector
from connectors.x.contract import HARNESS
from connectors.x.markup import LIMIT, weighted_length
from connectors.x.plugin import PLUGIN, SIM_ACCOUNT, SIM_TOKEN
from connectors.x.seed import seed
from connectors.x.simulator import XSimulator
from continuum.connector import ConnectionInfo, Effect, SourceRecord
from continuum.http import GATES, STATS
from continuum.kit import RateLimitExhausted, split_for_limit
from continuum.mapping import load_mapping, map_inbound


@pytest.fixture
def sim() -> Iterator[XSimulator]:
    simulator = XSimulator()
    seed(simulator)
    simulator.start()
    yield simulator
    simulator.stop()
    HARNESS.check_exchanges(simulator)  # every exchange valid against X's description


def make(sim: XSimulator, **options: Any) -> XConnector:
    connector = PLUGIN.create(ConnectionInfo("x_test", sim.base_url, SIM_ACCOUNT, SIM_TOKEN), options)
    assert isinstance(connector, XConnector)
    return connector


def read(connector: XConnector, cursor: dict[str, Any] | None) -> tuple[list[SourceRecord], dict[str, Any] | None]:
    records: list[SourceRecord] = []
    for page in connector.read_changes("posts", cursor):
        records += page.records
        cursor = page.cursor
    return records, cursor


def by_author(sim: XSimulator, handle: str) -> list[dict[str, Any]]:
    return sim.posts(handle)


def test_reads_every_mention_and_own_post_oldest_first_in_pages(sim: XSimulator) -> None:
    for n in range(23):
        sim.post("ravi_k", f"@{SIM_ACCOUNT} question number {n}")
    connector = make(sim, page_size=5)
    pages = list(connector.read_changes("posts", None))
    records = [r for p in pages for r in p.records]
    expected = [p["id"] for p in sim.posts() if p["author"] == SIM_ACCOUNT or f"@{SIM_ACCOUNT}" in p["text"]]
    assert [int(r.external_id) for r in records] == expected  # Mei's reply to herself does not mention us
    assert all(len(p.records) <= 5 for p in pages) and len(pages) == -(-len(expected) // 5)
    assert [p.cursor["since_id"] for p in pages] == [p.records[-1].external_id for p in pages]
    assert len(sim.calls("GET", "/mentions")) >= 6  # 5 per call: the token was followed


def test_re_read_from_the_cursor_is_empty_and_a_later_mention_is_read(sim: XSimulator) -> None:
    first, cursor = read(make(sim), None)
    again, _ = read(make(sim), cursor)
    assert first and again == []
    new = sim.post("elle_designs", f"@{SIM_ACCOUNT} one more thing: the export icon is tiny")
    later, _ = read(make(sim), cursor)
    assert [r.external_id for r in later] == [str(new)]


def test_threads_are_rebuilt_and_the_company_voice_is_recognised(sim: XSimulator) -> None:
    connector = make(sim)
    records, _ = read(connector, None)
    mapping = load_mapping("x.post.yaml")
    rows = {r.external_id: map_inbound(mapping, r.payload) for r in records}
    launch = str(by_author(sim, SIM_ACCOUNT)[0]["id"])
    assert rows[launch]["is_thread_start"] and rows[launch]["author_handle"] == connector.account == SIM_ACCOUNT
    under = [row for row in rows.values() if row["parent_id"] == launch]
    assert {row["author_handle"] for row in under} == {"jordan_builds", "elle_designs"}
    assert all(row["thread_id"] == launch and not row["is_thread_start"] for row in under)
    jordan = next(row for row in under if row["author_handle"] == "jordan_builds")
    assert jordan["author_name"] == "Jordan Reyes" and jordan["author_account_id"].isdigit()
    assert jordan["kind"] == "unknown" and jordan["url"].startswith("https://x.com/jordan_builds/status/")


def test_a_reply_lands_in_the_thread_and_a_retry_finds_it(sim: XSimulator) -> None:
    target = by_author(sim, "ravi_k")[0]["id"]
    effect = Effect(key="x-reply-1", action="reply", object_type="post", target_id=str(target),
                    fields={"text": "Settings > Team > Invite, then pick Admin. Happy to help & more <3"})
    first = make(sim).write([effect])[0]
    assert first.ok, first.error
    posted = [p for p in by_author(sim, SIM_ACCOUNT) if p["reply_to"] == target]
    assert [str(p["id"]) for p in posts_only(posted)] == [first.external_id]
    assert posted[0]["conversation_id"] == target
    again = make(sim).write([Effect(**{**effect.__dict__, "maybe_applied": True})])[0]
    assert again.ok and again.found_existing and again.external_id == first.external_id
    assert sim.effect_counts()["replies"] == 1


def posts_only(posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in posts if p["author"] == SIM_ACCOUNT]


def test_a_long_answer_becomes_a_numbered_chain_and_a_retry_completes_it(sim: XSimulator) -> None:
    target = by_author(sim, "mei_ops")[0]["id"]
    answer = " ".join(f"Step {n}: open the app settings, clear the session cache and sign in again." for n in range(12))
    effect = Effect(key="x-long-1", action="reply", object_type="post", target_id=str(target), fields={"text": answer})
    connector = make(sim)
    parts = split_for_limit(answer, LIMIT, count=weighted_length)
    connector.client.create(parts[0], str(target))  # an earlier attempt posted part 1, then the run died
    done = connector.write([Effect(**{**effect.__dict__, "maybe_applied": True})])[0]
    assert done.ok and done.found_existing, done.error
    chain, parent = [], target
    while (nxt := next((p for p in by_author(sim, SIM_ACCOUNT) if p["reply_to"] == parent), None)) is not None:
        chain.append(nxt["text"])
        parent = nxt["id"]
    assert len(chain) >= 3 and all(weighted_length(t) <= LIMIT for t in chain)
    assert [t.rsplit(" (", 1)[1] for t in chain] == [f"{n}/{len(chain)})" for n in range(1, len(chain) + 1)]
    assert " ".join(t.rsplit(" (", 1)[0] for t in chain).split() == answer.split()
    assert sim.effect_counts()["replies"] == len(chain)  # no part twice


def test_an_edit_updates_the_interaction_and_a_deletion_is_reported(sim: XSimulator) -> None:
    _, cursor = read(make(sim), None)
    ravi, elle = by_author(sim, "ravi_k")[0]["id"], by_author(sim, "elle_designs")[0]["id"]
    newer = sim.edit(ravi, f"@{SIM_ACCOUNT} how do I add a second admin? Found it, but can admins see billing?")
    quiet = sim.edit(elle, "Honestly the cleanest dashboard tool I have used.")  # the mention is gone
    jordan = by_author(sim, "jordan_builds")[0]["id"]
    sim.delete(jordan)
    records, cursor = read(make(sim), cursor)
    got = {r.external_id: r for r in records}
    assert set(got) == {str(ravi), str(elle), str(jordan)}
    assert got[str(ravi)].version == str(newer) and "billing" in got[str(ravi)].payload["continuum"]["text"]
    assert got[str(elle)].version == str(quiet) and not got[str(elle)].deleted  # found by the recheck lookup
    assert got[str(jordan)].deleted and not got[str(ravi)].deleted
    again, _ = read(make(sim), cursor)
    assert again == []  # reported once


def test_the_recheck_window_is_bounded(sim: XSimulator) -> None:
    for n in range(30):
        sim.post("mei_ops", f"@{SIM_ACCOUNT} status update {n}")
    _, cursor = read(make(sim, recheck_max=12), None)
    assert cursor is not None and len(cursor["recent"]) == 12
    before = len(sim.calls("GET", "/2/tweets"))
    read(make(sim, recheck_max=12), cursor)
    assert len([x for x in sim.calls("GET") if x.path == "/2/tweets"]) - before == 1  # 12 ids: one lookup


def test_a_spent_window_stops_cleanly_and_the_next_run_loses_nothing(sim: XSimulator) -> None:
    _, cursor = read(make(sim), None)
    for n in range(30):
        sim.post("jordan_builds", f"@{SIM_ACCOUNT} CSV export idea number {n}")
    sim.limits["mentions"] = 3  # 30 new mentions at 5 a call need 6 calls
    with pytest.raises(RateLimitExhausted) as stopped:
        read(make(sim, page_size=5), cursor)
    assert "x" in str(stopped.value) and stopped.value.resume_in_s > 60
    assert [x.status for x in sim.calls("GET", "/mentions")][-1] == 200  # stopped before the refused call
    sim.reset_windows()  # 15 minutes later
    GATES.reset()
    sim.limits["mentions"] = 300
    records, _ = read(make(sim, page_size=5), cursor)
    assert sorted(r.payload["continuum"]["text"] for r in records) == sorted(
        f"@{SIM_ACCOUNT} CSV export idea number {n}" for n in range(30))


def test_rate_limit_headers_are_xs(sim: XSimulator) -> None:
    make(sim).check()
    headers = {k.lower(): v for k, v in sim.exchanges[-1].response_headers.items()}
    assert headers["x-rate-limit-limit"] == "75" and headers["x-rate-limit-remaining"] == "74"
    assert int(headers["x-rate-limit-reset"]) > 1_700_000_000  # epoch seconds


def test_a_token_of_another_account_is_refused(sim: XSimulator) -> None:
    connector = PLUGIN.create(ConnectionInfo("x_test", sim.base_url, "somebody_else", SIM_TOKEN), {})
    with pytest.raises(Exception, match="not @somebody_else"):
        connector.check()


def test_bad_replies_name_what_is_wrong(sim: XSimulator) -> None:
    gone = by_author(sim, "ravi_k")[0]["id"]
    sim.delete(gone)
    results = make(sim).write([
        Effect(key="x-bad-1", action="reply", object_type="post", target_id="not-an-id", fields={"text": "hi"}),
        Effect(key="x-bad-2", action="reply", object_type="post", target_id=str(gone), fields={"text": "hi"})])
    assert [r.ok for r in results] == [False, False]
    assert "target_id" in str(results[0].error) and "deleted or not visible" in str(results[1].error)


def test_calls_per_hundred_posts(sim: XSimulator) -> None:
    for n in range(93):
        sim.post("mei_ops", f"@{SIM_ACCOUNT} load test {n}")
    STATS.reset()
    records, cursor = read(make(sim), None)
    assert len(records) == 100
    assert STATS.snapshot()["x"]["calls"] == 3  # me, one page of 99 mentions, one page of own posts
    STATS.reset()
    read(make(sim), cursor)
    assert STATS.snapshot()["x"]["calls"] == 4  # me, mentions, own posts, and the 100 recent ids in one lookup
