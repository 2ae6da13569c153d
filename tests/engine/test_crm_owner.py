"""The contact's owner in the CRM (Salesforce OwnerId, HubSpot hubspot_owner_id) is stored on the customer, and
follows when sales hand the contact to someone else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from connectors.hubspot.simulator import HubspotSimulator
from connectors.salesforce.simulator import SalesforceSimulator
from continuum.engine.run import run_pipeline
from continuum.store.tables import customers, identities
from tests.engine import test_crm_salesforce as sf
from tests.engine import test_crm_sync as hs

sim = sf.sim  # the Salesforce simulator fixture (TLS, every answer checked against simple-salesforce)


@pytest.fixture
def hubspot() -> Iterator[HubspotSimulator]:
    with HubspotSimulator() as simulator:
        yield simulator  # type: ignore[misc]


def owner_of(db: Engine, contact_id: str) -> str | None:
    with db.connect() as conn:
        customer = conn.execute(select(identities.c.customer_id).where(identities.c.account_id == contact_id)
                                ).scalar_one()
        return conn.execute(select(customers.c.owner).where(customers.c.id == customer)).scalar_one()


def test_the_salesforce_owner_is_the_customers_and_follows_a_reassignment(sqlite_db: Engine,
                                                                         sim: SalesforceSimulator) -> None:
    ann = sim.add("Contact", {"FirstName": "Ann", "LastName": "Lee", "Email": "ann@example.com"})
    ctx, forum = sf.world(sqlite_db, sim)
    forum.post("ann", 1, "Please add dark mode", email="ann@example.com")
    run_pipeline(ctx)
    first = next(r for r in sim.records("Contact") if r["Id"] == ann)["OwnerId"]
    assert first and owner_of(sqlite_db, ann) == first
    sim.edit("Contact", ann, {"OwnerId": "0055g0000000000042"})
    run_pipeline(ctx)
    assert owner_of(sqlite_db, ann) == "0055g0000000000042"


def test_the_hubspot_owner_is_the_customers_and_follows_a_reassignment(sqlite_db: Engine,
                                                                      hubspot: HubspotSimulator) -> None:
    ann = hubspot.add_contact("ann@example.com", "Ann", "Lee", hubspot_owner_id="812")
    ctx, forum = hs.crm_world(sqlite_db, hubspot)
    forum.post("ann", 1, "Please add dark mode", email="ann@example.com")
    run_pipeline(ctx)
    assert owner_of(sqlite_db, ann) == "812"
    hubspot.edit_contact(ann, hubspot_owner_id="977")
    run_pipeline(ctx)
    assert owner_of(sqlite_db, ann) == "977"
