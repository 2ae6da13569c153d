"""The Slack connector against the Slack simulator, over real HTTP on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from pydantic import ValidationError
from werkzeug.wrappers import Request, Response

from connectors.slack.client import SlackClient, SlackError
from connectors.slack.config import SlackConfig
from connectors.slack.connector import SlackConnector, carries_key
from connectors.slack.markup import escape_text
from connectors.slack.plugin import PLUGIN, SIM_TOKEN
from connectors.slack.seed import seed
from connectors.slack.simulator import BOT_USER_ID, SlackSimulator
from continuum.connector import ConnectionInfo, Connector, Effect
from continuum.kit.config import ConfigError
from continuum.kit.pagination import MAX_REPEATS


@pytest.fixture
def sim() -> Iterator[SlackSimulator]:
    simulator = SlackSimulator()
    seed(simulator)
    with simulator:
        yield simulator


def connect(sim: SlackSimulator, token: str = SIM_TOKEN, **options: Any) -> SlackConnector:
    connector = PLUGIN.create(ConnectionInfo("slack_test", sim.base_url, None, token), options)
    assert isinstance(connector, SlackConnector)
    return connector


def notify(key: str, text: str, channel: str | None = "#hr", maybe_applied: bool = False) -> Effect:
    fields = {"text": text} if channel is None else {"channel": channel, "text": text}
    return Effect(key, "notify", "message", fields, maybe_applied=maybe_applied)


def keyed(sim: SlackSimulator, channel: str, key: str) -> list[dict[str, Any]]:
    return [m for m in sim.messages(channel) if carries_key(m, key)]


def test_the_account_is_the_bot_user_once_slack_said_so(sim: SlackSimulator) -> None:
    connector = connect(sim, default_channel="#support")
    # On Python 3.11 isinstance() on a runtime-checkable protocol reads every member, account included.
    assert isinstance(connector, Connector) and connector.account is None and sim.exchanges == []
    connector.check()
    assert connector.account == BOT_USER_ID  # the bot user, from auth.test
    connector.write([notify("acct-1", "hello", "#hr")])
    assert len(sim.calls(path_contains="/api/auth.test")) == 1  # the permalink reuses what check() learnt
    with pytest.raises(ValueError, match="no stream 'posts'"):
        next(connector.read_changes("posts", None))


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


def test_each_unreachable_target_fails_with_slacks_reason(sim: SlackSimulator) -> None:
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
    assert "users_not_found" in results[3].error and "cannot 'comment'" in results[4].error
    assert "non-empty" in results[5].error
    assert sim.effect_counts()["notifications"] == 2


def test_an_invalid_token_says_what_to_fix_and_is_not_retried(sim: SlackSimulator) -> None:
    connector = connect(sim, token="xoxb-0000-not-the-right-one")
    with pytest.raises(SlackError) as caught:
        connector.check()
    assert caught.value.code == "invalid_auth" and "connection's password" in str(caught.value)
    assert connector.account is None
    results = connector.write([notify("bad-1", "hello", "C000000002"), notify("bad-2", "hello", "C000000002")])
    assert not results[0].ok and "invalid_auth" in results[0].error
    assert "not attempted" in results[1].error  # the same bad token is not sent again
    assert sim.effect_counts()["notifications"] == 0
    # ok:false comes with HTTP 200; it is an answer, not something to retry.
    assert all(x.status == 200 for x in sim.exchanges) and len(sim.exchanges) == 2


def test_config_rejects_a_non_bot_token_without_echoing_it() -> None:
    with pytest.raises(ValidationError) as caught:
        SlackConfig(bot_token="xoxp-user-token-secret")
    assert "xoxb-" in str(caught.value) and "secret" not in str(caught.value)
    with pytest.raises(ValidationError):
        SlackConfig(bot_token="xoxb-1", default_channel="hr team")
    assert SlackConfig(bot_token="xoxb-1", default_channel="  ").default_channel is None
    config = SlackConfig(bot_token="xoxb-1", url="https://slack.com/api/")
    assert SlackClient(config).api_url == "https://slack.com/api/" and "xoxb-1" not in repr(config)
    # An empty host is slack.com; a missing token names the field to fill, not a value.
    assert SlackConfig.from_connection(ConnectionInfo("c", "", None, "xoxb-1")).url == "https://slack.com"
    with pytest.raises(ConfigError, match="bot token"):
        SlackConfig.from_connection(ConnectionInfo("c", "", None, None))


def test_rate_limit_that_outlasts_the_retries_is_reported_on_the_effect(sim: SlackSimulator) -> None:
    connector = connect(sim)
    sim.inject("429", times=50, path_contains="/api/chat.postMessage", retry_after="0.05")
    [result] = connector.write([notify("rl-2", "SLA breach", "#sla-alerts")])
    assert not result.ok and "ratelimited" in result.error and "-> 429" in result.error
    assert sim.effect_counts()["notifications"] == 0


def test_simulator_accepts_json_bodies_and_the_simulator_connection_works(sim: SlackSimulator) -> None:
    conn = PLUGIN.simulator_connection(sim.base_url)
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


class RepeatingCursorSlack(SlackSimulator):
    """A workspace whose channel list always names the same next page."""

    def list_conversations(self, request: Request) -> Response:
        body = json.loads(super().list_conversations(request).get_data())
        body["response_metadata"] = {"next_cursor": "dGVhbTpDMDAwMDAwMDAx"}
        return self.json_response(body)


def test_a_channel_list_that_repeats_its_cursor_fails_the_effect_instead_of_looping() -> None:
    with seed(RepeatingCursorSlack()) as sim:
        connector = connect(sim)
        results = connector.write([notify("loop-1", "to #hr", "#hr"), notify("loop-2", "by id", "C000000002")])
        assert not results[0].ok and "came back" in results[0].error, results[0]
        assert results[1].ok, results[1]
        # The first page, then the same cursor followed until the kit calls it a loop: bounded, never endless.
        assert len(sim.calls("GET", "/api/conversations.list")) == 1 + MAX_REPEATS
