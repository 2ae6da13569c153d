"""Every exchange between the Slack connector and the simulator obeys Slack's official description.

Slack's description is Swagger 2.0; ``connectors/slack/simcontract.py``
converts it to OpenAPI 3.1 in memory and states each reading it makes.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from connectors.slack.client import SlackError
from connectors.slack.plugin import PLUGIN, SIM_TOKEN
from connectors.slack.seed import seed
from connectors.slack.simcontract import ADDENDUM, SPEC, slack_contract_errors, to_openapi31
from connectors.slack.simulator import SlackSimulator
from continuum.connector import ConnectionInfo, Effect
from continuum.simkit.contract import specs_dir

pytestmark = pytest.mark.contract


def _require_spec() -> None:
    if not (specs_dir() / SPEC).is_file():
        pytest.skip(f"official Slack Web API description not found at {specs_dir() / SPEC}; "
                    "set CONTINUUM_SPECS_DIR or check out ../shared/specs to run contract tests")


def _scenario() -> SlackSimulator:
    sim = SlackSimulator()
    seed(sim)
    with sim:
        conn = ConnectionInfo("contract", sim.base_url, None, SIM_TOKEN)
        connector = PLUGIN.create(conn, {"default_channel": "#support", "history_page_size": 2})
        connector.check()
        someone = next(u.id for u in sim.users.values() if not u.is_bot)
        results = connector.write([
            Effect("c-1", "notify", "message", {"channel": "#hr", "text": connector.escape_text("<!channel> & <@U1>")}),
            Effect("c-2", "notify", "message", {"text": "*SLA* breach on PROD-7"}),
            Effect("c-3", "notify", "message", {"channel": "amara.okafor@example.com", "text": "A note"},
                   maybe_applied=True),  # an empty DM: history answers "messages": []
            Effect("c-4", "notify", "message", {"channel": "#random", "text": "bot not invited"}),
        ])
        assert [r.ok for r in results] == [True, True, True, False], results
        for n in range(3):
            sim.say("#hr", someone, f"reply {n}")
        again = connector.write([Effect("c-1", "notify", "message", {"channel": "#hr", "text": "x"},
                                        maybe_applied=True)])
        assert again[0].found_existing
        bad = PLUGIN.create(ConnectionInfo("contract", sim.base_url, None, "xoxb-wrong"), {})
        with pytest.raises(SlackError):
            bad.check()
    return sim


def test_connector_traffic_matches_the_official_description() -> None:
    _require_spec()
    sim = _scenario()
    used = {(x.method, x.path) for x in sim.exchanges}
    assert used == {("GET", "/api/auth.test"), ("POST", "/api/chat.postMessage"),
                    ("GET", "/api/conversations.history"), ("GET", "/api/conversations.list"),
                    ("POST", "/api/conversations.open"), ("GET", "/api/users.lookupByEmail")}
    assert any("cursor=" in x.query_string for x in sim.exchanges)  # history paging
    assert any(b'"ok": false' in x.response_body for x in sim.exchanges)  # error answers are checked too
    assert sim.effect_counts()["notifications"] == 3
    assert slack_contract_errors(sim.exchanges) == []


def test_without_the_addendum_only_what_slack_added_since_2020_fails() -> None:
    """The addendum hides nothing else: each raw error names one of its additions."""
    _require_spec()
    sim = _scenario()
    raw = slack_contract_errors(sim.exchanges, with_addendum=False)
    assert raw
    allowed = ("'metadata'", "'include_all_metadata'", "'response_metadata'", "[] should be non-empty")
    for problem in raw:
        lines = problem.splitlines()
        details = lines[1:] or [lines[0]]  # "undocumented ..." problems are one line
        assert all(any(name in line for name in allowed) for line in details), problem
    joined = "\n".join(raw)
    for name in allowed:
        assert name in joined, f"{name} no longer needs the addendum?"
    assert set(ADDENDUM) == {"form_fields", "query_parameters", "message_properties", "history_response",
                             "replies_response"}


def test_contract_check_catches_off_description_traffic() -> None:
    _require_spec()
    sim = _scenario()
    post = next(x for x in sim.exchanges if x.path == "/api/chat.postMessage" and b'"ok": true' in x.response_body)
    assert slack_contract_errors([post]) == []
    body = json.loads(post.response_body)
    body["ts"] = "17900.1"  # not Slack's 0123456789.012345
    errors = slack_contract_errors([dataclasses.replace(post, response_body=json.dumps(body).encode())])
    assert len(errors) == 1 and "does not match" in errors[0] and "['ts']" in errors[0], errors
    unknown_code = json.dumps({"ok": False, "error": "no_such_error"}).encode()
    errors = slack_contract_errors([dataclasses.replace(post, response_body=unknown_code)])
    assert len(errors) == 1 and "no_such_error" in errors[0], errors
    headers = {k: v for k, v in post.request_headers.items() if k != "Authorization"}
    errors = slack_contract_errors([dataclasses.replace(post, request_headers=headers)])
    assert len(errors) == 1 and "Security" in errors[0], errors
    extra = dataclasses.replace(post, request_body=post.request_body + b"&link_names=true&as_robot=1")
    errors = slack_contract_errors([extra])
    assert errors == ["request  POST /api/chat.postMessage? -> 200: undocumented form field 'as_robot'"], errors
    no_channel = dataclasses.replace(post, request_body=b"text=hi")
    assert any("'channel' is a required property" in e for e in slack_contract_errors([no_channel]))


def test_conversion_of_a_swagger_2_method() -> None:
    """The converter's readings, on a tiny hand-made document (no spec file needed)."""
    swagger = {
        "swagger": "2.0", "info": {"title": "t", "version": "1"}, "basePath": "/api",
        "paths": {"/x.post": {"post": {
            "operationId": "x_post",
            "parameters": [
                {"in": "header", "name": "token", "required": True, "type": "string"},
                {"in": "formData", "name": "channel", "required": True, "type": "string"},
                {"in": "formData", "name": "flag", "type": "boolean"},
                {"in": "query", "name": "limit", "type": "integer"},
            ],
            "responses": {
                "200": {"description": "ok", "schema": {"properties": {"ok": {"enum": [True]},
                                                                       "m": {"$ref": "#/definitions/msg"}}}},
                "default": {"description": "err", "schema": {"properties": {"ok": {"enum": [False]}}}},
            },
        }}},
        "definitions": {"msg": {"properties": {"bot_id": {"items": [{"type": "string"}, {"type": "null"}]},
                                               "pair": {"type": "array", "items": [{"type": "integer"}]}}}},
    }
    doc = to_openapi31(swagger, ["/x.post"])
    op = doc["paths"]["/x.post"]["post"]
    assert doc["servers"] == [{"url": "http://localhost/api"}]
    assert [p["name"] for p in op["parameters"]] == ["limit"]  # token dropped: it is the bearer credential
    form = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["channel"] and set(form["properties"]) == {"channel", "flag"}
    assert form["additionalProperties"] is False
    ok_schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert len(ok_schema["oneOf"]) == 2  # errors arrive as HTTP 200 too
    assert ok_schema["oneOf"][0]["properties"]["m"] == {"$ref": "#/components/schemas/msg"}
    msg = doc["components"]["schemas"]["msg"]["properties"]
    assert msg["bot_id"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert msg["pair"] == {"type": "array", "prefixItems": [{"type": "integer"}]}
    assert doc["components"]["securitySchemes"]["slackAuth"] == {"type": "http", "scheme": "bearer"}
    assert op["security"] == [{"slackAuth": []}]
