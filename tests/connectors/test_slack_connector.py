"""The Slack connector against the Slack simulator, over real HTTP on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
import requests
from pydantic import ValidationError

from continuum.connector import ConnectionInfo, Connector, Effect
from continuum.http import STATS
from connectors.slack import (
    SIM_TOKEN,
    SlackConfig,
    SlackConnector,
    SlackError,
    SlackSimulator,
    create_connector,
    escape_text,
    seed,
    simulator_connection,
)
from connectors.slack.simulator import BOT_USER_ID

HOSTILE = "Hi <!channel> and <!here>, ping <@U0CONTBOT01> in <#C000000001>, see <http://evil.example|your bank> & co"


@pytest.fixture
def sim() -> Iterator[SlackSimulator]:
    simulator = SlackSimulator()
    seed(simulator)
    with simulator:
        yield simulator


def connect(sim: SlackSimulator, token: str = SIM_TOKEN, **options: object) -> SlackConnector:
    return create_connector(ConnectionInfo("slack_test", sim.base_url, None, token), dict(options))


def notify(key: str, text: str, channel: str | None = "#hr", maybe_applied: bool = False) -> Effect:
    fields = {"text": text} if channel is None else {"channel": channel, "text": text}
    return Effect(key, "notify", "message", fields, maybe_applied=maybe_applied)


def keyed(sim: SlackSimulator, channel: str, key: str) -> list[dict]:
    return [m for m in sim.messages(channel)
            if (m.get("metadata") or {}).get("event_payload", {}).get("key") == key]


def test_is_a_connector_and_touches_no_network_until_used(sim: SlackSimulator) -> None:
    connector = connect(sim, default_channel="#support")
    assert connector.system == "slack"
    assert connector.capabilities.effects == ("notify",) and connector.capabilities.streams == ()
    assert sim.exchanges == []
    assert connector.account == BOT_USER_ID  # the bot user, from auth.test
    assert [x.path for x in sim.exchanges] == ["/api/auth.test"]
    # Cached.  (On Python 3.11 isinstance() on a runtime-checkable protocol reads
    # every member, ``account`` included; it must not cost another call.)
    assert connector.account == BOT_USER_ID and isinstance(connector, Connector)
    assert len(sim.exchanges) == 1
    with pytest.raises(ValueError, match="no stream 'messages'"):
        connector.read_changes("messages", None)


def test_notify_posts_exactly_once_with_the_key_in_metadata(sim: SlackSimulator) -> None:
    connector = connect(sim)
    [result] = connector.write([notify("ntf-1", "New HR question from Mara: parental leave?")])
    assert result.ok and not result.found_existing, result
    hr = sim.channel_id("#hr")
    channel_id, ts = result.external_id.split(":")
    assert channel_id == hr and result.object_type == "message" and result.version == ts
    assert result.url == f"{sim.base_url}/archives/{hr}/p{ts.replace('.', '')}"
    assert sim.effect_counts()["notifications"] == 1
    assert sim.effect_counts()["created"] == sim.effect_counts()["replies"] == 0
    assert len(sim.calls("POST", "/api/chat.postMessage")) == 1
    [message] = keyed(sim, "#hr", "ntf-1")
    assert message["ts"] == ts and message["user"] == BOT_USER_ID
    assert message["metadata"] == {"event_type": "continuum_effect", "event_payload": {"key": "ntf-1"}}
    # What went over the wire: a form body, the token only in the Authorization header.
    post = sim.calls("POST", "/api/chat.postMessage")[0]
    assert post.request_headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert post.request_headers["Authorization"] == f"Bearer {SIM_TOKEN}"
    form = parse_qs(post.request_body.decode())
    assert "token" not in form and SIM_TOKEN not in post.request_body.decode()
    assert json.loads(form["metadata"][0])["event_payload"]["key"] == "ntf-1"
    assert form["unfurl_links"] == ["false"] and form["channel"] == [hr]


def test_retry_of_a_maybe_applied_notification_finds_the_first_message(sim: SlackSimulator) -> None:
    connector = connect(sim, history_page_size=2)
    [first] = connector.write([notify("ntf-retry", "SLA breach: ticket PROD-12", "#sla-alerts")])
    people = [u.id for u in sim.users.values() if not u.is_bot]
    for n in range(3):  # newer messages push ours to the second history page
        sim.say("#sla-alerts", people[n % len(people)], f"on it ({n})")
    [again] = connector.write([notify("ntf-retry", "SLA breach: ticket PROD-12", "#sla-alerts", maybe_applied=True)])
    assert again.ok and again.found_existing, again
    assert again.external_id == first.external_id
    assert len(keyed(sim, "#sla-alerts", "ntf-retry")) == 1
    assert sim.effect_counts()["notifications"] == 1
    histories = sim.calls("GET", "/api/conversations.history")
    assert len(histories) == 2 and "cursor=" in histories[1].query_string
    assert all("include_all_metadata=true" in x.query_string for x in histories)


def test_a_maybe_applied_notification_that_never_arrived_is_posted_once(sim: SlackSimulator) -> None:
    connector = connect(sim)
    [result] = connector.write([notify("ntf-lost", "Please call the customer back", "#support", maybe_applied=True)])
    assert result.ok and not result.found_existing
    assert len(keyed(sim, "#support", "ntf-lost")) == 1


def test_the_search_is_bounded_to_the_configured_pages(sim: SlackSimulator) -> None:
    connector = connect(sim, history_pages=1, history_page_size=2)
    connector.write([notify("ntf-old", "old alert", "#rnd")])
    someone = next(u.id for u in sim.users.values() if not u.is_bot)
    for n in range(4):
        sim.say("#rnd", someone, f"chatter {n}")
    [result] = connector.write([notify("ntf-old", "old alert", "#rnd", maybe_applied=True)])
    # Out of reach: one page was read, then a second message went out (the documented trade-off).
    assert len(sim.calls("GET", "/api/conversations.history")) == 1
    assert result.ok and not result.found_existing
    assert len(keyed(sim, "#rnd", "ntf-old")) == 2


def test_customer_text_cannot_ping_or_link(sim: SlackSimulator) -> None:
    connector = connect(sim)
    text = f"Customer wrote: {connector.escape_text(HOSTILE)}"
    [result] = connector.write([notify("ntf-esc", text)])
    assert result.ok
    [message] = keyed(sim, "#hr", "ntf-esc")
    arrived = message["text"]
    assert "<" not in arrived and ">" not in arrived
    assert "&lt;!channel&gt;" in arrived and "&lt;@U0CONTBOT01&gt;" in arrived
    assert "&lt;http://evil.example|your bank&gt;" in arrived and "&amp; co" in arrived
    form = parse_qs(sim.calls("POST", "/api/chat.postMessage")[0].request_body.decode())
    assert "link_names" not in form and "parse" not in form  # nothing turns plain @names into mentions


def test_escape_text_follows_slacks_three_rules() -> None:
    assert escape_text("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape_text("&lt;!channel&gt;") == "&amp;lt;!channel&amp;gt;"  # typed entities stay literal
    assert escape_text("<!subteam^S123|@hr>") == "&lt;!subteam^S123|@hr&gt;"
    assert escape_text("*bold* _it_ `code`") == "*bold* _it_ `code`"  # styling only; Slack has no escape for it


def test_default_channel_user_and_email_targets(sim: SlackSimulator) -> None:
    connector = connect(sim, default_channel="#support")
    amara = next(u.id for u in sim.users.values() if u.email == "amara.okafor@example.com")
    results = connector.write([
        notify("to-default", "goes to #support", channel=None),
        notify("to-email", "Direct note for Amara", "amara.okafor@example.com"),
        notify("to-user", "Another note for Amara", amara),
    ])
    assert all(r.ok for r in results), results
    assert results[0].external_id.startswith(sim.channel_id("#support") + ":")
    dm_ids = {r.external_id.split(":")[0] for r in results[1:]}
    assert len(dm_ids) == 1 and next(iter(dm_ids)).startswith("D")
    # A retry to a person looks in the app's DM with them.
    [again] = connector.write([notify("to-email", "Direct note for Amara", "amara.okafor@example.com",
                                      maybe_applied=True)])
    assert again.found_existing and again.external_id == results[1].external_id
    assert sim.effect_counts()["notifications"] == 3
    assert len(sim.calls("GET", "/api/users.lookupByEmail")) == 1  # cached per connector


def test_one_failure_never_fails_the_batch(sim: SlackSimulator) -> None:
    connector = connect(sim)
    results = connector.write([
        notify("b-1", "first", "#hr"),
        notify("b-2", "to a channel that does not exist", "#nope"),
        notify("b-3", "to a channel the bot is not in", "#random"),
        notify("b-4", "to nobody", "nobody@example.com"),
        Effect("b-5", "comment", "message", {"channel": "#hr", "text": "x"}),
        notify("b-6", "   ", "#hr"),
        notify("b-7", "last", "#rnd"),
    ])
    assert [r.ok for r in results] == [True, False, False, False, False, False, True]
    assert [r.key for r in results] == [f"b-{n}" for n in range(1, 8)]
    assert "#nope" in results[1].error and "not_in_channel" in results[2].error
    assert "users_not_found" in results[3].error and "only 'notify'" in results[4].error
    assert "non-empty" in results[5].error
    assert sim.effect_counts()["notifications"] == 2


def test_invalid_token_gives_a_clear_error_and_posts_nothing(sim: SlackSimulator) -> None:
    connector = connect(sim, token="xoxb-0000-not-the-right-one")
    with pytest.raises(SlackError) as caught:
        connector.check()
    assert caught.value.error == "invalid_auth" and caught.value.is_auth_error
    assert "invalid_auth" in str(caught.value) and "connection's password" in str(caught.value)
    assert "not-the-right-one" not in str(caught.value)
    assert connector.account is None
    [result] = connector.write([notify("bad-1", "hello", "C000000002")])
    assert not result.ok and "invalid_auth" in result.error
    assert sim.effect_counts()["notifications"] == 0
    # ok:false comes with HTTP 200; it is an answer, not something to retry.
    assert all(x.status == 200 for x in sim.exchanges)


def test_config_rejects_a_non_bot_token_without_echoing_it() -> None:
    with pytest.raises(ValidationError) as caught:
        SlackConfig(bot_token="xoxp-user-token-secret")
    assert "xoxb-" in str(caught.value) and "secret" not in str(caught.value)
    with pytest.raises(ValidationError):
        SlackConfig(bot_token="xoxb-1", default_channel="hr team")
    config = SlackConfig(bot_token="xoxb-1", url="https://slack.com/api/")
    assert config.url == "https://slack.com" and "xoxb-1" not in repr(config)


def test_rate_limit_429_with_retry_after_then_success(sim: SlackSimulator) -> None:
    connector = connect(sim)
    sim.inject("429", times=2, path_contains="/api/chat.postMessage", retry_after="0.1")
    before = STATS.snapshot().get("slack", {})
    started = time.monotonic()
    [result] = connector.write([notify("rl-1", "SLA breach", "#sla-alerts")])
    elapsed = time.monotonic() - started
    after = STATS.snapshot()["slack"]
    assert result.ok, result
    assert elapsed >= 0.2  # Retry-After 0.1 s was honoured twice
    assert after["throttled"] - before.get("throttled", 0) == 2
    assert after["retries"] - before.get("retries", 0) == 2
    assert sim.faults.injected["429"] == 2
    assert len(keyed(sim, "#sla-alerts", "rl-1")) == 1
    assert sim.effect_counts()["notifications"] == 1


def test_rate_limit_that_outlasts_the_retries_is_reported_on_the_effect(sim: SlackSimulator) -> None:
    connector = connect(sim)
    connector.account  # resolve identity first, so only the post meets the limit
    sim.inject("429", times=50, path_contains="/api/chat.postMessage", retry_after="0.05")
    [result] = connector.write([notify("rl-2", "SLA breach", "#sla-alerts")])
    assert not result.ok and "ratelimited" in result.error and "HTTP 429" in result.error
    assert sim.effect_counts()["notifications"] == 0


def test_simulator_accepts_json_bodies_and_the_simulator_connection_works(sim: SlackSimulator) -> None:
    conn = simulator_connection(sim.base_url)
    assert conn == {"conn_type": "slack", "host": sim.base_url, "password": SIM_TOKEN}
    answer = requests.post(f"{sim.base_url}/api/chat.postMessage", timeout=5,
                           headers={"Authorization": f"Bearer {SIM_TOKEN}"},
                           json={"channel": "#hr", "text": "json body",
                                 "metadata": {"event_type": "continuum_effect", "event_payload": {"key": "j"}}}).json()
    assert answer["ok"] and answer["channel"] == sim.channel_id("#hr")
    assert len(keyed(sim, "#hr", "j")) == 1
    no_token = requests.get(f"{sim.base_url}/api/auth.test", timeout=5).json()
    assert no_token == {"ok": False, "error": "not_authed"}
    history = requests.get(f"{sim.base_url}/api/conversations.history", timeout=5,
                           params={"channel": sim.channel_id("#hr")},
                           headers={"Authorization": f"Bearer {SIM_TOKEN}"}).json()
    assert history["ok"] and all("metadata" not in m for m in history["messages"])  # only when asked
