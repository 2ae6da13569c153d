"""The labelled Ledgerly community through the whole hub: identity, triage, aggregation, routing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from continuum.ops import customers as customer_ops
from continuum.store.tables import interactions
from tests.brain import community
from tests.e2e.conftest import Loop


@pytest.fixture
def planted(loop: Loop) -> community.Planted:
    data = community.load()
    with loop.db.begin() as conn:
        customer_ops.import_records(conn, community.crm_export(data))
    return community.plant(loop.discourse, data)


def test_the_community_becomes_few_tickets_with_votes_and_nothing_misrouted(loop: Loop, planted, capsys) -> None:
    loop.sync()
    loop.sync()
    figures = community.score(loop.db, planted, len(loop.jira.issues()))
    with capsys.disabled():
        print("\ncommunity data set figures: " + json.dumps(figures))
    assert figures["stored"] == figures["interactions"] >= 200
    assert figures["hr_in_jira"] == 0 and figures["hr_total"] >= 3
    assert figures["aggregation_precision"] >= 0.9
    assert figures["aggregation_recall"] >= 0.6
    assert figures["jira_issues"] < figures["interactions"] / 2
    # Identity: each person is one customer, and no customer is two people.
    assert figures["people_split_across_customers"] == 0
    assert figures["customers_shared_by_people"] == 0
    assert figures["vip_interactions_on_vip_sla"] >= 4
    # Every interaction the hub classed as HR reached #hr, once, and nothing else did.
    with loop.db.connect() as conn:
        hr_rows = conn.execute(select(interactions.c.text).where(interactions.c.kind == "hr")).scalars().all()
    hr_channel = loop.sims["slack"].channel_id("#hr")
    posted = [m.get("text", "") for m in loop.sims["slack"].messages(hr_channel)
              if m.get("metadata", {}).get("event_type") == "continuum_effect"]
    assert len(posted) == len(hr_rows) >= figures["hr_total"] - 1
    for text in hr_rows:
        assert any(text.replace("\n", " ")[:40] in message for message in posted)


def test_look_alike_people_are_suggested_but_never_merged(loop: Loop, planted) -> None:
    loop.sync()
    with loop.db.connect() as conn:
        pairs = customer_ops.suggest(conn, threshold=80)
        names = [(p["a_names"], p["b_names"]) for p in pairs]
        owners = dict(conn.execute(select(interactions.c.source_id, interactions.c.customer_id)).all())
    assert any("anna" in a + b and "anne" in a + b for a, b in names), names[:10]
    anna = next(k for k, v in planted.authors.items() if v == _person(planted, "annab"))
    anne = next(k for k, v in planted.authors.items() if v == _person(planted, "anneberg"))
    assert owners[anna] != owners[anne]


def _person(planted: community.Planted, handle: str) -> str:
    return next(c["id"] for c in planted.customers if handle in c["handles"])
