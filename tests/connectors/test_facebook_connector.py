"""FacebookConnector against the Facebook simulator over real HTTP: what the shared contract suite does not cover."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.facebook.connector import FacebookConnector
from connectors.facebook.plugin import PLUGIN, SIM_PAGE_ID, SIM_PAGE_TOKEN
from connectors.facebook.seed import seed
from connectors.facebook.simulator import FacebookSimulator
from continuum.connector import ConnectionInfo, Effect, SourceRecord
from continuum.http import GATES, STATS
from continuum.kit import ClientError, RateLimitExhausted
from continuum.kit.dispatch import Deferred


@pytest.fixture
def sim() -> Iterator[FacebookSimulator]:
    GATES.reset()  # a spent window is process-wide per system: no test may inherit another's
    simulator = FacebookSimulator()
    seed(simulator)
    simulator.start()
    yield simulator
    simulator.stop()
    GATES.reset()


def make(sim: FacebookSimulator, token: str = SIM_PAGE_TOKEN, **options: Any) -> FacebookConnector:
    connector = PLUGIN.create(ConnectionInfo("facebook_test", sim.base_url, SIM_PAGE_ID, token), options)
    assert isinstance(connector, FacebookConnector)
    return connector


def read(connector: FacebookConnector, cursor: dict[str, Any] | None) -> tuple[list[SourceRecord], dict[str, Any]]:
    records: list[SourceRecord] = []
    for page in connector.read_changes("posts", cursor):
        records += page.records
        cursor = page.cursor
    assert cursor is not None
    return records, cursor


def by_text(records: list[SourceRecord], needle: str) -> SourceRecord:
    return next(r for r in records if needle in r.payload["continuum"]["text"])


def reply(key: str, thread: str, text: str, in_reply_to: str | None = None, maybe_applied: bool = False) -> Effect:
    return Effect(key=key, action="reply", object_type="post", fields={"message": text}, target_id=thread,
                  maybe_applied=maybe_applied, context={"in_reply_to": in_reply_to} if in_reply_to else {})


def test_first_read_rebuilds_threads_and_marks_the_pages_voice(sim: FacebookSimulator) -> None:
    connector = make(sim)
    records, _ = read(connector, None)
    assert connector.account == SIM_PAGE_ID
    launch = by_text(records, "dashboard is live")
    grace = by_text(records, "CSV files")
    answer = by_text(records, "Thanks Grace")
    lukas = by_text(records, "Same wish here")
    assert launch.payload["from"]["id"] == SIM_PAGE_ID and launch.payload["continuum"]["is_thread_start"]
    assert grace.parent_id == launch.external_id and grace.payload["continuum"]["parent_id"] == launch.external_id
    for nested in (answer, lukas):  # replies hang under Grace's comment, in her post's thread
        assert nested.payload["continuum"]["thread_id"] == launch.external_id
        assert nested.payload["continuum"]["parent_id"] == grace.external_id
    assert answer.payload["from"]["id"] == connector.account  # the engine's own-voice check matches it
    assert grace.payload["from"]["id"] != connector.account
    visitor = by_text(records, "admin rights")
    assert visitor.payload["continuum"]["is_thread_start"] and visitor.payload["from"]["name"] == "Priya Nair"
    dm = by_text(records, "billing e-mail")
    assert dm.payload["continuum"]["thread_id"].startswith("t_") and dm.payload["continuum"]["channel"] == \
        "facebook/messenger"
    order = [r.external_id for r in records]
    assert order.index(grace.external_id) < order.index(answer.external_id) < order.index(lukas.external_id)


def test_paging_resume_and_a_later_comment(sim: FacebookSimulator) -> None:
    post = sim.page_post("Tell us about exports")
    for n in range(230):
        sim.comment(post, f"comment number {n}", "Grace Mwangi")
    connector = make(sim, page_size=40)
    pages = list(connector.read_changes("posts", None))
    records = [r for p in pages for r in p.records]
    assert all(len(p.records) <= 40 for p in pages) and len(pages) > 6
    texts = [r.payload["continuum"]["text"] for r in records if r.payload["continuum"]["thread_id"] == post]
    assert texts[1:] == [f"comment number {n}" for n in range(230)]  # oldest first, none lost, none twice
    assert len(sim.calls("GET", f"/{post}/comments")) == 3  # 100 a call, followed by paging.cursors.after
    cursor = pages[-1].cursor
    again, cursor = read(make(sim), cursor)
    assert again == []
    mid_cursor = pages[3].cursor  # stored mid-thread: the rest of the thread is still read from it
    rest, _ = read(make(sim), mid_cursor)
    assert {r.external_id for r in records if r not in [x for p in pages[:4] for x in p.records]} <= \
        {r.external_id for r in rest}
    later = sim.comment(post, "one more thing about exports", "Lukas Weber")
    fresh, _ = read(make(sim), cursor)
    assert [r.external_id for r in fresh] == [later]


def test_a_reply_goes_under_the_customers_comment_and_a_retry_finds_it(sim: FacebookSimulator) -> None:
    launch = next(iter(sim.posts))
    lukas = next(c for c in sim.comments.values() if c.message.startswith("Same wish"))  # a reply to Grace
    connector = make(sim)
    effect = reply("r-1", launch, "We hear you both: CSV export is planned.", in_reply_to=lukas.id)
    first = connector.write([effect])[0]
    assert first.ok and not first.found_existing, first.error
    made = sim.comments[str(first.external_id)]
    assert made.parent_id == lukas.parent_id and made.author["id"] == SIM_PAGE_ID  # under Grace's top comment
    again = connector.write([Effect(**{**effect.__dict__, "maybe_applied": True})])[0]
    assert again.ok and again.found_existing and again.external_id == first.external_id
    assert sim.effect_counts()["replies"] == 1


def test_a_long_answer_is_split_in_order_within_the_limit(sim: FacebookSimulator) -> None:
    launch = next(iter(sim.posts))
    words = [f"word{n}" for n in range(2500)]  # about 19,000 characters
    text = " ".join(words)
    result = make(sim).write([reply("long-1", launch, text)])[0]
    assert result.ok, result.error
    parts = [c.message for c in sim.comments.values() if c.author["id"] == SIM_PAGE_ID and "word" in c.message]
    assert len(parts) == 3 and all(len(p) <= 8000 for p in parts)
    assert [p.rsplit(" (", 1)[1] for p in parts] == ["1/3)", "2/3)", "3/3)"]
    assert " ".join(p.rsplit(" (", 1)[0] for p in parts).split() == words  # nothing cut, nothing reordered
    assert sim.comments[str(result.external_id)].message == parts[0]


def test_messenger_reply_within_the_window_split_at_2000(sim: FacebookSimulator) -> None:
    conversation = next(iter(sim.conversations))
    text = "Yes, you can. " * 200  # 2,800 characters
    effect = reply("dm-1", conversation, text)
    connector = make(sim)
    result = connector.write([effect])[0]
    assert result.ok, result.error
    sent = sim.calls("POST", f"/{SIM_PAGE_ID}/messages")
    assert len(sent) == 2 and sim.effect_counts()["messages"] == 2
    mine = [m for m in sim.messages.values() if m.sender["id"] == SIM_PAGE_ID]
    assert all(len(m.message) <= 2000 for m in mine) and mine[0].id == result.external_id
    assert mine[0].recipient["id"] == sim.conversations[conversation].customer.psid
    again = connector.write([Effect(**{**effect.__dict__, "maybe_applied": True})])[0]
    assert again.found_existing and sim.effect_counts()["messages"] == 2


def test_messenger_reply_outside_24_hours_is_held_not_sent(sim: FacebookSimulator) -> None:
    conversation = next(iter(sim.conversations))
    sim.backdate(conversation, hours=30)
    result = make(sim).write([reply("dm-late", conversation, "Sorry for the wait!")])[0]
    assert result.held and not result.ok and "24-hour window" in str(result.error)
    assert sim.effect_counts()["messages"] == 0 and not sim.calls("POST")


def test_edits_are_re_read_and_deletions_yield_deleted_records(sim: FacebookSimulator) -> None:
    records, cursor = read(make(sim), None)
    grace = by_text(records, "CSV files")
    bug = by_text(records, "Android app")
    sim.edit(grace.external_id, "Edited: CSV or Excel export of reports, please.")
    sim.delete(bug.external_id)
    changed, cursor = read(make(sim), cursor)
    edited = next(r for r in changed if r.external_id == grace.external_id)
    assert edited.version != grace.version and edited.payload["message"].startswith("Edited")
    assert edited.payload["continuum"]["thread_id"] == grace.payload["continuum"]["thread_id"]
    gone = [r for r in changed if r.deleted]
    assert [(r.external_id, r.stream, r.object_type) for r in gone] == [(bug.external_id, "posts", "post")]
    assert sorted(r.external_id for r in changed) == sorted([grace.external_id, bug.external_id])
    quiet, _ = read(make(sim), cursor)
    assert quiet == []  # each change is told once


def test_a_spent_window_stops_cleanly_and_the_cursor_loses_nothing(sim: FacebookSimulator) -> None:
    post = sim.page_post("Window test")
    for n in range(150):
        sim.comment(post, f"window comment {n}", "Diego Alvarez")
    sim.call_limit = 3  # the third call spends the Page's window (call_count 100 in the usage header)
    connector = make(sim, page_size=20)
    committed: dict[str, Any] | None = None
    got: list[SourceRecord] = []
    with pytest.raises(RateLimitExhausted) as caught:
        for page in connector.read_changes("posts", None):
            got += page.records
            committed = page.cursor
    assert caught.value.resume_in_s >= 60 and "facebook" in str(caught.value)
    assert len(sim.calls()) == 3, "a call was sent after the usage header said the window was spent"
    GATES.reset()
    sim.call_limit = None
    rest, _ = read(make(sim), committed)
    texts = {r.payload["continuum"]["text"] for r in got + rest}
    assert {f"window comment {n}" for n in range(150)} <= texts


def test_graph_throttling_code_is_a_clean_stop_too(sim: FacebookSimulator) -> None:
    sim.call_limit = 0  # every call answered with Graph's code 32
    results = make(sim).write([reply("t-1", next(iter(sim.posts)), "hello")])
    assert isinstance(results[0], Deferred) and not results[0].ok


def test_errors_name_facebook_and_a_bad_token_is_an_auth_error(sim: FacebookSimulator) -> None:
    with pytest.raises(ClientError) as caught:
        make(sim, token="EAAbad").check()
    assert caught.value.is_auth_error and caught.value.code == "190" and "EAAbad" not in str(caught.value)
    assert str(caught.value).startswith("facebook GET")
    with pytest.raises(ClientError) as missing:
        make(sim).client.call("GET", "/104738291654321_999", {"fields": "id"})
    assert not missing.value.is_auth_error and "(#100)" in str(missing.value)


def test_calls_per_hundred_comments_read(sim: FacebookSimulator) -> None:
    post = sim.page_post("Counting calls")
    for n in range(100):
        sim.comment(post, f"counted {n}", "Priya Nair")
    STATS.reset()
    records, cursor = read(make(sim), None)
    calls = STATS.snapshot()["facebook"]["calls"]
    assert len(records) > 100 and calls <= 12, calls  # feed, one call per thread, Messenger
    STATS.reset()
    read(make(sim), cursor)
    assert STATS.snapshot()["facebook"]["calls"] <= 8  # nothing new: feed, bulk recheck, conversations


def test_every_record_maps_to_an_interaction(sim: FacebookSimulator) -> None:
    from continuum.mapping import load_mapping
    from continuum.mapping.render import map_inbound, map_outbound

    mapping = load_mapping("facebook.post.yaml")
    connector = make(sim)
    records, _ = read(connector, None)
    mapped = [map_inbound(mapping, r.payload) for r in records]
    assert {m["channel"] for m in mapped} == {"facebook/page", "facebook/messenger"}
    grace = next(m for m in mapped if "CSV files" in m["text"])
    assert grace["author_name"] == "Grace Mwangi" and grace["author_account_id"].isdigit()
    assert grace["kind"] == "unknown" and grace["thread_id"] == grace["parent_id"]
    own = [m for m in mapped if m["author_account_id"] == connector.account]
    assert len(own) == 3  # two Page posts and the Page's answer to Grace
    fields = map_outbound(mapping, "reply", {"customer": {"display_name": "Grace"}, "answer": {"text": "#csv @Bob"}},
                          connector.escape_text)
    assert "#\u200bcsv @\u200bBob" in fields["message"]
