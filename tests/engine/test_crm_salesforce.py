"""The CRM stage with Salesforce, over real HTTP(S) to its simulator: the same stage as HubSpot's, no code of its
own: contacts join customers by e-mail, each kept interaction is one Task, the handle goes back, re-runs write
nothing, and an unknown author becomes a Contact (or a Lead)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from connectors.salesforce.simmodel import CONTACT_CUSTOM
from connectors.salesforce.simulator import SalesforceSimulator
from continuum.config import HubConfig
from continuum.engine.context import SyncContext
from continuum.engine.run import run_pipeline
from continuum.mapping import load_mapping
from continuum.store.tables import customers, identities
from tests.connectors import test_salesforce_connector as salesforce
from tests.engine.fakes import FakeForum

MAPPINGS = Path(__file__).parent / "mappings"
sim = salesforce.sim  # the connector tests' simulator fixture: every answer checked against simple-salesforce


def world(db: Engine, sim: SalesforceSimulator, **crm: Any) -> tuple[SyncContext, FakeForum]:
    hub = HubConfig.model_validate({
        "systems": {"forum": {"connector": "fake", "connection": "none"},
                    "crm": {"connector": "salesforce", "connection": "crm_default"}},
        "pipelines": {"p": {
            "sources": [{"system": "forum", "stream": "posts", "mapping": str(MAPPINGS / "crmforum.post.yaml")}],
            "routing": [{"name": "chat", "when": {"kind": ["noise"]}, "then": {"action": "ignore"}, "stop": True}],
            "crm": {"system": "crm", "mapping": str(MAPPINGS / "sfcrm.contact.yaml"), **crm}}}})
    connector = salesforce.connect(sim, contact_fields=list(CONTACT_CUSTOM))
    forum = FakeForum()
    return SyncContext(db=db, hub=hub, pipeline_name="p", connectors={"forum": forum, "crm": connector}), forum


def writes(sim: SalesforceSimulator) -> dict[str, int]:
    return {"tasks": len(sim.records("Task")), "contacts": len(sim.records("Contact")),
            "leads": len(sim.records("Lead")), "updated": sim.effect_counts().get("updated", 0)}


def field(sim: SalesforceSimulator, sobject: str, record_id: str, name: str) -> Any:
    return next(r for r in sim.records(sobject) if r["Id"] == record_id).get(name)


def test_contacts_join_tasks_are_logged_once_and_the_handle_goes_back(sqlite_db: Engine,
                                                                     sim: SalesforceSimulator) -> None:
    ann = sim.add("Contact", {"FirstName": "Ann", "LastName": "Lee", "Email": "ann@example.com",
                              "Continuum_Tier__c": "vip"})
    ctx, forum = world(sqlite_db, sim, unknown_authors="contact")
    forum.post("ann", 1, "Please add dark mode", email="ann@example.com")
    forum.post("ann", 2, "lol nice weather", category="chat", email="ann@example.com")  # ignored: no Task
    forum.post("bob", 3, "Export to CSV would help")  # nobody sales knows: a new Contact
    run_pipeline(ctx)
    with sqlite_db.connect() as conn:
        owners = {(r.system, r.account_id): r.customer_id for r in conn.execute(select(identities))}
        tier = conn.execute(select(customers.c.tier).where(customers.c.id == owners[("forum", "ann")])).scalar()
    assert owners[("crm", ann)] == owners[("forum", "ann")] and tier == "vip"
    (bob,) = [r["Id"] for r in sim.records("Contact") if r["Id"] != ann]
    assert field(sim, "Contact", bob, "LastName") == "bob" and field(sim, "Contact", bob, "LeadSource") == "Continuum"
    tasks = sim.records("Task")
    assert sorted(t["WhoId"] for t in tasks) == sorted([ann, bob])
    assert any("Please add dark mode" in (t["Description"] or "") for t in tasks)
    assert not any("weather" in (t["Description"] or "") for t in tasks)
    assert field(sim, "Contact", ann, "Twitter_Handle__c") == "ann"
    assert field(sim, "Contact", ann, "Continuum_First_Channel__c") == "forum"
    run_pipeline(ctx)  # Bob's new Contact is read back: his handle goes to it
    assert field(sim, "Contact", bob, "Twitter_Handle__c") == "bob"
    settled = writes(sim)
    for _ in range(3):
        run_pipeline(ctx)
        assert writes(sim) == settled  # re-runs read the written contacts back and write nothing
    sim.edit("Contact", ann, {"Twitter_Handle__c": "ann_sales"})  # sales' edit wins (wins: crm)
    forum.post("ann", 4, "And a CSV export too", email="ann@example.com")
    run_pipeline(ctx)
    run_pipeline(ctx)
    assert field(sim, "Contact", ann, "Twitter_Handle__c") == "ann_sales"
    assert writes(sim) == {**settled, "tasks": settled["tasks"] + 1}


def test_a_lead_rule_makes_a_lead_with_its_task(sqlite_db: Engine, sim: SalesforceSimulator) -> None:
    ctx, forum = world(sqlite_db, sim, unknown_authors="lead")
    forum.post("bob", 3, "Export to CSV would help")
    run_pipeline(ctx)
    run_pipeline(ctx)  # the Lead is read back (a contact of the `contacts` stream): the Task follows
    (lead,) = sim.records("Lead")
    assert lead["LastName"] == "bob" and not sim.records("Contact")
    assert [t["WhoId"] for t in sim.records("Task")] == [lead["Id"]]


def test_the_shipped_mapping_loads_and_names_the_custom_fields() -> None:
    mapping = load_mapping("salesforce.contact.yaml")
    paths = {name: spec.path for name, spec in mapping.inbound.items()}
    assert {paths["handles.x"], paths["first_channel"], paths["tier"]} == set(CONTACT_CUSTOM)
