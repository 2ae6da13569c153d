"""Two-way contact sync against the HubSpot simulator over real HTTP: edits on both sides never echo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from connectors.hubspot.plugin import PLUGIN, SIM_TOKEN
from connectors.hubspot.simulator import HubspotSimulator
from continuum.config import HubConfig
from continuum.connector import ConnectionInfo, Connector, Effect
from continuum.engine.context import SyncContext
from continuum.engine.crm import Seen, plan_contact, synced_fields
from continuum.engine.run import run_pipeline
from continuum.mapping import ConfigError, load_mapping, map_inbound
from continuum.mapping.spec import MappingFile
from continuum.mapping.yamlfile import validate_file
from continuum.store.tables import customers, identities
from continuum.testing.contract import read_all
from tests.engine.fakes import FakeForum


@pytest.fixture
def sim() -> Iterator[HubspotSimulator]:
    with HubspotSimulator() as simulator:
        yield simulator  # type: ignore[misc]


class Hub:
    """The hub's side, as the stage keeps it: canonical values and the last agreed value per contact and field."""

    def __init__(self, connector: Connector, mapping: MappingFile) -> None:
        self.connector, self.mapping, self.fields = connector, mapping, synced_fields(mapping)
        self.values: dict[str, dict[str, Any]] = {}
        self.last: dict[str, dict[str, Seen]] = {}
        self.cursor: dict[str, Any] | None = None
        self.runs = 0

    def sync(self) -> int:
        """One run: read changed contacts, take or write each field; the number of contact fields written."""
        self.runs += 1
        records, self.cursor = read_all(self.connector, "contacts", self.cursor)
        crm_now = {r.external_id: map_inbound(self.mapping, r.payload) for r in records}
        effects = []
        for cid in sorted(set(crm_now) | set(self.values)):
            plan = plan_contact(self.fields, crm_now.get(cid, {}), self.values.get(cid, {}), self.last.get(cid, {}))
            self.values.setdefault(cid, {}).update(plan.take)
            self.last[cid] = plan.last
            if plan.write:
                effects.append(Effect(key=f"crm-{cid}-{self.runs}", action="update_contact", object_type="contact",
                                      fields={"contact_id": cid, "values": plan.write}))
        results = self.connector.write(effects) if effects else []
        assert all(r.ok for r in results), [r.error for r in results]
        return sum(len(e.fields["values"]) for e in effects)


def test_ten_cycles_with_edits_on_both_sides_write_no_echo(sim: HubspotSimulator) -> None:
    ids = [sim.add_contact(f"p{n}@example.com", "P", str(n), twitterhandle=f"p{n}") for n in range(3)]
    connector = PLUGIN.create(ConnectionInfo("hubspot_test", sim.base_url, None, SIM_TOKEN), {"page_size": 2})
    hub = Hub(connector, load_mapping("hubspot.contact.yaml"))
    assert hub.sync() == 0 and hub.values[ids[0]]["handles.x"] == "p0"  # first read: identity in, nothing out
    expected_writes = 0
    for cycle in range(10):
        crm_edit, hub_edit = cycle % 3 == 0, cycle % 2 == 0  # alone, together (a conflict), or neither
        if crm_edit:
            sim.edit_contact(ids[0], twitterhandle=f"crm-{cycle}")
        if hub_edit:
            hub.values[ids[0]]["handles.x"] = f"hub-{cycle}"
            hub.values[ids[1]]["handles.x"] = f"hub1-{cycle}"
            expected_writes += 1 + (0 if crm_edit else 1)  # a conflict on ids[0]: the CRM wins (wins: crm)
        before = sim.effect_counts()["contacts_updated"]
        written = hub.sync()
        assert written == (1 + (0 if crm_edit else 1) if hub_edit else 0), cycle
        assert sim.effect_counts()["contacts_updated"] - before == written
        # The run after: every contact the hub wrote is read again (its stamp moved), and none is written back.
        assert hub.sync() == 0, f"cycle {cycle}: an echo write"
        assert sim.raw_property(ids[0], "twitterhandle") == hub.values[ids[0]]["handles.x"]
        assert sim.raw_property(ids[1], "twitterhandle") == hub.values[ids[1]]["handles.x"]
    assert sim.effect_counts()["contacts_updated"] == expected_writes


