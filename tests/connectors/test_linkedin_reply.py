"""Answers on LinkedIn (threads, retries, the 1,250-character limit) and the little-text escaping."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from connectors.linkedin.connector import COMMENT_LIMIT, LinkedInConnector
from connectors.linkedin.contract import LinkedInHarness, exchange_errors
from connectors.linkedin.markup import RESERVED, ZWSP, escape_text, unescape
from connectors.linkedin.plugin import PLUGIN, SIM_ORGANIZATION, SIM_TOKEN
from connectors.linkedin.seed import seed
from connectors.linkedin.simulator import MEMBER_TOKEN, LinkedInSimulator
from continuum.connector import ConnectionInfo, Effect
from continuum.http import GATES


@pytest.fixture
def sim() -> Iterator[LinkedInSimulator]:
    GATES.reset()
    simulator = LinkedInSimulator()
    seed(simulator)
    simulator.start()
    yield simulator
    simulator.stop()
    problems = [p for x in simulator.exchanges if x.fault is None for p in exchange_errors(x)]
    assert not problems, problems[:5]


def make(sim: LinkedInSimulator) -> LinkedInConnector:
    data = PLUGIN.simulator_connection(sim.base_url)
    connector = PLUGIN.create(ConnectionInfo("li", data["host"], data["login"], data["password"]), {})
    assert isinstance(connector, LinkedInConnector)
    return connector


def thread(sim: LinkedInSimulator) -> tuple[str, str, str]:
    """The launch post, Amara's CSV comment, and Kenji's reply under it."""
    post = next(iter(sim.posts.values())).urn
    amara = next(c for c in sim.comments.values() if "CSV files" in c.text).urn
    kenji = next(c for c in sim.comments.values() if c.text.startswith("+1")).urn
    return post, amara, kenji


def answer(key: str, post: str, to: str, text: str, maybe_applied: bool = False) -> Effect:
    return Effect(key=key, action="reply", object_type="post", fields={"text": text}, target_id=post,
                  maybe_applied=maybe_applied, context={"in_reply_to": to})


def ours(sim: LinkedInSimulator) -> list[dict[str, object]]:
    return sim.comments_by(SIM_ORGANIZATION)


def test_a_reply_to_a_reply_lands_in_the_thread_and_a_retry_finds_it(sim: LinkedInSimulator) -> None:
    post, amara, kenji = thread(sim)
    connector = make(sim)
    first = connector.write([answer("k1", post, kenji, "CSV export is on our roadmap for May.")])[0]
    assert first.ok and not first.found_existing, first.error
    [made] = ours(sim)
    assert made["parentComment"] == amara and made["object"] == post and made["commentUrn"] == first.external_id
    again = make(sim).write([answer("k1", post, kenji, "CSV export is on our roadmap for May.", True)])[0]
    assert again.ok and again.found_existing and again.external_id == first.external_id
    assert len(ours(sim)) == 1 and sim.effect_counts()["replies"] == 1


def test_a_reply_to_a_post_is_a_top_level_comment(sim: LinkedInSimulator) -> None:
    post, _, _ = thread(sim)
    result = make(sim).write([answer("k2", post, post, "Thanks for all the ideas!")])[0]
    assert result.ok, result.error
    [made] = ours(sim)
    assert "parentComment" not in made and made["object"] == post


def test_a_long_answer_is_a_numbered_chain_in_order(sim: LinkedInSimulator) -> None:
    post, amara, _ = thread(sim)
    sentences = [f"Step {n}: open Settings, choose Reports and pick the columns you need." for n in range(60)]
    text = " ".join(sentences)
    result = make(sim).write([answer("k3", post, amara, text)])[0]
    assert result.ok, result.error
    parts = [str(c["message"]["text"]) for c in ours(sim)]  # type: ignore[index]
    assert len(parts) >= 4 and all(len(p) <= COMMENT_LIMIT for p in parts)
    numbering = [re.search(r" \\\((\d+)/(\d+)\\\)$", p) for p in parts]
    assert [m and (int(m.group(1)), int(m.group(2))) for m in numbering] == [(n, len(parts)) for n in
                                                                           range(1, len(parts) + 1)]
    body = " ".join(p[:m.start()] for p, m in zip(parts, numbering, strict=True) if m)
    assert body.split() == text.split()  # no word lost, none cut
    assert {c["parentComment"] for c in ours(sim)} == {amara}
    assert result.external_id == ours(sim)[0]["commentUrn"]


def test_a_retry_after_a_partly_posted_chain_posts_only_the_rest(sim: LinkedInSimulator) -> None:
    post, amara, _ = thread(sim)
    text = " ".join(f"Sentence number {n} explains one more detail of the export." for n in range(60))
    first = make(sim).write([answer("k4", post, amara, text)])[0]
    full = [str(c["message"]["text"]) for c in ours(sim)]  # type: ignore[index]
    for made in ours(sim)[2:]:  # as if the run died after the second part
        sim.delete_comment(str(made["commentUrn"]))
    posted = sim.effect_counts()["replies"]
    again = make(sim).write([answer("k4", post, amara, text, True)])[0]
    assert again.ok and again.found_existing and again.external_id == first.external_id
    assert [str(c["message"]["text"]) for c in ours(sim)] == full  # type: ignore[index]
    assert sim.effect_counts()["replies"] - posted == len(full) - 2


def test_an_empty_answer_or_a_missing_post_fails_only_that_effect(sim: LinkedInSimulator) -> None:
    post, amara, _ = thread(sim)
    results = make(sim).write([answer("bad", "urn:li:person:x", amara, "hi"), answer("good", post, amara, "hi")])
    assert [r.ok for r in results] == [False, True] and "target_id" in str(results[0].error)


def test_the_hubs_comment_reads_back_as_the_company_voice(sim: LinkedInSimulator) -> None:
    post, amara, _ = thread(sim)
    connector = make(sim)
    result = connector.write([answer("k5", post, amara, "We hear you!")])[0]
    records = [r for page in connector.read_changes("posts", None) for r in page.records]
    mine = next(r for r in records if r.external_id == result.external_id)
    assert mine.payload["continuum"]["author"] == connector.account and mine.own_key is None


@pytest.mark.parametrize("hostile", [
    "@[Evil Corp](urn:li:organization:666) wins", "{hashtag|\\#|free} and #freestuff", "a\\{b}c | x_y *z* ~w~",
    "see https://evil.example/x and www.evil.example", "<b>(1)</b> [link]", "\u202eevil\u202c done"])
def test_escaping_leaves_customer_text_inert_and_readable(hostile: str) -> None:
    escaped = escape_text(hostile)
    LinkedInHarness().assert_inert(escaped, hostile)
    assert not re.search(r"(?<!\\)[@{]", escaped)  # no mention or hashtag template can open
    assert unescape(escaped).replace(ZWSP, "") == hostile.replace("\u202e", "").replace("\u202c", "")
    assert all(f"\\{ch}" in escaped for ch in set(hostile) & RESERVED)


def test_the_simulator_holds_to_the_protocol(sim: LinkedInSimulator) -> None:
    url = f"{sim.base_url}/rest/posts?q=author&author=urn%3Ali%3Aorganization%3A1001"
    auth = {"Authorization": f"Bearer {SIM_TOKEN}"}
    assert requests.get(url, headers={**auth, "LinkedIn-Version": "202511"}, timeout=5).status_code == 400
    old = requests.get(url, headers={**auth, "LinkedIn-Version": "2025", "X-Restli-Protocol-Version": "2.0.0"},
                       timeout=5)
    assert old.status_code == 426 and old.json()["code"] == "NONEXISTENT_VERSION"
    sim.exchanges.clear()  # refused on purpose: they lack what the shapes require
    post, _, _ = thread(sim)
    member = {"Authorization": f"Bearer {MEMBER_TOKEN}henrik-larsen-7", "LinkedIn-Version": "202511",
              "X-Restli-Protocol-Version": "2.0.0"}
    as_org = requests.post(f"{sim.base_url}/rest/socialActions/{post.replace(':', '%3A')}/comments", timeout=5,
                           headers=member, json={"actor": SIM_ORGANIZATION, "object": post, "message": {"text": "x"}})
    assert as_org.status_code == 403  # a member cannot speak as the page
    mine = requests.post(f"{sim.base_url}/rest/socialActions/{post.replace(':', '%3A')}/comments", timeout=5,
                         headers=member, json={"actor": "urn:li:person:henrik-larsen-7", "object": post,
                                               "message": {"text": "Posted by hand"}})
    assert mine.status_code == 201 and mine.json()["actor"] == "urn:li:person:henrik-larsen-7"
    assert mine.headers["x-restli-id"] == mine.json()["id"]
