"""The HubSpot simulator's demo state: a few contacts sales already keeps, one of them a VIP with an X handle."""

from __future__ import annotations

from typing import Any

from connectors.hubspot.simulator import HubspotSimulator

# A seed file's `hubspot:` section (`continuum simulate --seed FILE`):
#
#   hubspot:
#     contacts:
#       - {email: ana@example.com, firstname: Ana, lastname: Ruiz, twitterhandle: anaruiz, tier: vip}
SEED_SHAPE = "hubspot: {contacts: [{email, firstname, lastname, ...properties}]}"
DEMO = ({"email": "dana.whitfield@example.com", "firstname": "Dana", "lastname": "Whitfield",
         "twitterhandle": "danaw", "lifecyclestage": "customer"},
        {"email": "li.wei@example.org", "firstname": "Li", "lastname": "Wei", "lifecyclestage": "customer"})


def seed(sim: HubspotSimulator) -> None:
    load(sim, {"contacts": list(DEMO)})


def load(sim: HubspotSimulator, data: dict[str, Any]) -> None:
    for contact in data.get("contacts") or []:
        sim.add_contact(**{str(k): str(v) for k, v in contact.items()})
