"""A rule's `task` routed to Salesforce: Cases made in bulk (sObject collections), filed on the customer's
Contact, and a closed Case's published comment goes back to the customer's thread like a Jira answer."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine

from connectors.salesforce.simmodel import CONTACT_CUSTOM
from connectors.salesforce.simulator import SalesforceSimulator
from continuum.config import HubConfig
from continuum.engine.context import SyncContext
from continuum.engine.run import run_pipeline
from tests.connectors import test_salesforce_connector as salesforce
from tests.engine.fakes import FakeForum

MAPPINGS = Path(__file__).parent / "mappings"
sim = salesforce.sim  # the connector tests' simulator fixture: every answer checked against simple-salesforce


def case_world(db: Engine, sim: SalesforceSimulator) -> tuple[SyncContext, FakeForum]:
    hub = HubConfig.model_validate({
        "systems": {"forum": {"connector": "fake", "connection": "none"},
                    "crm": {"connector": "salesforce", "connection": "crm_default"}},
        "pipelines": {"p": {
            "sources": [{"system": "forum", "stream": "posts", "mapping": str(MAPPINGS / "crmforum.post.yaml")}],
            "targets": [{"system": "crm", "mapping": "salesforce.case.yaml",
                         "comment_mapping": "salesforce.comment.yaml", "stream": "cases"}],
            "reply_mapping": {"forum": str(MAPPINGS / "forum.post.yaml")},
            "routing": [{"name": "chat", "when": {"kind": ["noise"]}, "then": {"action": "ignore"}, "stop": True},
                        {"name": "cases", "when": {"kind": ["feature_request"]},
                         "then": {"action": "task", "route": "crm", "team": "support"}}],
            "crm": {"system": "crm", "mapping": str(MAPPINGS / "sfcrm.contact.yaml"), "timeline": False}}}})
    connector = salesforce.connect(sim, contact_fields=list(CONTACT_CUSTOM))
    forum = FakeForum()
    return SyncContext(db=db, hub=hub, pipeline_name="p", connectors={"forum": forum, "crm": connector}), forum


def replies(forum: FakeForum) -> list[str]:
    return [p["text"] for p in forum.posts if p["author"] == "company"]


def test_cases_are_made_in_bulk_and_a_closed_cases_published_answer_goes_back_once(
        sqlite_db: Engine, sim: SalesforceSimulator) -> None:
    ann = sim.add("Contact", {"FirstName": "Ann", "LastName": "Lee", "Email": "ann@example.com"})
    ctx, forum = case_world(sqlite_db, sim)
    run_pipeline(ctx)  # the Contact joins Ann's customer first: her Cases are filed on it
    forum.post("ann", 1, "Please add dark mode <b>now</b>", email="ann@example.com")
    for n in range(2, 5):
        forum.post(f"user{n}", n, f"Export number {n} to CSV would help")
    run_pipeline(ctx)
    cases = sim.records("Case")
    assert len(cases) == 4
    made = [x for x in sim.calls("POST", "/composite/sobjects")
            if '"Case"' in x.request_body.decode()]
    assert len(made) == 1 and len(json.loads(made[0].request_body)["records"]) == 4  # one collection call
    assert not sim.calls("POST", "/sobjects/Case")  # never one by one
    mine = next(c for c in cases if c["ContactId"] == ann)
    assert mine["Subject"] == "Please add dark mode <b>now</b>" and mine["Origin"] == "Web"  # plain text, as typed
    assert mine["Continuum_Key__c"] and len({c["Continuum_Key__c"] for c in cases}) == 4
    sim.add("CaseComment", {"ParentId": mine["Id"], "CommentBody": "Internal: ask design", "IsPublished": False})
    sim.staff_answer(mine["Id"], "Dark mode ships in 2.4")
    sim.staff_resolve(mine["Id"])
    run_pipeline(ctx)
    run_pipeline(ctx)
    assert replies(forum) == ["Hi Ann Lee: Dark mode ships in 2.4"]  # the internal comment is never sent
    settled = (len(sim.records("Case")), len(sim.records("CaseComment")))
    run_pipeline(ctx)
    assert replies(forum) == ["Hi Ann Lee: Dark mode ships in 2.4"]
    assert (len(sim.records("Case")), len(sim.records("CaseComment"))) == settled  # a re-run writes nothing
