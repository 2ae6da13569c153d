"""Slack as a listening channel: the ``messages`` stream and the ``reply`` effect, over real HTTP to the simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from connectors.slack.connector import SlackConnector
from connectors.slack.plugin import PLUGIN, SIM_TOKEN
from connectors.slack.seed import seed
from connectors.slack.simcontract import SPEC, slack_contract_errors
from connectors.slack.simulator import BOT_USER_ID, SlackSimulator
from connectors.slack.webhook import VERIFIER
from continuum.config import HubConfig
from continuum.connector import ConnectionInfo, Effect, Page, SourceRecord
from continuum.engine.context import SyncContext
from continuum.engine.run import run_pipeline
from continuum.http import GATES
from continuum.kit.ratelimit import RateLimitExhausted
from continuum.kit.webhooks import Accepted, Reply, WebhookRequest
from continuum.simkit.contract import specs_dir
from continuum.store.tables import interactions
from tests.engine.fakes import FakeTracker


@pytest.fixture
def sim() -> Iterator[SlackSimulator]:
    simulator = SlackSimulator()
    seed(simulator)
    with simulator:
        yield simulator


def connect(sim: SlackSimulator, **options: Any) -> SlackConnector:
    connector = PLUGIN.create(ConnectionInfo("slack_test", sim.base_url, None, SIM_TOKEN),
                              {"listen_channels": ["#support"], **options})
    assert isinstance(connector, SlackConnector)
    return connector


def person(sim: SlackSimulator, name: str = "lena.fischer") -> str:
    return next(u.id for u in sim.users.values() if u.name == name)


def read(connector: SlackConnector, cursor: Any = None) -> tuple[list[SourceRecord], Any]:
    pages = list(connector.read_changes("messages", cursor))
    return [r for p in pages for r in p.records], (pages[-1].cursor.to_json() if pages else cursor)


def test_backfill_reads_people_and_threads_and_skips_the_bots_own_messages(sim: SlackSimulator) -> None:
    connector = connect(sim)
    lena, diego = person(sim), person(sim, "diego.alvarez")
    asked = sim.say("#support", diego, "How do I export my data?")
    answer = sim.reply("#support", asked, lena, "Settings > Export")
    [own] = connector.write([Effect("n-1", "notify", "message", {"channel": "#support", "text": "bot notice"})])
    assert own.ok
    records, cursor = read(connector)
    channel = sim.channel_id("#support")
    by_id = {r.external_id: r for r in records}
    assert f"{channel}:{asked}" in by_id and f"{channel}:{answer}" in by_id
    assert all(r.payload.get("user") != BOT_USER_ID for r in records)  # the notice is the hub's own
    reply = by_id[f"{channel}:{answer}"]
    assert reply.parent_id == f"{channel}:{asked}"
    assert reply.payload["continuum"]["thread_id"] == f"{channel}:{asked}" == \
        by_id[f"{channel}:{asked}"].payload["continuum"]["thread_id"]
    assert by_id[f"{channel}:{asked}"].payload["continuum"]["is_thread_start"] is True
    assert len(by_id) == len(records)  # each message once
    again, _ = read(connector, cursor)
    assert again == []  # a re-read from the saved cursor: nothing new
    later = sim.reply("#support", asked, diego, "Thanks, found it")
    fresh, _ = read(connector, cursor)
    assert [r.external_id for r in fresh] == [f"{channel}:{later}"]  # a new reply in a recent thread


def test_an_edit_is_a_new_version_and_a_deletion_a_deleted_record(sim: SlackSimulator) -> None:
    connector = connect(sim)
    diego = person(sim, "diego.alvarez")
    first = sim.say("#support", diego, "The app crashes on start")
    second = sim.say("#support", diego, "oops wrong channel")
    _, cursor = read(connector)
    edited_ts = sim.edit("#support", first, "The app crashes on start (iOS 18)")
    sim.delete("#support", second)
    records, cursor = read(connector, cursor)
    channel = sim.channel_id("#support")
    edits = [r for r in records if not r.deleted]
    gone = [r for r in records if r.deleted]
    assert [(r.external_id, r.version, r.payload["text"]) for r in edits] == [
        (f"{channel}:{first}", edited_ts, "The app crashes on start (iOS 18)")]
    assert [r.external_id for r in gone] == [f"{channel}:{second}"]
    assert read(connector, cursor)[0] == []  # both are settled: no edit or deletion twice


def test_the_one_call_a_minute_limit_stops_cleanly_and_the_next_run_resumes(sim: SlackSimulator) -> None:
    diego = person(sim, "diego.alvarez")
    said = [sim.say("#support", diego, f"message {n}") for n in range(40)]
    sim.read_limits(calls_per_minute=1, max_messages=15, minute_s=3600)  # Retry-After far beyond a run's wait
    connector = connect(sim, history_limit=100)  # asks for more than Slack serves: it gets 15
    pages: list[Page] = []
    with pytest.raises(RateLimitExhausted):
        for page in connector.read_changes("messages", None):
            pages.append(page)
    assert [len(p.records) for p in pages] == [15]
    assert any(x.status == 429 and x.response_headers.get("Retry-After") for x in sim.exchanges)
    seen = [r.external_id for p in pages for r in p.records]
    cursor = pages[-1].cursor.to_json()
    runs = 1
    while runs < 10:  # each later run (a fresh minute, a fresh gate) goes on from the committed cursor
        runs += 1
        sim.read_limits(calls_per_minute=1, max_messages=15, minute_s=3600)
        GATES.reset()
        try:
            for page in connect(sim, history_limit=100).read_changes("messages", cursor):
                seen += [r.external_id for r in page.records]
                cursor = page.cursor.to_json()
            break
        except RateLimitExhausted:
            continue
    assert runs == 3  # 40 people's messages and a greeting, 15 a minute: three runs, the last one ends the walk
    channel = sim.channel_id("#support")
    assert len(seen) == len(set(seen))  # each message once, across the stops
    assert {f"{channel}:{ts}" for ts in said} <= set(seen)  # and none lost


def test_a_short_retry_after_is_waited_out_by_the_shared_layer(sim: SlackSimulator) -> None:
    diego = person(sim, "diego.alvarez")
    for n in range(20):
        sim.say("#support", diego, f"message {n}")
    sim.read_limits(calls_per_minute=1, max_messages=15, minute_s=1)
    records, _ = read(connect(sim))
    assert len([r for r in records if r.payload["text"].startswith("message ")]) == 20
    assert any(x.status == 429 for x in sim.exchanges)


def test_reply_goes_into_the_customers_thread_once(sim: SlackSimulator) -> None:
    connector = connect(sim)
    diego = person(sim, "diego.alvarez")
    asked = sim.say("#support", diego, "Is there an API?")
    channel = sim.channel_id("#support")
    effect = Effect("r-1", "reply", "message", {"text": "Yes: see <docs>"}, target_id=f"{channel}:{asked}")
    [done] = connector.write([effect])
    assert done.ok
    [again] = connector.write([Effect("r-1", "reply", "message", {"text": "x"}, target_id=f"{channel}:{asked}",
                                      maybe_applied=True)])
    assert again.ok and again.found_existing and again.external_id == done.external_id
    thread = [m for m in sim.messages("#support") if m.get("thread_ts") == asked and m["ts"] != asked]
    assert [m["text"] for m in thread] == ["Yes: see <docs>"]
    assert sim.effect_counts()["replies"] == 1
    [bad] = connector.write([Effect("r-2", "reply", "message", {"text": "x"}, target_id=channel)])
    assert not bad.ok and "<channel>:<ts>" in (bad.error or "")


def test_the_threads_the_bot_started_are_watched_for_reactions(sim: SlackSimulator) -> None:
    connector = connect(sim, watch_threads=1)
    lena = person(sim)
    [older, newer] = connector.write([
        Effect(f"n-{n}", "notify", "message", {"channel": "#support", "text": f"ticket {n}"}) for n in (1, 2)])
    older_ts, newer_ts = (str(r.external_id).split(":")[1] for r in (older, newer))
    old_reply = sim.reply("#support", older_ts, lena, "on the older ticket")
    new_reply = sim.reply("#support", newer_ts, lena, "on the newer ticket")
    records, cursor = read(connector)
    channel = sim.channel_id("#support")
    assert {r.external_id for r in records} >= {f"{channel}:{old_reply}", f"{channel}:{new_reply}"}
    sim.react("#support", new_reply, lena, "white_check_mark")
    sim.react("#support", old_reply, lena, "white_check_mark")
    records, cursor = read(connector, cursor)
    [again] = records  # only the watched (newest) thread is re-read: one call, one record
    assert again.external_id == f"{channel}:{new_reply}"
    assert again.payload["reactions"][0]["name"] == "white_check_mark"
    assert read(connector, cursor)[0] == []  # the reaction is news once


def _signed(body: dict[str, Any], now: datetime) -> WebhookRequest:
    raw = json.dumps(body).encode()
    headers = VERIFIER.sign(raw, {"signing_secret": "s3cret"}, now, "", "")
    return WebhookRequest("POST", {k.lower(): v for k, v in headers.items()}, raw, {})


@pytest.mark.parametrize(("event", "kind", "subject"), [
    ({"type": "message", "channel": "C1", "user": "U9", "ts": "1.000001", "text": "hi"}, "message",
     "message:C1:1.000001"),
    ({"type": "app_mention", "channel": "C1", "user": "U9", "ts": "1.000002", "text": "<@U0> hi"}, "app_mention",
     "message:C1:1.000002"),
    ({"type": "message", "subtype": "message_changed", "channel": "C1", "ts": "2.0",
      "message": {"ts": "1.000001", "text": "hi!", "edited": {"ts": "2.0"}}}, "message.message_changed",
     "message:C1:1.000001"),
    ({"type": "message", "subtype": "message_deleted", "channel": "C1", "ts": "3.0", "deleted_ts": "1.000001"},
     "message.message_deleted", "message:C1:1.000001"),
    ({"type": "reaction_added", "user": "U9", "reaction": "white_check_mark", "event_ts": "4.0",
      "item": {"type": "message", "channel": "C1", "ts": "1.000001"}}, "reaction_added", "message:C1:1.000001"),
])
def test_events_name_the_same_record_the_backfill_stores(event: dict[str, Any], kind: str, subject: str) -> None:
    """An event wakes a run that reads the stream; its subject is the stream's ``message:<channel>:<ts>``."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    verdict = VERIFIER.verify(_signed({"type": "event_callback", "event_id": "Ev1", "event": event}, now),
                              {"signing_secret": "s3cret"}, now)
    assert isinstance(verdict, Accepted) and verdict.event_type == kind and verdict.subjects == (subject,)
    assert verdict.wake
    hello = VERIFIER.verify(_signed({"type": "url_verification", "challenge": "abc"}, now),
                            {"signing_secret": "s3cret"}, now)
    assert isinstance(hello, Reply) and json.loads(hello.body) == {"challenge": "abc"}