def test_direction_rules_name_the_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "crm.contact.yaml"
    bad.write_text("system: crm\nobject: contact\ninbound:\n  handles.x: {path: properties.h, direction: both}\n"
                   "  tier: {template: '{{ 1 }}', direction: out}\n  owner: {path: o, direction: in, wins: crm}\n")
    with pytest.raises(ConfigError) as caught:
        validate_file(MappingFile, bad)
    message = str(caught.value)
    assert "crm.contact.yaml" in message and "handles.x" in message and "wins" in message
    assert "tier" in message and "owner" in message


def test_plan_rules_per_direction() -> None:
    mapping = MappingFile.model_validate({"system": "crm", "object": "contact", "inbound": {
        "email": {"path": "Email"}, "owner": {"path": "OwnerId", "direction": "out"},
        "handles.x": {"path": "X__c", "direction": "both", "wins": "later"}}})
    fields = synced_fields(mapping)
    plan = plan_contact(fields, {"email": "a@x", "owner": "crm-o", "handles.x": "c"},
                        {"email": "old@x", "owner": "hub-o", "handles.x": "h"}, {"handles.x": Seen("z", "z")},
                        crm_is_later=True)
    assert plan.take == {"email": "a@x", "handles.x": "c"} and plan.write == {"OwnerId": "hub-o"}
    plan = plan_contact(fields, {"handles.x": "c"}, {"handles.x": "h"}, {"handles.x": Seen("z", "z")})
    assert plan.write == {"X__c": "h"} and plan.last["handles.x"] == Seen("h", "h")
    # The CRM won a conflict the hub cannot take (a handle): the hub's unchanged value is not sent next run.
    won = plan_contact(fields, {"handles.x": "c"}, {"handles.x": "h"}, {"handles.x": Seen("z", "z")},
                       crm_is_later=True)
    assert won.take == {"handles.x": "c"} and not won.write
    assert not plan_contact(fields, {}, {"handles.x": "h"}, won.last).write
    # The hub's value read back from the CRM is no change: nothing to take, nothing to write.
    echo = plan_contact(fields, {"handles.x": "h"}, {"handles.x": "h"}, plan.last)
    assert not echo.write and not echo.take


# -- the stage in a pipeline run ------------------------------------------------------
MAPPINGS = Path(__file__).parent / "mappings"


def crm_hub(**crm: Any) -> HubConfig:
    return HubConfig.model_validate({
        "systems": {"forum": {"connector": "fake", "connection": "none"},
                    "crm": {"connector": "hubspot", "connection": "crm_default"}},
        "pipelines": {"p": {
            "sources": [{"system": "forum", "stream": "posts", "mapping": str(MAPPINGS / "crmforum.post.yaml")}],
            "routing": [{"name": "chat", "when": {"kind": ["noise"]}, "then": {"action": "ignore"}, "stop": True}],
            "crm": {"system": "crm", "mapping": str(MAPPINGS / "crm.contact.yaml"), **crm}}}})


def crm_world(db: Engine, sim: HubspotSimulator, **crm: Any) -> tuple[SyncContext, FakeForum]:
    forum = FakeForum()
    connector = PLUGIN.create(ConnectionInfo("crm_default", sim.base_url, None, SIM_TOKEN), {})
    return SyncContext(db=db, hub=crm_hub(**crm), pipeline_name="p",
                       connectors={"forum": forum, "crm": connector}), forum


def hub_writes(sim: HubspotSimulator) -> dict[str, int]:
    counts = sim.effect_counts()
    return {k: counts[k] for k in ("contacts_created", "contacts_updated", "notes")}


