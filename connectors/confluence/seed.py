"""The Confluence simulator's demo state: the support space's "Customers" page and one page staff wrote."""

from __future__ import annotations

from typing import Any

from connectors.confluence.simulator import ConfluenceSimulator

# A seed file's `confluence:` section (`continuum simulate --seed FILE`):
#
#   confluence:
#     pages:                      # pages staff wrote, under the "Customers" page
#       - {title: "Escalation playbook", body: "<p>Call the on-duty lead.</p>"}
SEED_SHAPE = "confluence: {pages: [{title, body}]}"


def seed(sim: ConfluenceSimulator) -> None:
    load(
        sim,
        {
            "pages": [
                {
                    "title": "How we write customer pages",
                    "body": "<p>The hub keeps each customer's history; add your notes above it.</p>",
                }
            ]
        },
    )


def load(sim: ConfluenceSimulator, data: dict[str, Any]) -> None:
    for entry in data.get("pages") or []:
        sim.add_page(str(entry["title"]), str(entry.get("body") or ""))
