"""HubspotConnector against the HubSpot simulator over real HTTP: what the shared contract suite does not cover.

Every exchange of every test here loads into the official hubspot-api-client's models (requests and answers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.hubspot.connector import HubspotConnector
from connectors.hubspot.markup import escape_text, plain
from connectors.hubspot.plugin import PLUGIN, SIM_TOKEN
from connectors.hubspot.simcontract import model_errors
from connectors.hubspot.simulator import HubspotSimulator
from continuum.connector import ConnectionInfo, Effect
from continuum.testing.contract import read_all


@pytest.fixture
def sim() -> Iterator[HubspotSimulator]:
    simulator = HubspotSimulator()
    with simulator:
        yield simulator
        problems = model_errors(simulator.exchanges)
        assert not problems, "\n".join(problems[:5])


def connect(sim: HubspotSimulator, **options: Any) -> HubspotConnector:
    connector = PLUGIN.create(ConnectionInfo("hubspot_test", sim.base_url, None, SIM_TOKEN), options)
    assert isinstance(connector, HubspotConnector)
    return connector


def log(key: str, contact: str, body: str = "Where is my refund?", **more: Any) -> Effect:
    return Effect(key=key, action="log", object_type="note", fields={
        "contact_id": contact, "subject": "Question on X", "body": body, "occurred_at": "2026-11-02T10:00:00+01:00",
        "channel": "x", "link": "https://x.com/dana/status/1", **more})


def test_contacts_are_read_incrementally_with_edits_read_again(sim: HubspotSimulator) -> None:
    ids = [sim.add_contact(f"c{n}@example.com", "C", str(n)) for n in range(25)]
    connector = connect(sim, page_size=10)
    first, cursor = read_all(connector, "contacts", None)
    assert sorted(r.external_id for r in first) == sorted(ids)
    assert all(r.object_type == "contact" and r.version for r in first)
    assert first[0].payload["properties"]["email"] == "c0@example.com"
    again, _ = read_all(connect(sim), "contacts", cursor)
    assert again == []
    sim.edit_contact(ids[3], twitterhandle="c3_on_x")
    later, _ = read_all(connect(sim), "contacts", cursor)
    assert [r.external_id for r in later] == [ids[3]]
    assert later[0].payload["properties"]["twitterhandle"] == "c3_on_x"
    searches = sim.calls("POST", "/contacts/search")
    assert all('"sorts": [{"propertyName": "lastmodifieddate"' in x.request_body.decode() for x in searches)


def test_timeline_notes_go_in_bulk_100_a_call_and_a_retry_writes_none_twice(sim: HubspotSimulator) -> None:
    contact = sim.add_contact("dana@example.com", "Dana", "Whitfield")
    connector = connect(sim)
    effects = [log(f"log-{n}", contact) for n in range(150)]
    results = connector.write(effects)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    assert [r.key for r in results] == [e.key for e in effects]
    assert len(sim.calls("POST", "/notes/batch/create")) == 2
    notes = sim.objects("notes")
    assert len(notes) == 150 and all(n["associations"]["contacts"] == [(int(contact), 202)] for n in notes)
    assert {sim.raw_property(r.external_id or "", "continuum_key") for r in results} == {e.key for e in effects}
    retry = connector.write([Effect(**{**e.__dict__, "maybe_applied": True}) for e in effects[:120]])
    assert all(r.ok and r.found_existing for r in retry)
    assert [r.external_id for r in retry] == [r.external_id for r in results[:120]]
    assert len(sim.objects("notes")) == 150
    body = str(sim.raw_property(results[0].external_id or "", "hs_note_body"))
    assert body.startswith("<p><strong>Question on X</strong> (x)</p>") and 'href="https://x.com/dana/status/1"' in body
    assert sim.raw_property(results[0].external_id or "", "hs_timestamp") == "2026-11-02T09:00:00.000Z"


def test_a_note_for_an_unknown_contact_fails_alone(sim: HubspotSimulator) -> None:
    contact = sim.add_contact("dana@example.com")
    results = connect(sim).write([log("a", contact), log("b", "not-an-id"), log("c", contact, body="  ")])
    assert [r.ok for r in results] == [True, False, False]
    assert "contact_id" in (results[1].error or "") and "body" in (results[2].error or "")


def test_contact_updates_go_in_bulk_and_an_unknown_id_does_not_sink_the_batch(sim: HubspotSimulator) -> None:
    ids = [sim.add_contact(f"u{n}@example.com") for n in range(120)]
    connector = connect(sim)
    effects = [Effect(key=f"up-{i}", action="update_contact", object_type="contact",
                      fields={"contact_id": cid, "values": {"twitterhandle": f"h{i}"}}) for i, cid in enumerate(ids)]
    results = connector.write(effects)
    assert all(r.ok for r in results) and [r.external_id for r in results] == ids
    assert len(sim.calls("POST", "/contacts/batch/update")) == 2
    assert sim.raw_property(ids[7], "twitterhandle") == "h7"
    mixed = connector.write([Effect(key="x1", action="update_contact", object_type="contact",
                                    fields={"contact_id": ids[0], "values": {"firstname": "Ann"}}),
                             Effect(key="x2", action="update_contact", object_type="contact",
                                    fields={"contact_id": "999999", "values": {"firstname": "Ghost"}})])
    assert [r.ok for r in mixed] == [True, False]
    assert sim.raw_property(ids[0], "firstname") == "Ann"


def test_create_contact_lead_rule_retry_and_an_existing_email(sim: HubspotSimulator) -> None:
    existing = sim.add_contact("known@example.com", "Known")
    connector = connect(sim)
    made = connector.write([Effect(key="new-1", action="create_contact", object_type="contact",
                                   fields={"values": {"email": "new@example.com", "firstname": "New"},
                                           "kind": "lead"})])[0]
    assert made.ok and made.external_id
    assert sim.raw_property(made.external_id, "lifecyclestage") == "lead"
    again = connector.write([Effect(key="new-1", action="create_contact", object_type="contact", maybe_applied=True,
                                    fields={"values": {"email": "new@example.com"}})])[0]
    assert again.found_existing and again.external_id == made.external_id
    twin = connector.write([Effect(key="new-2", action="create_contact", object_type="contact",
                                   fields={"values": {"email": "known@example.com"}})])[0]
    assert twin.ok and twin.found_existing and twin.external_id == existing
    assert len(sim.objects("contacts")) == 2


def test_a_ticket_is_made_once_and_its_status_and_public_answer_are_read_back(sim: HubspotSimulator) -> None:
    contact = sim.add_contact("dana@example.com")
    connector = connect(sim)
    effect = Effect(key="case-1", action="create", object_type="ticket",
                    fields={"subject": "Refund <b>missing</b>", "content": escape_text("Paid twice <script>")},
                    context={"contact_id": contact})
    made = connector.write([effect])[0]
    assert made.ok and made.external_id
    again = connector.write([Effect(**{**effect.__dict__, "maybe_applied": True})])[0]
    assert again.found_existing and again.external_id == made.external_id
    ticket = next(t for t in sim.objects("tickets"))
    assert ticket["properties"]["subject"] == "Refund missing" and ticket["associations"]["contacts"][0][1] == 16
    records, cursor = read_all(connector, "tickets", None)
    assert [(r.object_type, r.payload["continuum"]["status"], r.own_key) for r in records] == [
        ("ticket", "open", "case-1")]
    sim.staff_note(made.external_id, "Checking with finance")
    sim.staff_answer(made.external_id, "Refunded &lt;today&gt;")
    sim.close_ticket(made.external_id)
    note = connector.write([Effect(key="cmt-1", action="comment", object_type="comment",
                                   target_id=made.external_id, fields={"body": "Customer added more"})])[0]
    assert note.ok
    later, _ = read_all(connector, "tickets", cursor)
    ticket_rows = [r for r in later if r.object_type == "ticket"]
    comments = [r.payload["continuum"] for r in later if r.object_type == "comment"]
    assert [r.payload["continuum"]["status"] for r in ticket_rows] == ["closed"]
    assert comments == [{"text": "Checking with finance", "public": False, "ticket_id": made.external_id},
                        {"text": "Refunded <today>", "public": True, "ticket_id": made.external_id}]


def test_html_escaping_is_literal() -> None:
    text = "<b>hi</b> & \u202eevil\r\nnext"
    assert escape_text(text) == "&lt;b&gt;hi&lt;/b&gt; &amp; evil<br>next"
    assert plain(f"<p>{escape_text(text)}</p>") == "<b>hi</b> & evil\nnext"


def test_bad_token_names_hubspot_and_not_the_token(sim: HubspotSimulator) -> None:
    connector = PLUGIN.create(ConnectionInfo("hubspot_test", sim.base_url, None, "pat-wrong-77"), {})
    with pytest.raises(Exception) as caught:
        connector.check()
    assert "hubspot" in str(caught.value) and "pat-wrong-77" not in str(caught.value)


def test_find_keys_names_the_hubs_tickets_by_key(sim: HubspotSimulator) -> None:
    connector = connect(sim)
    made = [connector.write([Effect(key=f"case-{n}", action="create", object_type="ticket",
                                    fields={"subject": f"Case {n}"})])[0] for n in range(3)]
    found = connector.find_keys(["case-0", "case-2", "never-made"])
    assert {k: v["id"] for k, v in found.items()} == {"case-0": made[0].external_id, "case-2": made[2].external_id}


def test_an_import_of_many_contacts_at_one_moment_pages_through_and_re_reads_nothing(sim: HubspotSimulator) -> None:
    before = sim.add_contact("first@example.com")
    imported = sim.import_contacts([f"i{n}@example.com" for n in range(25)])  # more than a page at one stamp
    after = sim.add_contact("last@example.com")
    records, cursor = read_all(connect(sim, page_size=10), "contacts", None)
    assert sorted(r.external_id for r in records) == sorted([before, *imported, after])
    assert len(records) == 27  # each once
    sim.edit_contact(imported[4], firstname="Edited")
    again, _ = read_all(connect(sim, page_size=10), "contacts", cursor)
    assert [r.external_id for r in again] == [imported[4]]


def test_a_spent_daily_budget_stops_cleanly_before_the_next_call(sim: HubspotSimulator) -> None:
    from continuum.kit import RateLimitExhausted

    for n in range(30):
        sim.add_contact(f"d{n}@example.com")
    sim.daily_limit = 2
    connector = connect(sim, page_size=10)
    pages = connector.read_changes("contacts", None)
    assert len(next(pages).records) == 10
    assert len(next(pages).records) == 9  # a fresh search from the mark: the one at the mark is not new
    # ... and that answer said the day is spent (remaining 0)
    calls = sim.effect_counts()["calls"]
    with pytest.raises(RateLimitExhausted):
        next(pages)
    assert sim.effect_counts()["calls"] == calls  # refused before sending, not a 429


def test_erasure_archives_notes_100_a_call_and_one_already_gone_is_done(sim: HubspotSimulator) -> None:
    contact = sim.add_contact("dana@example.com", "Dana", "Whitfield")
    connector = connect(sim)
    made = connector.write([log(f"log-{n}", contact) for n in range(130)])
    deletes = [Effect(f"del-{n}", "delete_log", "note", {}, target_id=r.external_id) for n, r in enumerate(made)]
    assert all(r.ok for r in connector.write(deletes[:1]))
    done = connector.write([*deletes, Effect("del-bad", "delete_log", "note", {}, target_id="nope")])
    assert all(r.ok for r in done[:-1]) and not done[-1].ok and "nope" in (done[-1].error or "")
    assert sim.objects("notes") == [] and sim.effect_counts()["archived"] == 130
    assert len(sim.calls("POST", "/notes/batch/archive")) == 3  # 1, then 100 + 30 (the first again: no error)
