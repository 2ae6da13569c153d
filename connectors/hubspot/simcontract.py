"""The simulator checked against HubSpot's official client: every request and answer loads into its models.

HubSpot's own API descriptions may not be reused; ``hubspot-api-client`` (Apache-2.0) is generated from them,
and its models check required fields, types and enums (``client_side_validation``).  Test-only."""

from __future__ import annotations

import importlib
import json
import re
from typing import Any

from continuum.simkit.server import Exchange

MODULES = {"contacts": "hubspot.crm.contacts", "notes": "hubspot.crm.objects.notes",
           "tickets": "hubspot.crm.tickets", "associations": "hubspot.crm.associations.v4"}
# (method, path pattern) -> (request model or None, answer model); the kind comes from the path.
ROUTES: tuple[tuple[str, re.Pattern[str], str | None, str], ...] = (
    ("POST", re.compile(r"^/crm/v3/objects/(\w+)/search$"), "PublicObjectSearchRequest",
     "CollectionResponseWithTotalSimplePublicObjectForwardPaging"),
    ("POST", re.compile(r"^/crm/v3/objects/(\w+)/batch/create$"), "BatchInputSimplePublicObjectBatchInputForCreate",
     "BatchResponseSimplePublicObject"),
    ("POST", re.compile(r"^/crm/v3/objects/(\w+)/batch/update$"), "BatchInputSimplePublicObjectBatchInput",
     "BatchResponseSimplePublicObject"),
    ("POST", re.compile(r"^/crm/v3/objects/(\w+)/batch/read$"), "BatchReadInputSimplePublicObjectId",
     "BatchResponseSimplePublicObject"),
    # Archive answers 204 with no body ("" below: the answer must be empty).
    ("POST", re.compile(r"^/crm/v3/objects/(\w+)/batch/archive$"), "BatchInputSimplePublicObjectId", ""),
    ("POST", re.compile(r"^/crm/v3/objects/(\w+)$"), "SimplePublicObjectInputForCreate", "SimplePublicObject"),
    ("PATCH", re.compile(r"^/crm/v3/objects/(\w+)/\d+$"), "SimplePublicObjectInput", "SimplePublicObject"),
    ("GET", re.compile(r"^/crm/v3/objects/(\w+)/\d+$"), None, "SimplePublicObjectWithAssociations"),
    ("GET", re.compile(r"^/crm/v3/objects/(\w+)$"), None,
     "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging"),
    ("POST", re.compile(r"^/crm/v4/associations/\w+/\w+/batch/(read)$"),
     "BatchInputPublicFetchAssociationsBatchRequest", "BatchResponsePublicAssociationMultiWithLabel"),
)


def load(kind: str, model: str, data: Any) -> Any:
    """``data`` as the client's ``model`` (raises on a missing required field, a wrong type or enum value)."""
    package = importlib.import_module(MODULES["associations" if kind == "read" else kind])
    config = package.Configuration()
    config.client_side_validation = True  # the client ships with it off; on, its models refuse what breaks the spec
    client = package.ApiClient(config)
    return client._ApiClient__deserialize(data, model)  # the client's own deserializer, as it reads answers


def model_errors(exchanges: list[Exchange]) -> list[str]:
    problems = []
    for x in exchanges:
        if x.fault is not None:
            continue  # injected faults are the simkit's, not HubSpot's shape
        where = f"{x.method} {x.path} -> {x.status}"
        route = next(((m, p, req, ans) for m, p, req, ans in ROUTES if m == x.method and p.match(x.path)), None)
        if route is None:
            problems.append(f"{where}: no HubSpot model for this call")
            continue
        _, pattern, request_model, answer_model = route
        kind = pattern.match(x.path).group(1)  # type: ignore[union-attr]
        if kind not in MODULES and kind != "read":
            problems.append(f"{where}: {kind} is not an object type the check knows")
            continue
        try:
            if request_model and x.request_body:
                load(kind, request_model, json.loads(x.request_body))
            if not answer_model and x.status < 400:
                if x.status != 204 or x.response_body:
                    problems.append(f"{where}: HubSpot answers this call 204 with no body")
                continue
            load(kind, answer_model if x.status < 400 else "Error", json.loads(x.response_body))
        except Exception as exc:  # any refusal of the models is a finding
            problems.append(f"{where}: {type(exc).__name__}: {exc}")
    return problems
