"""Every endpoint the connector uses (categories, feed pages, topic chunks, single posts) obeys Discourse's description.

The shared contract suite validates the traffic of its own tests; this one drives the Discourse-only paths.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable

import pytest

from connectors.discourse.contract import HARNESS
from connectors.discourse.markup import escape_text, idempotency_marker
from connectors.discourse.plugin import PLUGIN, SIM_API_KEY, SIM_API_USERNAME
from connectors.discourse.seed import seed
from connectors.discourse.simulator import DiscourseSimulator
from continuum.connector import ConnectionInfo, Effect
from continuum.simkit.contract import contract_errors, specs_dir
from continuum.testing.harness import HOSTILE_TEXTS

SPEC = "discourse.openapi.json"

pytestmark = pytest.mark.contract


def _require_spec() -> None:
    if not (specs_dir() / SPEC).is_file():
        pytest.skip(f"official Discourse description not found at {specs_dir() / SPEC}; "
                    "set CONTINUUM_SPECS_DIR or check out ../shared/specs to run contract tests")


def test_connector_traffic_matches_the_official_description() -> None:
    _require_spec()
    sim = DiscourseSimulator()
    seed(sim)
    topic_id, _ = sim.create_topic("kwame.m", "bugs", "Sync takes hours", "Our nightly sync got slow.")
    for n in range(60):  # more than one 50-post feed page, more than one 20-post topic chunk
        sim.reply(["olu_adeyemi", "kwame.m"][n % 2], topic_id, f"Timing sample {n}: {40 + n} minutes", 1)
    with sim:
        conn = ConnectionInfo("contract", sim.base_url, SIM_API_USERNAME, SIM_API_KEY)
        connector = PLUGIN.create(conn, {"categories": ["bugs", "feature-requests"], "page_size": 25})
        connector.check()
        pages = list(connector.read_changes("posts", None))
        assert len(pages) >= 3
        text = connector.escape_text("Thanks @kwame.m, <b>fixed</b> in *2.4*")
        results = connector.write([
            Effect("c-1", "reply", "post", {"raw": text}, target_id=str(topic_id), context={"reply_to_post_number": 1}),
            Effect("c-2", "reply", "post", {"raw": "Plain reply."}, target_id="8"),
        ])
        assert all(r.ok for r in results), results
        for n in range(25):
            sim.reply("kwame.m", topic_id, f"Still slow {n}")
        recovered = connector.write([
            Effect("c-1", "reply", "post", {"raw": text}, target_id=str(topic_id), maybe_applied=True),
        ])
        assert recovered[0].found_existing and recovered[0].external_id == results[0].external_id
        new_pages = list(connector.read_changes("posts", pages[-1].cursor))
        assert {r.external_id for p in new_pages for r in p.records} >= {results[0].external_id}

    used = {(x.method, x.path.split("/")[1] if x.path.count("/") > 1 else x.path) for x in sim.exchanges}
    assert {("GET", "posts.json"), ("POST", "posts.json"), ("GET", "categories.json"), ("GET", "t"),
            ("GET", "posts")} <= {(m, p.lstrip("/")) for m, p in used}
    assert any("before=" in x.query_string for x in sim.exchanges)
    assert any(x.path.endswith("/posts.json") and x.path.startswith("/t/") for x in sim.exchanges)
    assert contract_errors(SPEC, sim.exchanges) == []


def test_contract_check_catches_an_off_description_answer() -> None:
    """The check above can fail: an integer ``reply_to_post_number`` (what live sites send) is rejected."""
    _require_spec()
    sim = DiscourseSimulator()
    seed(sim)
    with sim:
        connector = PLUGIN.create(ConnectionInfo("c", sim.base_url, SIM_API_USERNAME, SIM_API_KEY), {})
        list(connector.read_changes("posts", None))
    exchange = sim.calls("GET", "/posts.json")[0]
    assert contract_errors(SPEC, [exchange]) == []
    body = json.loads(exchange.response_body)
    body["latest_posts"][0]["reply_to_post_number"] = 1
    exchange.response_body = json.dumps(body).encode()
    errors = contract_errors(SPEC, [exchange])
    assert len(errors) == 1 and "reply_to_post_number" in errors[0], errors


def _stored(raw: str) -> str:
    return f"{raw.rstrip()}\n\n{idempotency_marker('contract-k')}"


def test_the_harness_finds_live_markup_in_every_hostile_text_left_unescaped() -> None:
    for text in HOSTILE_TEXTS:
        HARNESS.assert_inert(_stored(escape_text(text)), text)
        with pytest.raises(AssertionError):
            HARNESS.assert_inert(_stored(text), text)


@pytest.mark.parametrize("text, spoil", [
    ("ping @everyone", lambda raw: raw.replace("@\u200b", "@")),
    ("see #general", lambda raw: raw.replace("\u200b", "")),
    ("- [ ] approve refund", lambda raw: raw.replace("\\-", "-", 1)),
    ("1. first", lambda raw: raw.replace("\\.", ".")),
    ("# Heading", lambda raw: raw.replace("\\#", "#")),
    ("    indented", lambda raw: raw.replace("\u00a0", " ")),
    ("<b>x</b> &amp;", html.unescape),
    ("![pixel](http://tracker.example/p.png)", lambda raw: raw.replace("\\", "")),
    ("plain words", lambda raw: raw.replace("words", "w\u202eords")),
    ("plain words", lambda raw: raw + " " + idempotency_marker("forged")),
])
def test_the_harness_catches_each_escape_left_out(text: str, spoil: Callable[[str], str]) -> None:
    HARNESS.assert_inert(_stored(escape_text(text)), text)
    with pytest.raises(AssertionError):
        HARNESS.assert_inert(_stored(spoil(escape_text(text))), text)
