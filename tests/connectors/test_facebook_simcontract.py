"""The Graph spec checker: simulator traffic is valid, and the checker catches what is not."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from connectors.facebook import simcontract
from connectors.facebook.connector import FacebookConnector
from connectors.facebook.plugin import PLUGIN, SIM_PAGE_ID, SIM_PAGE_TOKEN
from connectors.facebook.seed import seed
from connectors.facebook.simulator import FacebookSimulator
from continuum.connector import ConnectionInfo, Effect
from continuum.http import GATES
from continuum.simkit import Exchange
from continuum.testing.contract import read_all

pytestmark = pytest.mark.skipif(not simcontract.spec_available(), reason="the facebook-graph spec is not checked out")


@pytest.fixture
def sim() -> Iterator[FacebookSimulator]:
    GATES.reset()
    simulator = FacebookSimulator()
    seed(simulator)
    simulator.start()
    yield simulator
    simulator.stop()


def exchange(method: str, path: str, query: str, answer: object, body: object = None) -> Exchange:
    return Exchange(method, path, query, {}, json.dumps(body).encode() if body else b"", 200, {},
                    json.dumps(answer).encode(), 0.0)


def problems(sim: FacebookSimulator, x: Exchange) -> list[str]:
    return simcontract.exchange_problems(simcontract.load(), x, sim.node_type)[0]


def test_everything_the_connector_and_simulator_exchange_is_in_the_spec(sim: FacebookSimulator) -> None:
    connector = PLUGIN.create(ConnectionInfo("fb", sim.base_url, SIM_PAGE_ID, SIM_PAGE_TOKEN), {})
    records, cursor = read_all(connector, "posts", None)
    sim.edit(records[3].external_id, "edited")
    sim.delete(records[4].external_id)
    read_all(connector, "posts", cursor)
    connector.write([Effect("k1", "reply", "post", {"message": "hi"}, records[0].external_id,
                            context={"in_reply_to": records[3].external_id}),
                     Effect("k2", "reply", "post", {"message": "hello"}, next(iter(sim.conversations)))])
    spec, found, unchecked = simcontract.load(), [], set()
    for x in sim.exchanges:
        wrong, skipped = simcontract.exchange_problems(spec, x, sim.node_type)
        found += wrong
        unchecked |= skipped
    assert found == []
    assert unchecked == {"UnifiedMessage"}  # Meta publishes no Messenger message node
    checked = {x.path.split("/")[-1] for x in sim.exchanges if x.status < 400}
    assert {"feed", "comments", "conversations", ""} <= checked


def test_a_field_the_node_lacks_or_a_wrong_type_is_caught(sim: FacebookSimulator) -> None:
    post = next(iter(sim.posts))
    good = {"data": [{"id": post, "message": "m", "created_time": "2026-01-02T03:04:05+0000", "from": {"id": "1"}}]}
    path = f"/v21.0/{post}/comments"
    assert problems(sim, exchange("GET", path, "fields=id,message", good)) == []
    bad = {"data": [{"id": post, "likes_total": 3, "created_time": "yesterday", "can_comment": "yes",
                     "comment_count": -1, "parent": {"id": "1", "mesage": "typo"}}]}
    found = problems(sim, exchange("GET", path, "fields=id", bad))
    assert len(found) == 5, found
    for needle in ("likes_total", "created_time", "can_comment", "comment_count", "parent -> Comment.mesage"):
        assert any(needle in p for p in found), needle


def test_a_parameter_or_enum_value_the_api_lacks_is_caught(sim: FacebookSimulator) -> None:
    post = next(iter(sim.posts))
    path = f"/v21.0/{post}/comments"
    ok = "filter=stream&order=chronological&since=1700000000&limit=100&after=x&fields=id,parent"
    assert problems(sim, exchange("GET", path, ok, {"data": []})) == []
    found = problems(sim, exchange("GET", path, "filter=everything&sort=new&fields=id,reactions_total",
                                   {"data": []}))
    assert len(found) == 3 and any("filter='everything'" in p for p in found), found
    send = {"recipient": {"id": "1"}, "message": {"text": "x"}, "messaging_type": "PROMOTION"}
    found = problems(sim, exchange("POST", f"/v21.0/{SIM_PAGE_ID}/messages", "", {"message_id": "m"}, send))
    assert len(found) == 1 and "messaging_type" in found[0]
    assert problems(sim, exchange("GET", f"/v21.0/{SIM_PAGE_ID}/conversations", "platform=WHATSAPP",
                                  {"data": []}))


def test_the_simulator_refuses_fields_graph_does_not_have(sim: FacebookSimulator) -> None:
    connector = PLUGIN.create(ConnectionInfo("fb", sim.base_url, SIM_PAGE_ID, SIM_PAGE_TOKEN), {})
    assert isinstance(connector, FacebookConnector)
    with pytest.raises(Exception, match=r"\(#100\) Tried accessing nonexisting field \(parent\)"):
        connector.client.call("GET", f"/{next(iter(sim.posts))}", {"fields": "id,parent"})
