"""GitHub's REST description, loaded once, with the one reading of OpenAPI 3.0 it relies on made explicit.

The description marks enums nullable (``state_reason``: ``nullable: true``, ``enum: [completed, ...]``) and GitHub
answers ``null`` there, but OpenAPI 3.0.3 says an enum must list ``null`` itself to allow it, which openapi-core
follows.  :func:`github_spec` adds ``null`` to exactly those enums, in memory (the file is never changed or
copied); a test proves any other value is still refused.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from continuum.simkit.contract import HOST, check_exchanges, specs_dir
from continuum.simkit.server import Exchange

SPEC = "github-rest.api.github.com.json"


def allow_null_in_nullable_enums(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("nullable") is True and isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        for value in node.values():
            allow_null_in_nullable_enums(value)
    elif isinstance(node, list):
        for value in node:
            allow_null_in_nullable_enums(value)
    return node


@functools.cache
def github_spec() -> Any:
    """The description as an ``openapi_core.OpenAPI`` served at a neutral host (13 MB: parsed once a process)."""
    from openapi_core import Config, OpenAPI

    document = allow_null_in_nullable_enums(json.loads((specs_dir() / SPEC).read_text(encoding="utf-8")))
    document["servers"] = [{"url": HOST}]
    return OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))


def github_errors(exchanges: list[Exchange]) -> list[str]:
    """Every way the exchanges break the description.  Not every operation declares its error answers (listing
    issues declares no 401 or 403): of a refused call the request is always checked, the answer where declared."""
    answered = [x for x in exchanges if x.status < 400]
    refused = [x for x in exchanges if x.status >= 400]
    return check_exchanges(github_spec(), answered) + [
        p for p in check_exchanges(github_spec(), refused)
        if p.startswith("request") or "Unknown response http status" not in p]
