"""The demo org: a few contacts and a lead, as a sales team would have them."""

from __future__ import annotations

from typing import Any

PEOPLE = (("Contact", {"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"}),
          ("Contact", {"FirstName": "Grace", "LastName": "Hopper", "Email": "grace@example.com"}),
          ("Lead", {"FirstName": "Alan", "LastName": "Turing", "Email": "alan@example.com", "Company": "Bletchley"}))


def seed(sim: Any) -> None:
    for sobject, values in PEOPLE:
        sim.add(sobject, values)
