"""X direct messages: read incrementally into the posts stream, answered in their conversation (real HTTP)."""

from __future__ import annotations

from typing import Any

from connectors.x.connector import XConnector
from connectors.x.contract import HARNESS
from connectors.x.dms import DM_LIMIT
from connectors.x.plugin import SIM_ACCOUNT
from connectors.x.simulator import XSimulator
from continuum.connector import Effect, SourceRecord
from continuum.kit import split_for_limit
from continuum.mapping import load_mapping, map_inbound, map_outbound
from tests.connectors import test_x_connector as x_tests

sim, read = x_tests.sim, x_tests.read  # the same simulator fixture and reader as the connector's other tests


def make(sim: XSimulator, **options: Any) -> XConnector:
    return x_tests.make(sim, **{"direct_messages": True, **options})


def messages(records: list[SourceRecord]) -> list[SourceRecord]:
    return [r for r in records if r.object_type == "dm_event"]


def conversation(sim: XSimulator, handle: str) -> str:
    return next(str(d["conversation_id"]) for d in sim.dms() if d["sender"] == handle)


def test_messages_are_read_incrementally_in_pages_and_resume_from_the_cursor(sim: XSimulator) -> None:
    for n in range(11):
        sim.dm("ravi_k" if n % 2 else "mei_ops", f"question {n} by message")
    pages = list(make(sim, page_size=5).read_changes("posts", None))
    got = messages([r for p in pages for r in p.records])
    assert [int(r.external_id) for r in got] == [d["id"] for d in sim.dms()]  # the seed's one and 11, oldest first
    assert all(len(p.records) <= 5 for p in pages)
    assert len(sim.calls("GET", "/2/dm_events")) == 3  # 12 events at 5 a call: the token was followed
    assert pages[-1].cursor is not None and pages[-1].cursor["dm_since"] == got[-1].external_id
    cursor = pages[-1].cursor
    before = len(sim.calls("GET", "/2/dm_events"))
    assert messages(read(make(sim, page_size=5), cursor)[0]) == []
    assert len(sim.calls("GET", "/2/dm_events")) - before == 1  # stops at what it read before: no paging back
    newer = sim.dm("mei_ops", "one more, sorry")
    later, _ = read(make(sim), cursor)
    assert [r.external_id for r in later] == [str(newer)]


def test_a_cursor_stored_before_messages_were_read_reads_them_once(sim: XSimulator) -> None:
    _, old = read(make(sim, direct_messages=False), None)
    assert old is not None and "since_id" in old
    legacy = {k: old[k] for k in ("since_id", "recent")}  # what a cursor of the previous release holds
    records, cursor = read(make(sim), legacy)
    assert [r.payload["continuum"]["text"] for r in records] == [d["text"] for d in sim.dms()]  # no post again
    assert read(make(sim), cursor)[0] == []


def test_a_conversation_is_rebuilt_across_runs_with_the_company_voice(sim: XSimulator) -> None:
    connector = make(sim)
    first, cursor = read(connector, None)
    asked = messages(first)[0]
    thread = conversation(sim, "elle_designs")
    sent = connector.write([Effect(key="x-dm-1", action="reply", object_type="dm_event", target_id=thread,
                                   fields={"text": "Settings > Workspace > Time zone, then pick Lisbon."})])[0]
    assert sent.ok, sent.error
    follow = sim.dm("elle_designs", "found it, thank you!")
    later, _ = read(make(sim), cursor)
    mapping = load_mapping("x.post.yaml")
    rows = [map_inbound(mapping, r.payload) for r in [asked, *messages(later)]]
    assert [r.external_id for r in messages(later)] == [sent.external_id, str(follow)]
    assert [r["parent_id"] for r in rows] == [None, asked.external_id, sent.external_id]  # across two runs
    assert [r["thread_id"] for r in rows] == [thread] * 3 and [r["is_thread_start"] for r in rows] == [True, False,
                                                                                                        False]
    assert {r["channel"] for r in rows} == {"x/dm"} and {r["kind"] for r in rows} == {"unknown"}
    elle = str(sim.users.find(lambda u: u.username == "elle_designs").id)  # type: ignore[union-attr]
    assert [r["author_account_id"] for r in rows] == [elle, str(sim.company_id), elle]  # ids, not handles
    assert rows[1]["author_handle"] == connector.account and rows[0]["author_handle"] == "elle_designs"
    assert all(r.payload["continuum"]["kind"] == "message" for r in [asked, *messages(later)])