def test_a_run_joins_contacts_logs_kept_interactions_once_and_writes_back_handles(
        sqlite_db: Engine, sim: HubspotSimulator) -> None:
    ann = sim.add_contact("ann@example.com", "Ann", "Lee", lifecyclestage="customer")
    ctx, forum = crm_world(sqlite_db, sim, unknown_authors="contact")
    forum.post("ann", 1, "Please add dark mode", email="ann@example.com")
    forum.post("ann", 2, "lol nice weather", category="chat", email="ann@example.com")  # ignored: no entry
    forum.post("bob", 3, "Export to CSV would help")  # nobody the CRM knows: a new contact
    stats = run_pipeline(ctx)
    assert stats.counts.get("dead_lettered") is None, stats.counts
    with sqlite_db.connect() as conn:
        owners = {(r.system, r.account_id): r.customer_id for r in conn.execute(select(identities))}
        tier = conn.execute(select(customers.c.tier).where(customers.c.id == owners[("forum", "ann")])).scalar()
    assert owners[("crm", ann)] == owners[("forum", "ann")]  # the same verified e-mail: one customer
    assert tier == "customer"  # the CRM's lifecycle stage is the customer's tier (mapping: tier)
    contacts = {c["id"]: c for c in sim.objects("contacts")}
    bob = next(cid for cid in contacts if cid != ann)
    assert owners[("crm", bob)] == owners[("forum", "bob")]
    assert sim.raw_property(bob, "firstname") == "bob"
    notes = sim.objects("notes")
    assert sorted(n["associations"]["contacts"][0][0] for n in notes) == sorted([int(ann), int(bob)])
    assert any("Please add dark mode" in str(sim.raw_property(n["id"], "hs_note_body")) for n in notes)
    assert not any("weather" in str(sim.raw_property(n["id"], "hs_note_body")) for n in notes)
    # What the hub learned on the forum goes to the contacts' handle field (both ways, nobody set it in HubSpot):
    # to Ann's at once, to Bob's new contact when the next run reads it.
    assert sim.raw_property(ann, "twitterhandle") == "ann"
    assert sim.raw_property(ann, "continuum_first_channel") == "forum"  # where the hub first heard from her
    run_pipeline(ctx)
    assert sim.raw_property(bob, "twitterhandle") == "bob"
    after_first = hub_writes(sim)
    assert after_first == {"contacts_created": 1, "contacts_updated": 2, "notes": 2}
    for _ in range(3):  # re-runs read the written contacts back and write nothing new
        again = run_pipeline(ctx)
        assert hub_writes(sim) == after_first, again.counts
    sim.edit_contact(ann, twitterhandle="ann_sales")  # sales' edit wins (wins: crm) and is not written over
    forum.post("ann", 4, "And a CSV export too", email="ann@example.com")
    run_pipeline(ctx)
    run_pipeline(ctx)
    assert sim.raw_property(ann, "twitterhandle") == "ann_sales"
    assert hub_writes(sim) == {**after_first, "notes": 3}


def test_unknown_authors_none_creates_no_contact_and_logs_nothing_for_them(sqlite_db: Engine,
                                                                          sim: HubspotSimulator) -> None:
    ctx, forum = crm_world(sqlite_db, sim, unknown_authors="none", timeline=True)
    forum.post("bob", 3, "Export to CSV would help")
    run_pipeline(ctx)
    assert hub_writes(sim) == {"contacts_created": 0, "contacts_updated": 0, "notes": 0}


def test_a_lead_rule_makes_a_lead(sqlite_db: Engine, sim: HubspotSimulator) -> None:
    ctx, forum = crm_world(sqlite_db, sim, unknown_authors="lead")
    forum.post("bob", 3, "Export to CSV would help")
    run_pipeline(ctx)
    (contact,) = sim.objects("contacts")
    assert sim.raw_property(contact["id"], "lifecyclestage") == "lead"
    assert sim.raw_property(contact["id"], "hs_lead_status") == "NEW"  # in sales' queue of new leads
    assert sim.raw_property(contact["id"], "firstname") == "bob"


