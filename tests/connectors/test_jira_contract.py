"""Every exchange between the Jira connector and the simulator obeys Atlassian's v3 description."""

from __future__ import annotations

import dataclasses
import re

import pytest

from connectors.jira.plugin import PLUGIN, SIM_LOGIN, SIM_TOKEN
from connectors.jira.seed import seed
from connectors.jira.simcontract import SPEC, rfc3339_offsets
from connectors.jira.simulator import JiraSimulator
from continuum.connector import ConnectionInfo, Effect
from continuum.simkit.contract import contract_errors, specs_dir

pytestmark = pytest.mark.contract

_rfc3339 = rfc3339_offsets


def _require_spec() -> None:
    if not (specs_dir() / SPEC).is_file():
        pytest.skip(f"official Jira v3 description not found at {specs_dir() / SPEC}; "
                    "set CONTINUUM_SPECS_DIR or check out ../shared/specs to run contract tests")


def _scenario() -> JiraSimulator:
    sim = JiraSimulator()
    seed(sim)
    with sim:
        conn = ConnectionInfo("contract", sim.base_url, SIM_LOGIN, SIM_TOKEN)
        connector = PLUGIN.create(conn, {"project": "PROD", "page_size": 50})
        connector.check()
        creates = [
            Effect(f"ck-{n:024x}", "create", "issue",
                   {"summary": f"Feedback {n}", "description": f"Post {n}\nsecond line\n\n{{code}}x{{code}}",
                    "labels": ["feedback"], "priority": {"name": "High"}},
                   context={"source_url": f"https://forum.example/t/{n}", "source_title": f"Topic {n}"}
                   if n < 3 else {})
            for n in range(120)
        ]
        created = connector.write(creates)
        assert all(r.ok for r in created), [r.error for r in created if not r.ok]
        first = created[0].external_id
        assert first is not None
        sim.add_staff_comment(first, "Staff note", public=False)
        results = connector.write([
            Effect("cm-1", "comment", "comment", {"body": "Thanks, [~accountid:123] {color:red}x{color}"},
                   target_id=first),
            Effect("tr-1", "transition", "issue", {"status": "Done"}, target_id=first),
            Effect("up-1", "update", "issue", {"description": "Rewritten"}, target_id=created[1].external_id),
            Effect("cm-1", "comment", "comment", {"body": "Thanks"}, target_id=first, maybe_applied=True),
            # A purged post: its ticket's link back to it goes (GET the links, DELETE by globalId).
            Effect("up-2", "update", "issue", {"description": "[deleted by the author]"},
                   target_id=created[2].external_id, context={"drop_source_link": True}),
        ])
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]
        # Recovery of a create: one labels search, then found, not created again.
        again = connector.write([dataclasses.replace(creates[0], maybe_applied=True)])
        assert again[0].found_existing
        pages = list(connector.read_changes("issues", None))
        assert len(pages) == 3
    return sim


def test_connector_traffic_matches_the_official_description() -> None:
    _require_spec()
    sim = _scenario()
    counts = sim.effect_counts()
    assert counts["bulk_calls"] == 3 and counts["created"] == 120
    assert counts["remote_links"] == 3 and counts["comments"] == 1 and counts["transitions"] == 1
    used = {(x.method, re.sub(r"/issue/\d+", "/issue/{id}", x.path)) for x in sim.exchanges}
    assert {("GET", "/rest/api/3/myself"), ("POST", "/rest/api/3/issue/bulk"), ("GET", "/rest/api/3/search/jql"),
            ("POST", "/rest/api/3/issue/{id}/comment"), ("GET", "/rest/api/3/issue/{id}/comment"),
            ("POST", "/rest/api/3/issue/{id}/transitions"), ("GET", "/rest/api/3/issue/{id}/transitions"),
            ("POST", "/rest/api/3/issue/{id}/remotelink"), ("PUT", "/rest/api/3/issue/{id}"),
            ("GET", "/rest/api/3/issue/{id}/remotelink"), ("DELETE", "/rest/api/3/issue/{id}/remotelink")} <= used
    assert any("nextPageToken=" in x.query_string for x in sim.exchanges)
    assert any("expand=properties" in x.query_string for x in sim.exchanges)
    assert contract_errors(SPEC, _rfc3339(sim.exchanges)) == []


def test_only_the_offset_notation_is_rewritten() -> None:
    _require_spec()
    sim = _scenario()
    raw = contract_errors(SPEC, sim.exchanges)
    details = [line for problem in raw for line in problem.splitlines() if line.startswith("  - ")]
    assert raw and details, "expected Jira-style +0000 times in the raw traffic"
    assert all("is not a 'date-time'" in line and "+0000" in line for line in details), raw


def test_contract_check_catches_an_off_description_answer() -> None:
    _require_spec()
    sim = _scenario()
    comment_post = next(x for x in sim.exchanges if x.method == "POST" and x.path.endswith("/comment"))
    body = comment_post.response_body.replace(b'"id": "', b'"id": 1, "x": "')
    broken = dataclasses.replace(comment_post, response_body=body)
    assert contract_errors(SPEC, _rfc3339([broken]))