def test_listening_traffic_matches_the_official_description(sim: SlackSimulator) -> None:
    if not (specs_dir() / SPEC).is_file():
        pytest.skip(f"official Slack Web API description not found at {specs_dir() / SPEC}")
    connector = connect(sim)
    diego, lena = person(sim, "diego.alvarez"), person(sim)
    asked = sim.say("#support", diego, "Question")
    sim.reply("#support", asked, lena, "Answer")
    _, cursor = read(connector)
    sim.edit("#support", asked, "Question, edited")
    read(connector, cursor)
    channel = sim.channel_id("#support")
    connector.write([Effect("r-9", "reply", "message", {"text": "ok"}, target_id=f"{channel}:{asked}",
                            maybe_applied=True)])
    assert any(x.path == "/api/conversations.replies" for x in sim.exchanges)
    assert slack_contract_errors(sim.exchanges) == []


def test_slack_as_a_source_one_interaction_per_message_through_events_and_backfill(
        sim: SlackSimulator, sqlite_db: Engine) -> None:
    """A woken run (an event) and the next scheduled back-fill store a message once; an edit updates it, a deletion
    purges it."""
    engine_mappings = Path(__file__).parents[1] / "engine" / "mappings"
    hub = HubConfig.model_validate({
        "systems": {"slack": {"connector": "slack", "connection": "none"},
                    "tracker": {"connector": "fake", "connection": "none"}},
        "pipelines": {"p": {
            "sources": [{"system": "slack", "stream": "messages",
                         "mapping": str(Path(__file__).parents[2] / "mappings" / "slack.message.yaml")}],
            "targets": [{"system": "tracker", "mapping": str(engine_mappings / "tracker.issue.yaml")}],
            "routing": [{"name": "all", "when": {}, "then": {"action": "ignore"}}],
        }},
    })
    ctx = SyncContext(db=sqlite_db, hub=hub, pipeline_name="p",
                      connectors={"slack": connect(sim), "tracker": FakeTracker()})
    diego = person(sim, "diego.alvarez")
    asked = sim.say("#support", diego, "Can I pay by invoice?")
    run_pipeline(ctx, woken=frozenset({"slack"}))  # the message event's run
    run_pipeline(ctx)  # and the next back-fill
    channel = sim.channel_id("#support")
    ours = interactions.c.source_id == f"message:{channel}:{asked}"  # the record's type and its <channel>:<ts>
    with sqlite_db.connect() as conn:
        rows = conn.execute(select(interactions.c.source_id, interactions.c.text, interactions.c.thread_id)
                            .where(ours)).all()
    assert [(r.text, r.thread_id) for r in rows] == [("Can I pay by invoice?", f"{channel}:{asked}")]
    sim.edit("#support", asked, "Can I pay by invoice, in EUR?")
    run_pipeline(ctx, woken=frozenset({"slack"}))  # message_changed
    sim.delete("#support", asked)
    with sqlite_db.connect() as conn:
        [text] = conn.execute(select(interactions.c.text).where(ours)).one()
    assert text == "Can I pay by invoice, in EUR?"
    run_pipeline(ctx, woken=frozenset({"slack"}))  # message_deleted
    with sqlite_db.connect() as conn:
        left = conn.execute(select(interactions.c.text).where(ours)).all()
    assert all("invoice" not in str(r.text) for r in left)  # purged (a tombstone at most)