def test_the_parent_comes_from_the_cursor_when_the_listing_no_longer_shows_it(sim: XSimulator) -> None:
    for n in range(5):
        sim.dm("mei_ops", f"unrelated message {n}")  # after Elle's seeded question
    first, cursor = read(make(sim, page_size=5), None)
    asked = next(r for r in messages(first) if r.payload["continuum"]["author_handle"] == "elle_designs")
    follow = sim.dm("elle_designs", "also: can each dashboard have its own time zone?")
    later, _ = read(make(sim, page_size=5), cursor)  # one page: the follow-up and four of Mei's, not Elle's first
    assert [(r.external_id, r.parent_id) for r in later] == [(str(follow), asked.external_id)]


def test_an_answer_lands_in_the_conversation_and_a_retry_does_not_send_it_twice(sim: XSimulator) -> None:
    thread = conversation(sim, "elle_designs")
    asked = str(sim.dms(thread)[-1]["id"])
    effect = Effect(key="x-dm-2", action="reply", object_type="dm_event", target_id=thread,
                    fields={"text": "Hi Elle, Settings > Workspace > Time zone."}, context={"in_reply_to": asked})
    first = make(sim).write([effect])[0]
    assert first.ok and not first.found_existing, first.error
    assert sim.dms(thread)[-1] == {"id": int(str(first.external_id)), "conversation_id": thread, "sender": SIM_ACCOUNT,
                                   "text": "Hi Elle, Settings > Workspace > Time zone."}
    again = make(sim).write([Effect(**{**effect.__dict__, "maybe_applied": True})])[0]
    assert again.ok and again.found_existing and again.external_id == first.external_id
    assert sim.effect_counts()["messages"] == 1
    assert not sim.posts(SIM_ACCOUNT)[1:]  # nothing on the timeline: only the launch post is the company's


def test_a_long_answer_is_split_at_the_dm_limit_and_a_retry_completes_it(sim: XSimulator) -> None:
    thread = conversation(sim, "elle_designs")
    answer = " ".join(f"Step {n}: open Settings, then Workspace, then pick your time zone." for n in range(400))
    parts = split_for_limit(answer, DM_LIMIT)
    assert len(parts) >= 3 and all(len(p) <= DM_LIMIT for p in parts)
    connector = make(sim)
    connector.client.send_dm(thread, parts[0])  # an earlier attempt sent part 1, then the run died
    effect = Effect(key="x-dm-3", action="reply", object_type="dm_event", target_id=thread,
                    fields={"text": answer}, maybe_applied=True)
    done = connector.write([effect])[0]
    assert done.ok and done.found_existing, done.error
    ours = [d["text"] for d in sim.dms(thread) if d["sender"] == SIM_ACCOUNT]
    assert ours == parts  # each part once, in order
    assert sim.effect_counts()["messages"] == len(parts)


def test_an_earlier_answer_with_the_same_text_does_not_count_as_this_one(sim: XSimulator) -> None:
    thread = conversation(sim, "elle_designs")
    make(sim).write([Effect(key="x-dm-4", action="reply", object_type="dm_event", target_id=thread,
                            fields={"text": "Thanks for writing!"})])
    asked = sim.dm("elle_designs", "and how do I invite a viewer?")
    again = make(sim).write([Effect(key="x-dm-5", action="reply", object_type="dm_event", target_id=thread,
                                    fields={"text": "Thanks for writing!"}, maybe_applied=True,
                                    context={"in_reply_to": str(asked)})])[0]
    assert again.ok and not again.found_existing
    assert [d["text"] for d in sim.dms(thread) if d["sender"] == SIM_ACCOUNT] == ["Thanks for writing!"] * 2


def test_hostile_customer_text_in_an_answer_is_inert(sim: XSimulator) -> None:
    thread = conversation(sim, "elle_designs")
    hostile = "@everyone #win $ACME visit https://evil.example/login or bank.com \u202eevil"
    mapping = load_mapping("x.post.yaml")
    connector = make(sim)
    fields = map_outbound(mapping, "reply", {"customer": {"display_name": hostile}, "answer": {"text": "ok"}},
                          connector.escape_text)
    result = connector.write([Effect(key="x-dm-6", action="reply", object_type="dm_event", target_id=thread,
                                     fields=fields)])[0]
    assert result.ok, result.error
    stored = sim.dms(thread)[-1]["text"]
    HARNESS.assert_inert(stored.removeprefix("Hi ").removesuffix(", ok"), hostile)


def test_bad_targets_and_a_stranger_conversation_are_refused_with_a_clear_error(sim: XSimulator) -> None:
    results = make(sim).write([
        Effect(key="x-dm-7", action="reply", object_type="dm_event", target_id="12-ab", fields={"text": "hi"}),
        Effect(key="x-dm-8", action="reply", object_type="dm_event", target_id="1-2", fields={"text": "hi"})])
    assert [r.ok for r in results] == [False, False]
    assert "dm_conversation_id" in str(results[0].error) and "participant" in str(results[1].error)
    assert sim.effect_counts().get("messages", 0) == 0