def test_a_case_routed_to_the_crm_is_a_ticket_and_its_public_answer_goes_back(sqlite_db: Engine,
                                                                              sim: HubspotSimulator) -> None:
    config = crm_hub().model_dump()
    pipeline = config["pipelines"]["p"]
    pipeline["crm"]["timeline"] = False
    pipeline["targets"] = [{"system": "crm", "mapping": "hubspot.ticket.yaml",
                            "comment_mapping": "hubspot.comment.yaml", "stream": "tickets"}]
    pipeline["reply_mapping"] = {"forum": str(MAPPINGS / "forum.post.yaml")}
    pipeline["routing"].append({"name": "cases", "when": {"kind": ["feature_request"]}, "then": {"route": "crm"}})
    forum = FakeForum()
    connector = PLUGIN.create(ConnectionInfo("crm_default", sim.base_url, None, SIM_TOKEN), {})
    ctx = SyncContext(db=sqlite_db, hub=HubConfig.model_validate(config), pipeline_name="p",
                      connectors={"forum": forum, "crm": connector})
    ann = sim.add_contact("ann@example.com", "Ann", "Lee")
    forum.post("ann", 1, "Please add <b>dark</b> mode", email="ann@example.com")
    run_pipeline(ctx)  # the contact joins Ann after her ticket was filed: the next case is filed on her contact
    forum.post("ann", 5, "And a CSV export", email="ann@example.com")
    run_pipeline(ctx)
    first, second = sim.objects("tickets")
    assert "contacts" not in first["associations"] and second["associations"]["contacts"] == [(int(ann), 16)]
    ticket = first
    assert ticket["properties"]["subject"] == "Please add <b>dark</b> mode"  # a plain-text property: literal
    assert "&lt;b&gt;dark&lt;/b&gt;" in str(sim.raw_property(ticket["id"], "content"))
    sim.staff_note(ticket["id"], "Internal: ask design")  # internal: never sent
    sim.staff_answer(ticket["id"], "Dark mode ships in 2.4")
    sim.close_ticket(ticket["id"])
    run_pipeline(ctx)
    run_pipeline(ctx)
    replies = [p for p in forum.posts if p["author"] == "company"]
    assert [r["text"] for r in replies] == ["Hi Ann Lee: Dark mode ships in 2.4"]  # the CRM's name for her
    run_pipeline(ctx)
    assert len(sim.objects("tickets")) == 2 and len([p for p in forum.posts if p["author"] == "company"]) == 1


def test_erasing_a_customer_forgets_what_the_crm_sync_kept_about_them(sqlite_db: Engine,
                                                                     sim: HubspotSimulator) -> None:
    from continuum.store.erasure import forget_person
    from continuum.store.tables import crm_fields

    ann = sim.add_contact("ann@example.com", "Ann", "Lee", twitterhandle="ann_x")
    ctx, forum = crm_world(sqlite_db, sim)
    forum.post("ann", 1, "Please add dark mode", email="ann@example.com")
    run_pipeline(ctx)
    with sqlite_db.connect() as conn:
        kept = conn.execute(select(crm_fields.c.crm_value).where(crm_fields.c.contact_id == ann)).scalars().all()
        customer = conn.execute(select(identities.c.customer_id).where(identities.c.account_id == ann)).scalar()
    assert "ann_x" in kept and customer is not None
    with sqlite_db.begin() as conn:  # what `continuum erase` does to the person's own rows
        assert forget_person(conn, [customer])["crm_fields"] >= 1
    with sqlite_db.connect() as conn:
        assert conn.execute(select(crm_fields)).first() is None


def test_ten_pipeline_runs_with_renames_and_sales_edits_write_no_echo(sqlite_db: Engine,
                                                                     sim: HubspotSimulator) -> None:
    """The hub's side changes when the member renames themselves on the forum; sales edit the handle in
    HubSpot; some cycles both (the CRM wins: `wins: crm`).  Each write is one the other side did not have."""
    ann = sim.add_contact("ann@example.com", "Ann", "Lee")
    ctx, forum = crm_world(sqlite_db, sim)
    forum.post("ann", 1, "Please add dark mode", email="ann@example.com")
    run_pipeline(ctx)
    assert sim.raw_property(ann, "twitterhandle") == "ann"
    writes, expected = sim.effect_counts()["contacts_updated"], 1
    for cycle in range(10):
        renamed, edited = cycle % 2 == 0, cycle % 3 == 0
        if renamed:
            forum.post("ann", 10 + cycle, f"Still waiting ({cycle})", email="ann@example.com", handle=f"ann-{cycle}")
        if edited:
            sim.edit_contact(ann, twitterhandle=f"sales-{cycle}")
        run_pipeline(ctx)
        expected += 1 if renamed and not edited else 0
        assert sim.effect_counts()["contacts_updated"] == expected, cycle
        want = f"sales-{cycle}" if edited else f"ann-{cycle}" if renamed else None
        if want:
            assert sim.raw_property(ann, "twitterhandle") == want, cycle
        run_pipeline(ctx)  # the contact the hub wrote is read back: no write
        assert sim.effect_counts()["contacts_updated"] == expected, f"cycle {cycle}: an echo write"
    assert expected - writes == 3  # cycles 2, 4 and 8: a rename nobody contradicted


