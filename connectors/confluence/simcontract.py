"""Confluence Cloud's two descriptions, v1 (labels, the current user) and v2 (spaces, pages), loaded once.

Each exchange is checked against the description of its API: ``/wiki/api/v2/...`` against v2 (served at
``/wiki/api/v2`` on a neutral host), ``/wiki/rest/api/...`` against v1 (whose paths carry the prefix).

One reading of v2 is made explicit, in memory (the file is never changed or copied): a page body is
``oneOf`` a flat ``PageBodyWrite`` (``representation``, ``value``) or a ``PageNestedBodyWrite`` (``storage``,
...), but neither closes its properties, so any body matches both and ``oneOf`` refuses every body.
:func:`confluence_v2` closes both (``additionalProperties: false``), which is what the two shapes say; a test
proves a body of neither shape is still refused.

Neither description declares every error Confluence answers (v2's page update declares no 409, the one
Atlassian documents for a stale ``version.number``; v1's current user no 401), and v2 lists its 400 and 404
with no body at all, where Confluence sends its JSON error: of a refused call the request is always checked,
the answer where it is declared, as for GitHub.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from continuum.simkit.contract import HOST, check_exchanges, specs_dir
from continuum.simkit.server import Exchange

SPEC_V1, SPEC_V2 = "confluence-cloud-v1.swagger.v3.json", "confluence-cloud-v2.openapi-v2.v3.json"
V2_PREFIX = "/wiki/api/v2"
# An error status the description does not list, or lists with no body (``"content": {}``, as v2's 400 and 404).
UNDECLARED = ("Unknown response http status", "Valid mimetypes: []")


def have_specs() -> bool:
    return (specs_dir() / SPEC_V1).is_file() and (specs_dir() / SPEC_V2).is_file()


def _load(name: str, server: str, fix: Any = None) -> Any:
    from openapi_core import Config, OpenAPI

    document = json.loads((specs_dir() / name).read_text(encoding="utf-8"))
    document["servers"] = [{"url": server}]
    if fix is not None:
        fix(document)
    return OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))


def close_page_bodies(document: Any) -> Any:
    schemas = document["components"]["schemas"]
    for name in ("PageBodyWrite", "PageNestedBodyWrite"):
        schemas[name]["additionalProperties"] = False
    return document


@functools.cache
def confluence_v1() -> Any:
    return _load(SPEC_V1, HOST)


@functools.cache
def confluence_v2() -> Any:
    return _load(SPEC_V2, f"{HOST}{V2_PREFIX}", close_page_bodies)


def _check(spec: Any, exchanges: list[Exchange]) -> list[str]:
    answered = [x for x in exchanges if x.status < 400]
    refused = [x for x in exchanges if x.status >= 400]
    return check_exchanges(spec, answered) + [
        p
        for p in check_exchanges(spec, refused)
        if p.startswith("request") or not any(undeclared in p for undeclared in UNDECLARED)
    ]


def confluence_errors(exchanges: list[Exchange]) -> list[str]:
    """Every way the exchanges break the description of their API (injected faults are skipped)."""
    v2 = [x for x in exchanges if x.path.startswith(V2_PREFIX + "/")]
    v1 = [x for x in exchanges if not x.path.startswith(V2_PREFIX + "/")]
    return _check(confluence_v1(), v1) + _check(confluence_v2(), v2)
