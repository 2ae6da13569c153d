"""What the shared contract suite needs to know about Mastodon (the plugin's ``contract`` reference).

Test-only: the suite resolves it lazily, production never imports it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from connectors.mastodon.markup import BIDI_CONTROLS, ZWSP
from connectors.mastodon.simmodel import HASHTAG_RE, MENTION_RE, URL_RE
from continuum.connector import Effect
from continuum.simkit import Exchange
from continuum.simkit.contract import HOST, check_exchanges, specs_dir
from continuum.testing.harness import ContractHarness

SPEC = "mastodon.openapi.unofficial.json"
CUSTOMER = "contract@fosstodon.example"
BOOLEAN_FIELDS = frozenset({"sensitive"})
EMOJI = re.compile(r"(?<![\w:]):\w{2,}:")


@functools.cache
def spec() -> Any:
    """The description, served at a neutral host, with its one self-contradiction fixed in memory: it types the
    ``Idempotency-Key`` header, "any arbitrary string" in its own words, as an object."""
    from openapi_core import Config, OpenAPI

    document = json.loads((specs_dir() / SPEC).read_text(encoding="utf-8"))
    document["servers"] = [{"url": HOST}]
    for parameter in document["paths"]["/api/v1/statuses"]["post"].get("parameters", []):
        if parameter.get("name") == "Idempotency-Key":
            parameter["schema"] = {"type": "string"}
    return OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))


def as_described(exchange: Exchange) -> Exchange:
    """The exchange as the description can check it, meaning unchanged.  Mastodon (Rails) serves a path with a
    trailing slash as the same path, and takes a form as it takes JSON; the description lists only JSON bodies
    and bare paths, and Mastodon.py sends forms and ``/api/v2/instance/``."""
    headers = dict(exchange.request_headers)
    body = exchange.request_body
    kind = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if body and kind.startswith("application/x-www-form-urlencoded"):
        form: dict[str, Any] = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        for name in BOOLEAN_FIELDS & form.keys():  # Rails reads "0"/"1" in a form as the booleans JSON carries
            form[name] = form[name] in ("1", "true", "True")
        body = json.dumps(form).encode()
        headers = {**{k: v for k, v in headers.items() if k.lower() != "content-type"},
                   "Content-Type": "application/json"}
    return dataclasses.replace(exchange, path=exchange.path.rstrip("/") or "/", request_headers=headers,
                               request_body=body)


def live_markup(text: str) -> list[str]:
    """Everything in a status's source text that the server would turn live, one line each (empty: inert)."""
    found = [f"a live mention {m.group()!r}" for m in MENTION_RE.finditer(text)]
    found += [f"a live hashtag {m.group()!r}" for m in HASHTAG_RE.finditer(text)]
    found += [f"a live link {m.group()!r}" for m in URL_RE.finditer(text)]
    found += [f"a custom emoji {m.group()!r}" for m in EMOJI.finditer(text)]
    return found + [f"a bidi control {m.group()!r}" for m in BIDI_CONTROLS.finditer(text)]


class MastodonHarness(ContractHarness):
    system: ClassVar[str] = "mastodon"
    stream: ClassVar[str | None] = "posts"
    page_size: ClassVar[int] = 40  # the connector's default: one notifications call

    def _customer_status(self, sim: Any) -> int:
        try:
            sim.add_account("contract", "Contract Customer", "fosstodon.example")
        except ValueError:
            pass  # made by an earlier call
        found = [s for s in sim.statuses(CUSTOMER) if s["in_reply_to_id"] is None]
        return int(found[0]["id"]) if found else sim.post(CUSTOMER, "@acme the export button does nothing")

    def effect(self, sim: Any, key: str, text: str) -> Effect:
        status = self._customer_status(sim)
        return Effect(key=key, action="reply", object_type="status", fields={"status": text},
                      target_id=str(status), context={"in_reply_to": f"status:{status}"})

    def broken_effect(self, sim: Any, key: str) -> Effect:
        return Effect(key=key, action="reply", object_type="status", fields={"status": "  "},
                      target_id=str(self._customer_status(sim)))

    def written(self, sim: Any, key: str) -> list[str]:
        return [str(s["text"]) for s in sim.statuses("acme") if s["idempotency_key"] == key]

    def assert_inert(self, stored: str, text: str) -> None:
        mention, _, body = stored.partition(" ")
        assert mention == "@" + CUSTOMER, f"the reply does not address the customer first: {stored!r}"
        problems = live_markup(body)
        assert not problems, f"{text!r} was written as {body!r}: " + "; ".join(problems)
        expected = BIDI_CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).replace(ZWSP, "").strip()
        assert body.replace(ZWSP, "") == expected, f"{text!r} does not read back literally from {body!r}"

    def add_records(self, sim: Any, count: int) -> None:
        self._customer_status(sim)
        for n in range(count):
            sim.post(CUSTOMER, f"@acme still nothing when I press export, attempt {n}.")

    def check_exchanges(self, sim: Any) -> None:
        if not (specs_dir() / SPEC).is_file():
            return  # the description is not checked out next to the repository
        problems = check_exchanges(spec(), [as_described(x) for x in sim.exchanges])
        assert not problems, f"{len(problems)} exchanges break {SPEC}:\n" + "\n".join(problems[:10])


HARNESS = MastodonHarness()
