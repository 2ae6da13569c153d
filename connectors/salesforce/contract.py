"""What the shared contract suite needs to know about Salesforce (the plugin's ``contract`` reference).

No machine-readable description of Salesforce's REST API exists to check exchanges against: simple-salesforce is
the contract instead.  ``check_exchanges`` holds every answer to what it parses: errors as a list of
``{message, errorCode}`` (OAuth's as ``{error, error_description}``), queries as ``{totalSize, done, records}``
with ``nextRecordsUrl`` while not done, and every API answer carrying ``Sforce-Limit-Info`` as
``Salesforce.parse_api_usage`` reads it."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.util import exception_handler

from connectors.salesforce.simmodel import KEY
from continuum.connector import Effect
from continuum.testing.harness import ContractHarness
from continuum.testing.markdown import BIDI_CONTROLS


class SalesforceHarness(ContractHarness):
    system: ClassVar[str] = "salesforce"
    stream: ClassVar[str | None] = "contacts"
    page_size: ClassVar[int] = 200  # Salesforce's smallest query batch

    def _contact(self, sim: Any) -> str:
        return str(next(r["Id"] for r in sim.records("Contact")))

    def effect(self, sim: Any, key: str, text: str) -> Effect:
        return Effect(key=key, action="log", object_type="task", fields={
            "contact_id": self._contact(sim), "subject": f"Customer said {key}", "body": text,
            "occurred_at": "2026-03-01T10:00:00Z", "channel": "email"})

    def broken_effect(self, sim: Any, key: str) -> Effect:
        return Effect(key=key, action="log", object_type="task", fields={"subject": "no contact", "body": "x"})

    def written(self, sim: Any, key: str) -> list[str]:
        return [str(task["Description"]) for task in sim.records("Task") if task.get(KEY) == key]

    def assert_inert(self, stored: str, text: str) -> None:
        # Plain text: exactly what the customer typed, line ends unified, bidi controls dropped.
        expected = BIDI_CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
        assert stored == expected, f"{text!r} was stored as {stored!r}"

    def add_records(self, sim: Any, count: int) -> None:
        for n in range(count):
            sim.add("Contact", {"FirstName": "Test", "LastName": f"Person {n}", "Email": f"p{n}@example.com"})

    def check_exchanges(self, sim: Any) -> None:
        problems = []
        for x in sim.exchanges:
            if x.fault or not x.response_body:
                continue
            body = json.loads(x.response_body)
            where = f"{x.method} {x.path} -> {x.status}"
            if x.path.endswith("/oauth2/token"):
                need = ("access_token", "instance_url", "id") if x.status < 400 else ("error", "error_description")
                problems += [f"{where}: no {n}" for n in need if n not in body]
                continue
            try:
                Salesforce.parse_api_usage(x.response_headers.get("Sforce-Limit-Info", ""))["api-usage"]
            except (KeyError, TypeError):
                problems.append(f"{where}: Sforce-Limit-Info is not what simple-salesforce parses")
            if x.status >= 300:
                if not (isinstance(body, list) and all({"message", "errorCode"} <= set(e) for e in body)):
                    problems.append(f"{where}: not Salesforce's error list: {body!r:.100}")
                problems += _library_reading(x.status, x.response_body, where)
            elif "/query/" in x.path and not ({"totalSize", "done", "records"} <= set(body)
                                              and (body["done"] or "nextRecordsUrl" in body)):
                problems.append(f"{where}: not a query result")
        assert not problems, "\n".join(problems[:10])


def _library_reading(status: int, body: bytes, where: str) -> list[str]:
    """How simple-salesforce's own router takes an error answer: the subclass for its status, content parsed."""
    answer = requests.Response()
    answer.status_code, answer._content, answer.url = status, body, "https://sim.invalid/"
    try:
        exception_handler(answer, "contract")
    except SalesforceError as exc:
        wanted = {400: SalesforceMalformedRequest, 401: SalesforceExpiredSession, 403: SalesforceRefusedRequest,
                  404: SalesforceResourceNotFound}.get(status, SalesforceGeneralError)
        if type(exc) is not wanted or not isinstance(exc.content, list):
            return [f"{where}: simple-salesforce reads it as {type(exc).__name__} with {exc.content!r:.80}"]
        return []
    return [f"{where}: simple-salesforce raised nothing"]


HARNESS = SalesforceHarness()
