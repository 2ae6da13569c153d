"""What the shared contract suite needs to know about HubSpot (the plugin's ``contract`` reference).

Test-only.  HubSpot publishes no description we may use: every answer the simulator gave is loaded into the
official ``hubspot-api-client`` models instead (``simcontract``)."""

from __future__ import annotations

import html
import re
from typing import Any, ClassVar

from connectors.hubspot.simcontract import model_errors
from continuum.connector import Effect
from continuum.testing.harness import ContractHarness

_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_BODY = re.compile(r"<p>(.*?)</p>", re.S)


class HubspotHarness(ContractHarness):
    system: ClassVar[str] = "hubspot"
    stream: ClassVar[str | None] = "contacts"
    page_size: ClassVar[int] = 10
    options: ClassVar[dict[str, Any]] = {"page_size": page_size}
    bad_credentials: ClassVar[dict[str, Any]] = {"password": "pat-na1-wrong-3f9d1c"}

    def _contact(self, sim: Any) -> str:
        found = [c["id"] for c in sim.objects("contacts")]
        return str(found[0]) if found else str(sim.add_contact("someone@example.com", "Some", "One"))

    def effect(self, sim: Any, key: str, text: str) -> Effect:
        return Effect(key=key, action="log", object_type="note", fields={
            "contact_id": self._contact(sim), "body": text, "occurred_at": "2026-11-02T09:30:00Z"})

    def broken_effect(self, sim: Any, key: str) -> Effect:
        return Effect(key=key, action="log", object_type="note", fields={"contact_id": "", "body": "x"})

    def written(self, sim: Any, key: str) -> list[str]:
        notes = [n for n in sim.objects("notes") if key in str(sim.raw_property(n["id"], "continuum_key"))]
        return [str(sim.raw_property(n["id"], "hs_note_body")) for n in notes
                if sim.raw_property(n["id"], "continuum_key") == key]

    def assert_inert(self, stored: str, text: str) -> None:
        bodies = _BODY.findall(stored)
        assert len(bodies) == 1, f"not one body paragraph: {stored!r}"
        body = bodies[0]
        assert not re.search(r"<(?!br>)", body), f"{text!r} left markup in {body!r}"
        expected = _INVISIBLE.sub("", text.replace("\r\n", "\n"))
        assert html.unescape(body.replace("<br>", "\n")) == expected, f"{text!r} does not read back from {body!r}"

    def add_records(self, sim: Any, count: int) -> None:
        for n in range(count):
            sim.add_contact(f"customer{n}-{id(sim) % 9973}@example.com", "Customer", str(n))

    def check_exchanges(self, sim: Any) -> None:
        problems = model_errors(sim.exchanges)
        assert not problems, f"{len(problems)} answers do not load into hubspot-api-client's models:\n" + \
            "\n".join(problems[:10])


HARNESS = HubspotHarness()
