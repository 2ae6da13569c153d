"""The simulator and the connector checked against Meta's Graph API description (SDK-codegen JSON, not OpenAPI).

Meta publishes, per node, its ``fields`` (name and type) and its ``apis`` (method, edge, params with types, enums
in ``enum_types.json``).  There is no response schema, so the check is field by field:

* every field the simulator serves for a node exists on that node, with a compatible JSON type (and a nested
  node, ``parent`` of a Comment, is checked as that node);
* every parameter the connector sends exists on that edge's API, enum values among the enum's values, and each
  name in ``fields`` is a field of the node the edge returns.

Graph's node-independent parameters (field selection, cursor paging, bulk ``ids``) are on no node's list and are
allowed everywhere.  Nodes the description does not publish (Messenger's message) are reported as unchecked.
Test-only: nothing in production imports this.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from continuum.simkit import Exchange
from continuum.simkit.contract import specs_dir

SPEC_DIR = "facebook-graph"
GENERIC_PARAMS = frozenset({"fields", "limit", "after", "before", "ids", "access_token", "appsecret_proof"})
GRAPH_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")
_PATH = re.compile(r"^/v\d+\.\d+/(?P<node>[^/]*)(?:/(?P<edge>[^/]+))?$")


@dataclass(frozen=True)
class GraphSpec:
    fields: Mapping[str, Mapping[str, str]]  # node -> field -> type
    apis: Mapping[tuple[str, str, str], Mapping[str, str]]  # (node, METHOD, edge or "") -> param -> type
    returns: Mapping[tuple[str, str, str], str]  # (node, METHOD, edge or "") -> node returned
    enums: Mapping[str, frozenset[str]]  # enum type name -> values


def spec_available() -> bool:
    return (specs_dir() / SPEC_DIR / "Comment.json").is_file()


@functools.cache
def load(folder: Path | None = None) -> GraphSpec:
    where = folder or specs_dir() / SPEC_DIR
    fields: dict[str, dict[str, str]] = {}
    apis: dict[tuple[str, str, str], dict[str, str]] = {}
    returns: dict[tuple[str, str, str], str] = {}
    for path in sorted(where.glob("*.json")):
        if path.name == "enum_types.json":
            continue
        document = json.loads(path.read_text(encoding="utf-8"))
        fields[path.stem] = {f["name"]: f["type"] for f in document.get("fields", [])}
        for api in document.get("apis", []):
            key = (path.stem, api["method"].upper(), api.get("endpoint") or "")
            apis[key] = {p["name"]: p["type"] for p in api.get("params", [])}
            returns[key] = api.get("return") or ""
    enum_rows = json.loads((where / "enum_types.json").read_text(encoding="utf-8"))
    enums = {row["name"]: frozenset(str(v) for v in row["values"]) for row in enum_rows}
    return GraphSpec(fields, apis, returns, enums)


def type_problem(spec: GraphSpec, kind: str, value: Any) -> str | None:
    """Why ``value`` is not a JSON rendering of the spec type ``kind`` (None when it is)."""
    if value is None:
        return None
    expected: tuple[type, ...]
    if kind.startswith("list"):
        expected = (list,)
    elif kind in ("string", "datetime") or kind in spec.enums:
        expected = (str,)
    elif kind == "bool":
        expected = (bool,)
    elif kind in ("int", "unsigned int"):
        expected = (int,)
    elif kind == "float":
        expected = (int, float)
    else:  # Object, map, or another node (User, Comment...)
        expected = (dict,)
    if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
        return f"{type(value).__name__} where the spec has {kind}"
    if kind == "datetime" and not GRAPH_TIME.match(str(value)):
        return f"{value!r} is not Graph's datetime format"
    if kind == "unsigned int" and isinstance(value, int) and value < 0:
        return f"{value} is negative"
    return None


def node_problems(spec: GraphSpec, node: str, obj: Mapping[str, Any], where: str = "") -> list[str]:
    """Every served field of ``obj`` that the spec's ``node`` lacks or types otherwise."""
    known = spec.fields.get(node)
    if known is None:
        return []
    problems = []
    for name, value in obj.items():
        at = f"{where}{node}.{name}"
        if name not in known:
            problems.append(f"{at}: no such field on {node}")
        elif (why := type_problem(spec, known[name], value)) is not None:
            problems.append(f"{at}: {why}")
        elif known[name] in spec.fields and isinstance(value, Mapping):
            problems += node_problems(spec, known[name], value, f"{at} -> ")
    return problems


def param_problems(spec: GraphSpec, node: str, method: str, edge: str, params: Mapping[str, Any]) -> list[str]:
    """Every parameter (or enum value, or requested field) the spec's API for this edge does not have."""
    key = (node, method, edge)
    if key not in spec.apis:
        return [f"{method} {node}/{edge}: the spec has no such API"]
    declared, problems = spec.apis[key], []
    returned = spec.returns[key] if edge else node
    for name, value in params.items():
        if name == "fields":
            wanted = spec.fields.get(returned)
            problems += [f"{method} {node}/{edge}: field {f!r} is not on {returned}"
                         for f in str(value).split(",") if wanted is not None and f not in wanted]
        elif name in GENERIC_PARAMS:
            continue
        elif name not in declared:
            problems.append(f"{method} {node}/{edge}: no parameter {name!r}")
        # The SDKs send the listed (upper-case) values, Meta's guides lower-case ones; Graph takes either.
        elif declared[name] in spec.enums and str(value).lower() not in {v.lower() for v in spec.enums[declared[name]]}:
            problems.append(f"{method} {node}/{edge}: {name}={value!r} is not in {declared[name]}")
    return problems


def exchange_problems(spec: GraphSpec, exchange: Exchange, node_type: Any) -> tuple[list[str], set[str]]:
    """What one recorded exchange breaks, and the node types it served that the spec does not publish."""
    match = _PATH.match(exchange.path)
    if exchange.fault is not None or match is None or exchange.status >= 400:
        return [], set()
    node_id, edge, method = match["node"], match["edge"] or "", exchange.method
    params: dict[str, Any] = dict(parse_qsl(exchange.query_string))
    body = json.loads(exchange.request_body or b"{}") if method == "POST" else {}
    params.update(body if isinstance(body, dict) else {})
    answer = json.loads(exchange.response_body or b"{}")
    where = f"{method} {exchange.path}"
    unchecked: set[str] = set()
    if not node_id:  # GET /?ids=a,b: each id's node
        served = [(node_type(i) or "", n) for i, n in answer.items()]
        problems = [p for kind, n in served for p in
                    param_problems(spec, kind, "GET", "", {"fields": params.get("fields", "")}) +
                    node_problems(spec, kind, n, f"{where}: ") if kind in spec.fields]
        return problems, {k for k, _ in served if k not in spec.fields}
    kind = node_type(node_id) or ""
    if kind not in spec.fields:
        return [], {kind}
    problems = [f"{where}: {p}" for p in param_problems(spec, kind, method, edge, params)]
    returned = spec.returns.get((kind, method, edge), "") if edge else kind
    if returned not in spec.fields:
        return problems, {returned}
    items = answer.get("data", []) if edge and method == "GET" else [answer]
    if method == "POST" and edge == "messages":
        return problems, set()  # the Send API answers {recipient_id, message_id}: not a node
    for item in items:
        problems += node_problems(spec, returned, item, f"{where}: ")
    return problems, unchecked
