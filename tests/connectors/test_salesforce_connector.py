"""SalesforceConnector against the Salesforce simulator over real HTTP: what the shared contract suite does not
cover (equal stamps, collections of 200, a bad record alone, retries by key, Cases and answers, limits, SOQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.salesforce.contract import HARNESS
from connectors.salesforce.plugin import PLUGIN, SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_PASSWORD, SIM_USERNAME
from connectors.salesforce.simmodel import KEY
from connectors.salesforce.simsoql import SoqlError, parse
from connectors.salesforce.simtls import certificate
from connectors.salesforce.simulator import SalesforceSimulator
from continuum.connector import ConnectionInfo, Effect
from continuum.http import RetryPolicy
from continuum.kit.dispatch import Deferred
from continuum.kit.errors import is_auth_error
from continuum.kit.ratelimit import RateLimitExhausted, spent_counts
from continuum.testing.contract import read_all


@pytest.fixture
def sim() -> Iterator[SalesforceSimulator]:
    simulator = SalesforceSimulator()
    with simulator:
        yield simulator
        HARNESS.check_exchanges(simulator)  # every answer is what simple-salesforce parses


def connect(sim: SalesforceSimulator, username: str | None = SIM_USERNAME, password: str = SIM_PASSWORD,
            policy: RetryPolicy | None = None, **options: Any) -> Any:
    conn = ConnectionInfo("salesforce_test", sim.base_url, username, password,
                          {"client_id": SIM_CLIENT_ID, "client_secret": SIM_CLIENT_SECRET,
                           "ca_bundle": str(certificate()[0])})
    return PLUGIN.create(conn, options)


def contact(sim: SalesforceSimulator, n: int = 0) -> str:
    return sim.add("Contact", {"FirstName": "Ada", "LastName": f"Lovelace {n}", "Email": f"ada{n}@example.com"})


def log(n: int, who: str, body: str = "Asked about the invoice", **fields: Any) -> Effect:
    return Effect(f"sf-key-{n:05d}", "log", "task", {"contact_id": who, "subject": f"Support chat {n}", "body": body,
                                                     "occurred_at": "2026-03-01T10:00:00Z", "channel": "chat",
                                                     "link": f"https://hub.example/i/{n}", **fields})


def collection_calls(sim: SalesforceSimulator, method: str) -> int:
    return len([x for x in sim.exchanges if x.method == method and x.path.endswith("/composite/sobjects")])


# -- reading ---------------------------------------------------------------------------
def test_equal_stamps_are_neither_lost_nor_read_twice(sim: SalesforceSimulator) -> None:
    sim.frozen_stamp = datetime(2026, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)  # every change at the same millisecond
    first_ids = {contact(sim, n) for n in range(250)}  # more than a 200-record batch, all at one stamp
    connector = connect(sim)
    records, cursor = read_all(connector, "contacts", None)
    assert {r.external_id for r in records if r.object_type == "contact"} == first_ids
    assert len(records) == len({r.external_id for r in records})
    assert cursor is not None and sorted(cursor["contact"]["ids"]) == sorted(first_ids)
    later = {contact(sim, n) for n in range(250, 253)}  # arrive later, yet at the very same stamp
    again, cursor2 = read_all(connect(sim), "contacts", cursor)
    assert {r.external_id for r in again} == later, "equal stamps: lost or repeated records"
    nothing, _ = read_all(connect(sim), "contacts", cursor2)
    assert nothing == []


def test_contacts_then_leads_with_versions_and_paging(sim: SalesforceSimulator) -> None:
    ids = [contact(sim, n) for n in range(3)]
    lead = sim.add("Lead", {"LastName": "Turing", "Company": "Bletchley", "Email": "alan@example.com"})
    records, cursor = read_all(connect(sim), "contacts", None)
    assert [(r.object_type, r.external_id) for r in records] == [*(("contact", i) for i in ids), ("lead", lead)]
    assert all(r.version == r.payload["SystemModstamp"] for r in records)
    queries = [x.query_string for x in sim.exchanges if x.path.endswith("/query/")]
    assert any("ORDER+BY+SystemModstamp%2C+Id" in q or "ORDER%20BY" in q for q in queries), queries
    sim.edit("Contact", ids[1], {"Title": "CTO"})
    changed, _ = read_all(connect(sim), "contacts", cursor)
    assert [(r.external_id, r.payload["Title"]) for r in changed] == [(ids[1], "CTO")]


# -- logging interactions as Tasks --------------------------------------------------------
def test_450_tasks_take_three_collection_calls(sim: SalesforceSimulator) -> None:
    who = contact(sim)
    results = connect(sim).write([log(n, who) for n in range(450)])
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    assert collection_calls(sim, "POST") == 3
    sizes = [len(json.loads(x.request_body)["records"]) for x in sim.exchanges
             if x.path.endswith("/composite/sobjects")]
    assert sizes == [200, 200, 50]
    tasks = sim.records("Task")
    assert len(tasks) == 450 and {t["Id"] for t in tasks} == {r.external_id for r in results}
    task = next(t for t in tasks if t[KEY] == "sf-key-00007")
    assert (task["WhoId"], task["Status"], task["ActivityDate"], task["Subject"]) == (
        who, "Completed", "2026-03-01", "Support chat 7")
    assert task["Description"] == "Asked about the invoice\n\nhttps://hub.example/i/7"


def test_one_bad_record_among_200_fails_alone(sim: SalesforceSimulator) -> None:
    who = contact(sim)
    batch = [log(n, who) for n in range(200)]
    batch[117] = log(117, "0035g0000099999AAA")  # a contact that does not exist: Salesforce refuses that record
    results = connect(sim).write(batch)
    assert collection_calls(sim, "POST") == 1, "allOrNone=false: one call, not a retry per record"
    assert [n for n, r in enumerate(results) if not r.ok] == [117]
    assert results[117].error and "sf-key-00117" in results[117].error
    assert "INVALID_CROSS_REFERENCE_KEY" in results[117].error
    assert len(sim.records("Task")) == 199


def test_a_maybe_applied_retry_finds_its_task_by_key(sim: SalesforceSimulator) -> None:
    who = contact(sim)
    connector = connect(sim)
    first = connector.write([log(1, who), log(2, who)])
    retry = [Effect(**{**log(1, who).__dict__, "maybe_applied": True}), log(3, who)]
    again = connector.write(retry)
    assert again[0].ok and again[0].found_existing and again[0].external_id == first[0].external_id
    assert again[1].ok and not again[1].found_existing
    assert sorted(t[KEY] for t in sim.records("Task")) == ["sf-key-00001", "sf-key-00002", "sf-key-00003"]
    lookup = [x.query_string for x in sim.exchanges if "Continuum_Key__c+IN" in x.query_string]
    assert lookup, "the retry did not look its key up by SOQL"


def test_hostile_text_stays_plain_and_a_key_with_quotes_cannot_break_soql(sim: SalesforceSimulator) -> None:
    who = contact(sim)
    connector = connect(sim)
    hostile = "<script>alert(1)</script> ' OR Id != null -- \u202eevil {!$User.Email} @here"
    effect = Effect("k' OR Name != '", "log", "task", {"contact_id": who, "subject": "x <b>", "body": hostile})
    assert connector.write([effect])[0].ok
    assert connector.write([Effect(**{**effect.__dict__, "maybe_applied": True})])[0].found_existing
    (task,) = sim.records("Task")
    assert task["Description"] == hostile  # stored as typed: Salesforce shows these fields as plain text
    assert connector.escape_text(hostile) == hostile.replace("\u202e", "")


# -- contacts and leads ------------------------------------------------------------------
def test_update_contact_in_bulk_and_create_contact_or_lead(sim: SalesforceSimulator) -> None:
    ids = [contact(sim, n) for n in range(3)]
    connector = connect(sim)
    effects = [Effect(f"u{n}", "update_contact", "contact", {"contact_id": i, "values": {"Title": f"T{n}"}})
               for n, i in enumerate(ids)]
    effects.append(Effect("u-bad", "update_contact", "contact", {"contact_id": ids[0], "values": {"Nope__c": 1}}))
    results = connector.write(effects)
    assert [r.ok for r in results] == [True, True, True, False]
    assert collection_calls(sim, "PATCH") == 1
    assert {c["Id"]: c["Title"] for c in sim.records("Contact")} == {i: f"T{n}" for n, i in enumerate(ids)}
    made = connector.write([
        Effect("c1", "create_contact", "contact", {"values": {"LastName": "Hopper", "Email": "g@example.com"}}),
        Effect("c2", "create_contact", "contact", {"kind": "lead", "values": {"LastName": "Turing"}}),
        Effect("c3", "create_contact", "contact", {"values": {"Email": "nameless@example.com"}})])
    assert [r.ok for r in made] == [True, True, False]
    assert made[0].external_id and made[0].external_id.startswith("003")
    assert made[1].external_id and made[1].external_id.startswith("00Q") and made[1].object_type == "lead"


# -- Cases: the tracker side ----------------------------------------------------------------
def test_cases_round_trip_a_closed_case_with_a_public_answer(sim: SalesforceSimulator) -> None:
    who = contact(sim)
    connector = connect(sim)
    created = connector.write([Effect("case-1", "create", "case", {"title": "Export broken", "body": "It fails",
                                                                  "priority": "High", "contact_id": who})])[0]
    assert created.ok, created.error
    retry = connector.write([Effect("case-1", "create", "case", {"title": "Export broken"}, maybe_applied=True)])[0]
    assert retry.found_existing and retry.external_id == created.external_id
    case_id = str(created.external_id)
    note = connector.write([Effect("note-1", "comment", "comment", {"body": "Customer adds: on Safari"},
                                   target_id=case_id)])[0]
    assert note.ok, note.error
    assert connector.write([Effect("up-1", "update", "case", {"priority": "Low"}, target_id=case_id)])[0].ok
    (case,) = sim.records("Case")
    assert (case[KEY], case["Priority"], case["Origin"], case["ContactId"]) == ("case-1", "Low", "Web", who)
    records, cursor = read_all(connector, "cases", None)
    assert [r.object_type for r in records] == ["case"]  # the hub's own note is not published: no answer
    assert records[0].own_key == "case-1" and records[0].payload["continuum"]["closed"] is False
    sim.add("CaseComment", {"ParentId": case_id, "CommentBody": "Internal: check logs", "IsPublished": False})
    sim.staff_answer(case_id, "Fixed in 2.4, please update.")
    sim.staff_resolve(case_id)
    later, _ = read_all(connect(sim), "cases", cursor)
    kinds = {r.object_type: r for r in later}
    assert kinds["case"].payload["continuum"] == {"status": "Closed", "closed": True, "case_number": "00001001"}
    answer = kinds["comment"]
    assert answer.payload["continuum"] == {"text": "Fixed in 2.4, please update.", "public": True,
                                           "case_id": case_id}
    assert answer.parent_id == case_id and len([r for r in later if r.object_type == "comment"]) == 1


# -- credentials and limits -----------------------------------------------------------------
def test_client_credentials_flow_and_wrong_secrets(sim: SalesforceSimulator) -> None:
    connect(sim, username=None).check()
    grants = [x.request_body for x in sim.exchanges if x.path.endswith("/oauth2/token")]
    assert b"grant_type=client_credentials" in grants[-1]
    with pytest.raises(Exception) as caught:
        connect(sim, password="wrong-pass-91").check()
    assert is_auth_error(caught.value) and "wrong-pass-91" not in str(caught.value)
    assert "salesforce" in str(caught.value) and "invalid_grant" in str(caught.value)


def test_an_expired_session_logs_in_again_once(sim: SalesforceSimulator) -> None:
    connector = connect(sim)
    connector.check()
    sim.tokens = {k: v for k, v in sim.tokens.items() if not k.startswith("00D5g!")}  # the org ended the session
    connector.check()
    assert len([x for x in sim.exchanges if x.path.endswith("/oauth2/token")]) == 2


def test_spent_daily_allowance_stops_cleanly(sim: SalesforceSimulator) -> None:
    who = contact(sim)
    connector = connect(sim, policy=RetryPolicy(max_window_wait_s=5))
    connector.check()
    sim.daily_limit = sim.used  # the next call meets REQUEST_LIMIT_EXCEEDED
    results = connector.write([log(1, who), Effect("c1", "create", "case", {"title": "t"})])
    assert all(isinstance(r, Deferred) for r in results), results
    assert sim.records("Task") == [] and sim.records("Case") == []


def test_sforce_limit_info_at_its_limit_counts_as_spent() -> None:
    assert spent_counts("api-usage=5000/5000")
    assert spent_counts("api-usage=10/5000; per-app-api-usage=250/250(appName=hub)")
    assert not spent_counts("api-usage=4999/5000")
    assert not spent_counts(None) and not spent_counts("garbage")


# -- the simulator's SOQL -----------------------------------------------------------------
@pytest.mark.parametrize("soql", [
    "SELECT Id FROM Contact WHERE Name LIKE 'A%'", "SELECT COUNT() FROM Contact",
    "SELECT Id FROM Contact WHERE A = 1 AND B = 2 OR C = 3", "SELECT Id, Account.Name FROM Contact",
    "SELECT Id FROM Contact GROUP BY Name", "SELECT FIELDS(ALL) FROM Contact LIMIT 200"])
def test_unsupported_soql_is_malformed_query(soql: str) -> None:
    with pytest.raises(SoqlError):
        parse(soql)


def test_the_simulator_answers_malformed_query_as_salesforce_does(sim: SalesforceSimulator) -> None:
    connector = connect(sim)
    with pytest.raises(Exception) as caught:
        connector.api.call("GET", "query/", params={"q": "SELECT Id FROM Contact WHERE Name LIKE 'A%'"})
    assert "MALFORMED_QUERY" in str(caught.value) and getattr(caught.value, "status", None) == 400
    with pytest.raises(Exception) as unknown:
        connector.api.call("GET", "query/", params={"q": "SELECT Id FROM Widget__c"})
    assert "INVALID_TYPE" in str(unknown.value)


def test_a_header_at_its_limit_stops_the_next_call_before_it_is_sent(sim: SalesforceSimulator) -> None:
    who = contact(sim)
    connector = connect(sim, policy=RetryPolicy(max_window_wait_s=5))
    connector.check()
    sim.daily_limit = sim.used + 1  # the next answer says api-usage=M/M
    connector.check()
    sent = len(sim.exchanges)
    results = connector.write([log(1, who)])
    assert isinstance(results[0], Deferred) and len(sim.exchanges) == sent, "a call went out past a spent limit"


def test_a_spent_allowance_during_a_read_stops_it_cleanly(sim: SalesforceSimulator) -> None:
    for n in range(3):
        contact(sim, n)
    connector = connect(sim, policy=RetryPolicy(max_window_wait_s=5))
    connector.check()
    sim.daily_limit = sim.used
    with pytest.raises(RateLimitExhausted):
        read_all(connector, "contacts", None)


def test_the_simulator_speaks_https_and_an_untrusted_certificate_is_refused(sim: SalesforceSimulator) -> None:
    assert sim.base_url.startswith("https://127.0.0.1:")
    conn = ConnectionInfo("salesforce_test", sim.base_url, SIM_USERNAME, SIM_PASSWORD,
                          {"client_id": SIM_CLIENT_ID, "client_secret": SIM_CLIENT_SECRET})
    with pytest.raises(Exception) as caught:
        PLUGIN.create(conn, {}).check()  # no ca_bundle: the system's CAs do not know the simulator's certificate
    assert "SSL" in str(caught.value) and "salesforce" in str(caught.value)


def test_erasure_deletes_tasks_200_a_call_and_one_already_gone_is_done(sim: SalesforceSimulator) -> None:
    who = contact(sim)
    connector = connect(sim)
    made = connector.write([log(n, who) for n in range(250)])
    gone = made[0].external_id
    assert gone is not None
    sim.rows["Task"].pop(gone)  # staff deleted one already
    keep = sim.add("Task", {"WhoId": who, "Subject": "Staff's own call"})
    deletes = [Effect(f"del-{n}", "delete_log", "note", {}, target_id=r.external_id) for n, r in enumerate(made)]
    done = connector.write([*deletes, Effect("del-bad", "delete_log", "note", {}, target_id=None)])
    assert all(r.ok for r in done[:-1]) and not done[-1].ok
    assert [t["Id"] for t in sim.records("Task")] == [keep]  # only what the hub did not log is left
    assert len([x for x in sim.exchanges if x.method == "DELETE" and x.path.endswith("/composite/sobjects")]) == 2