def test_a_timeline_backlog_goes_in_batches_within_one_run(sqlite_db: Engine, sim: HubspotSimulator,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from continuum.store import crm as crm_store

    monkeypatch.setattr(crm_store, "BATCH", 2)
    ann = sim.add_contact("ann@example.com", "Ann", "Lee")
    ctx, forum = crm_world(sqlite_db, sim)
    for n in range(5):
        forum.post("ann", n + 1, f"Request number {n}", email="ann@example.com")
    stats = run_pipeline(ctx)
    assert stats.counts["crm_log_planned"] == 5 and len(sim.objects("notes")) == 5
    assert all(n["associations"]["contacts"] == [(int(ann), 202)] for n in sim.objects("notes"))


def test_a_deleted_interactions_unsent_timeline_entry_is_cancelled_and_blanked(sqlite_db: Engine,
                                                                              sim: HubspotSimulator) -> None:
    from continuum.store.deletions import purge_interaction
    from continuum.store.tables import interactions, outbox

    sim.add_contact("ann@example.com", "Ann", "Lee")
    ctx, forum = crm_world(sqlite_db, sim)
    forum.post("ann", 1, "My card number is 4111 1111", email="ann@example.com")
    sim.inject("500", times=20, path_contains="/notes/batch/create")  # HubSpot fails: the entry waits
    run_pipeline(ctx)
    assert sim.objects("notes") == []
    with sqlite_db.begin() as conn:
        row = conn.execute(select(interactions)).mappings().one()
        purge_interaction(conn, dict(row))  # type: ignore[arg-type]
        entry = conn.execute(select(outbox).where(outbox.c.action == "log")).mappings().one()
    assert entry["state"] == "cancelled" and "4111" not in str(entry["payload"])
    sim.faults.queued.clear()
    run_pipeline(ctx)
    assert sim.objects("notes") == []  # never sent, and not planned again


def test_erase_deletes_the_timeline_entries_and_the_contact_never_brings_them_back(
        sqlite_db: Engine, sim: HubspotSimulator) -> None:
    from continuum.engine.apply import apply_effects
    from continuum.ops.gdpr import erase

    ann = sim.add_contact("ann@example.com", "Ann", "Lee", twitterhandle="ann_x")
    other = sim.add_contact("bo@example.com", "Bo", "Ng")
    ctx, forum = crm_world(sqlite_db, sim)
    forum.post("ann", 1, "Please add dark mode", email="ann@example.com")
    forum.post("ann", 2, "And a CSV export", email="ann@example.com")
    forum.post("bo", 3, "Webhooks would help", email="bo@example.com")
    run_pipeline(ctx)
    assert len(sim.objects("notes")) == 3
    with sqlite_db.connect() as conn:
        customer = conn.execute(select(identities.c.customer_id).where(identities.c.account_id == ann)).scalar_one()

    def send(hub: HubConfig, db: Engine, systems: list[tuple[str, str]]) -> dict[str, Any]:
        # The test's forum is a fake no registry builds: apply with the run's own connectors.
        return {f"{p}/{s}": dict(apply_effects(ctx, s).counts) for p, s in systems}

    planned = erase(sqlite_db, ctx.hub, customer, dry_run=True, send=send, contexts={"p": ctx})
    assert {(u["system"], u["action"]) for u in planned["updates"]} == {("crm", "delete entry")}
    assert len(sim.objects("notes")) == 3  # a dry run sends nothing
    done = erase(sqlite_db, ctx.hub, customer, send=send, contexts={"p": ctx})
    notes = sim.objects("notes")
    assert len(notes) == 1 and "Webhooks" in str(sim.raw_property(notes[0]["id"], "hs_note_body"))  # Bo's stays
    assert ("crm", "contact") in {(i["system"], i["action"]) for i in done["not_erased_remotely"]}
    sim.edit_contact(ann, twitterhandle="ann_again")  # the contact changes: the next read sees it again
    run_pipeline(ctx)
    with sqlite_db.connect() as conn:
        assert conn.execute(select(identities.c.customer_id).where(identities.c.account_id == ann)).first() is None
        assert conn.execute(select(customers.c.display_name).where(customers.c.display_name.like("%Ann%"))
                            ).first() is None
    assert len(sim.objects("notes")) == 1 and other
