"""Box's OpenAPI description, loaded once, served where the simulator serves it.

Box serves its API at ``/2.0`` and uploads at ``/api/2.0`` on another host; the simulator serves both on one
port.  The description's servers (``https://api.box.com/2.0``, and the upload operations' own
``https://upload.box.com/api/2.0``) are replaced in memory by the same paths at a neutral host, so openapi-core
matches each exchange to its operation; the file is never changed or copied.

One self-contradiction of the description is resolved in memory too: the shared link schema lists
``accessed`` as required but never defines it (no type, no meaning; Box's answers do not carry it), so
:func:`drop_undefined_required` takes exactly such names out of ``required``; a test proves that a shared link
without a defined required field (``url``) is still refused.  And the error schema's ``code`` enum lacks
``item_name_in_use``, the code Box's own guides document for a 409 on a taken name (which the uploads and folders
operations declare): :data:`BOX_DOCUMENTED_CODES` are added to that enum, nothing else.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from continuum.simkit.contract import HOST, check_exchanges, specs_dir
from continuum.simkit.server import Exchange

SPEC = "box.openapi.json"
BOX_DOCUMENTED_CODES = ("item_name_in_use",)


def drop_undefined_required(node: Any) -> Any:
    """Remove from each schema's ``required`` the names it requires but does not define among its ``properties``
    (only where both sit in one schema object, as in the shared link's)."""
    if isinstance(node, dict):
        properties, required = node.get("properties"), node.get("required")
        if isinstance(properties, dict) and isinstance(required, list):
            node["required"] = [name for name in required if name in properties]
        for value in node.values():
            drop_undefined_required(value)
    elif isinstance(node, list):
        for value in node:
            drop_undefined_required(value)
    return node


@functools.cache
def box_spec() -> Any:
    from openapi_core import Config, OpenAPI

    document = drop_undefined_required(json.loads((specs_dir() / SPEC).read_text(encoding="utf-8")))
    codes = document["components"]["schemas"]["ClientError"]["properties"]["code"]["enum"]
    codes += [code for code in BOX_DOCUMENTED_CODES if code not in codes]
    document["servers"] = [{"url": f"{HOST}/2.0"}]
    for operations in document["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict) and operation.get("servers"):
                operation["servers"] = [{"url": f"{HOST}/api/2.0"}]
    return OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))


def box_errors(exchanges: list[Exchange]) -> list[str]:
    """Every way the exchanges break Box's description (injected faults are skipped)."""
    return check_exchanges(box_spec(), exchanges)
