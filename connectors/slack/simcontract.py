"""Slack's Web API description is Swagger 2.0; the contract machinery reads OpenAPI 3.

``openapi-core`` does not read Swagger 2.0, so :func:`to_openapi31` converts
the part of the official document the connector uses, in memory only (the
file is never changed or copied):

* ``definitions`` -> ``components/schemas`` (``$ref`` rewritten);
* ``query``/``header`` parameters -> parameters with a ``schema``;
* ``formData`` parameters -> an ``application/x-www-form-urlencoded``
  ``requestBody`` whose object schema names exactly those fields
  (``additionalProperties: false``: an undocumented field is an error);
* each response's ``schema`` -> ``content: application/json``;
* ``host`` + ``basePath`` -> a server at the neutral contract host + ``/api``.

Three readings of the 2.0 document are deliberate and stated here:

1. **The token.**  Every method declares a ``token`` parameter, as a header
   literally named ``token`` (``auth.test``, ``chat.postMessage``), a query
   parameter (``conversations.history``) or form field.  Slack reads the
   token from ``Authorization: Bearer`` (or a ``token`` form/query field),
   never from a ``token`` header.  The ``token`` parameter is dropped and the
   ``slackAuth`` scheme becomes HTTP bearer, so a request without
   ``Authorization: Bearer`` is still an error.
2. **Tuple ``items`` on non-arrays.**  The document writes "one of" as
   draft-4 tuple validation, e.g. ``bot_id: {items: [defs_bot_id, {type: null}]}``
   without ``type: array``.  Read literally that constrains nothing; it is
   converted to ``anyOf`` of the listed schemas, which is what the authors
   meant and is stricter.  (On real arrays it becomes ``prefixItems``.)
3. **Errors arrive as HTTP 200.**  Each method documents its error body
   (``{"ok": false, "error": …}``) as the ``default`` response, but Slack
   sends it with status 200 (https://api.slack.com/web#evaluating_responses).
   Read literally, every error would be checked against the *success*
   schema.  The 200 response becomes ``oneOf`` [success, error]; ``ok`` is
   ``true`` in one and ``false`` in the other, so exactly one must match.
4. **Only the 2020 surface.**  The description is from 2020.  What Slack
   added since and the connector relies on is listed in :data:`ADDENDUM` and
   applied by :func:`slack_contract_errors`; tests prove that without it the
   traffic fails on exactly these names and nothing else.

``openapi-core`` ignores form fields and query parameters a description
does not name, so :func:`slack_contract_errors` also reports every
undocumented one itself.

The document is converted to OpenAPI **3.1** because its schemas use
``type: "null"``, which 3.0 cannot express.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from continuum.simkit.contract import HOST, check_exchanges, describe_error, specs_dir
from continuum.simkit.server import Exchange

SPEC = "slack-web-api.openapi_v2.json"
# The Web API methods the connector calls.
METHODS = ("/auth.test", "/chat.postMessage", "/conversations.history", "/conversations.list",
           "/conversations.open", "/conversations.replies", "/users.lookupByEmail")
JSON = dict[str, Any]

# What Slack added after the 2020 description, with Slack's own documentation.
ADDENDUM: JSON = {
    # https://api.slack.com/methods/chat.postMessage#arg_metadata (2022): a JSON
    # object with event_type and event_payload, URL-encoded as a string in a form body.
    "form_fields": {"/chat.postMessage": {"metadata": {"type": "string"}}},
    # https://api.slack.com/methods/conversations.history#arg_include_all_metadata
    "query_parameters": {"/conversations.history": {"include_all_metadata": {"type": "boolean"}},
                         # https://api.slack.com/methods/conversations.replies#arg_include_all_metadata
                         "/conversations.replies": {"include_all_metadata": {"type": "boolean"}}},
    # https://api.slack.com/reference/metadata: messages carry the metadata they were posted with.
    "message_properties": {"metadata": {
        "type": "object",
        "properties": {"event_type": {"type": "string"}, "event_payload": {"type": "object"}},
        "required": ["event_type", "event_payload"],
    },
        # https://api.slack.com/events/message/message_changed: an edited message says who edited it, and when.
        "edited": {"type": "object", "properties": {"user": {"type": "string"}, "ts": {"type": "string"}},
                   "required": ["user", "ts"]}},
    # https://api.slack.com/methods/conversations.replies#examples: the 2020 schemas of a thread's parent and
    # replies lack what any message has (bot_id, and the metadata and edited above); the answer pages by cursor.
    "replies_response": {"message_properties": {"bot_id": {"type": "string"}, "reactions": {
        "type": "array", "items": {"$ref": "#/components/schemas/objs_reaction"}}},
                         "response_metadata": {"type": "object", "properties": {"next_cursor": {"type": "string"}},
                                               "required": ["next_cursor"]}},
    # https://api.slack.com/methods/conversations.history#examples: cursor pagination
    # (next_cursor) came to conversations.history after the description; an empty
    # channel answers "messages": [] although the description says minItems 1.
    "history_response": {"response_metadata": {
        "type": "object", "properties": {"next_cursor": {"type": "string"}}, "required": ["next_cursor"]}},
}


def _schema(node: Any) -> Any:
    """A 2.0 (draft-4) schema as a 3.1 (2020-12) schema."""
    if isinstance(node, list):
        return [_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: JSON = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = value.replace("#/definitions/", "#/components/schemas/")
        elif key == "items" and isinstance(value, list):
            if node.get("type") == "array":
                out["prefixItems"] = _schema(value)
            else:  # "one of these", written as tuple validation on a non-array
                out["anyOf"] = _schema(value)
        elif key in ("properties", "patternProperties", "definitions"):
            out[key] = {name: _schema(sub) for name, sub in value.items()}
        elif key in ("example", "x-example"):
            continue  # examples break their own schemas (see the specs README); not validated
        else:
            out[key] = _schema(value)
    return out


_PARAM_SCHEMA_KEYS = ("type", "format", "items", "enum", "minimum", "maximum", "pattern", "default",
                      "minLength", "maxLength")


def _parameter_schema(param: JSON) -> JSON:
    schema: JSON = _schema({k: param[k] for k in _PARAM_SCHEMA_KEYS if k in param})
    return schema


def _operation(op: JSON) -> JSON:
    parameters: list[JSON] = []
    form: JSON = {"type": "object", "properties": {}, "required": [], "additionalProperties": False}
    for param in op.get("parameters") or []:
        if param.get("name") == "token":
            continue  # the credential: carried by the bearer scheme (see the module docstring)
        where = param.get("in")
        if where == "formData":
            form["properties"][param["name"]] = _parameter_schema(param)
            if param.get("required"):
                form["required"].append(param["name"])
        elif where in ("query", "header", "path"):
            parameters.append({"name": param["name"], "in": where, "required": bool(param.get("required")),
                               "schema": _parameter_schema(param)})
        elif where == "body":
            raise ValueError("body parameters are not used by the Slack methods converted here")
    converted: JSON = {"operationId": op.get("operationId"), "parameters": parameters, "responses": {},
                       "security": [{"slackAuth": []}]}
    if form["properties"]:
        if not form["required"]:
            del form["required"]
        converted["requestBody"] = {"required": True,
                                    "content": {"application/x-www-form-urlencoded": {"schema": form}}}
    responses = op.get("responses") or {}
    for status, response in responses.items():
        item: JSON = {"description": response.get("description") or str(status)}
        if "schema" in response:
            schema = _schema(response["schema"])
            error = (responses.get("default") or {}).get("schema")
            if str(status) == "200" and error is not None:
                schema = {"oneOf": [schema, _schema(error)]}  # Slack's errors come as HTTP 200 too
            item["content"] = {"application/json": {"schema": schema}}
        converted["responses"][str(status)] = item
    return converted


def to_openapi31(swagger: JSON, paths: Iterable[str] = METHODS) -> JSON:
    """The named paths of a Slack Swagger 2.0 document as an OpenAPI 3.1 document."""
    if swagger.get("swagger") != "2.0":
        raise ValueError("expected a Swagger 2.0 document")
    out_paths: JSON = {}
    for path in paths:
        item = swagger["paths"][path]
        out_paths[path] = {method: _operation(op) for method, op in item.items()
                           if method in ("get", "post", "put", "delete", "patch")}
    return {
        "openapi": "3.1.0",
        "info": {"title": swagger["info"].get("title", "Slack Web API"), "version": swagger["info"]["version"]},
        "servers": [{"url": HOST + (swagger.get("basePath") or "")}],
        "paths": out_paths,
        "components": {
            "schemas": {name: _schema(schema) for name, schema in swagger.get("definitions", {}).items()},
            "securitySchemes": {"slackAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


def apply_addendum(document: JSON) -> JSON:
    """A copy of a converted document with :data:`ADDENDUM` applied."""
    doc = copy.deepcopy(document)
    for path, fields in ADDENDUM["form_fields"].items():
        body = doc["paths"][path]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        body["properties"].update(copy.deepcopy(fields))
    for path, params in ADDENDUM["query_parameters"].items():
        for name, schema in params.items():
            doc["paths"][path]["get"]["parameters"].append(
                {"name": name, "in": "query", "required": False, "schema": dict(schema)})
    doc["components"]["schemas"]["objs_message"]["properties"].update(copy.deepcopy(ADDENDUM["message_properties"]))
    history = doc["paths"]["/conversations.history"]["get"]["responses"]["200"]["content"]["application/json"]
    success = history["schema"]["oneOf"][0]  # [success, error], see reading 3
    success["properties"].update(copy.deepcopy(ADDENDUM["history_response"]))
    success["properties"]["messages"].pop("minItems", None)
    replies = doc["paths"]["/conversations.replies"]["get"]["responses"]["200"]["content"]["application/json"]
    extra = ADDENDUM["replies_response"]
    success = replies["schema"]["oneOf"][0]
    success["properties"]["response_metadata"] = copy.deepcopy(extra["response_metadata"])
    for kind in success["properties"]["messages"]["items"]["anyOf"]:  # the parent, then a reply
        kind["properties"].update(copy.deepcopy({**ADDENDUM["message_properties"], **extra["message_properties"]}))
    return doc


@functools.lru_cache(maxsize=2)
def load_document(with_addendum: bool = True) -> JSON:
    swagger = json.loads((specs_dir() / SPEC).read_text(encoding="utf-8"))
    document = to_openapi31(swagger)
    return apply_addendum(document) if with_addendum else document


@functools.lru_cache(maxsize=2)
def load_openapi(with_addendum: bool = True) -> Any:
    from openapi_core import Config, OpenAPI

    return OpenAPI.from_dict(copy.deepcopy(load_document(with_addendum)), config=Config(spec_validator_cls=None))


def _undocumented(document: JSON, exchange: Exchange) -> list[str]:
    """Query parameters and form fields the description does not name for this method."""
    base = urlsplit(document["servers"][0]["url"]).path
    path = exchange.path[len(base):] if exchange.path.startswith(base) else exchange.path
    operation = (document["paths"].get(path) or {}).get(exchange.method.lower())
    if operation is None:
        return []  # openapi-core reports the unknown operation itself
    known_query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    extra = [f"query parameter {name!r}" for name, _ in parse_qsl(exchange.query_string, keep_blank_values=True)
             if name not in known_query]
    content_type = next((v for k, v in exchange.request_headers.items() if k.lower() == "content-type"), "")
    if exchange.request_body and content_type.startswith("application/x-www-form-urlencoded"):
        form = (operation.get("requestBody") or {}).get("content", {}).get("application/x-www-form-urlencoded", {})
        known_form = set((form.get("schema") or {}).get("properties", {}))
        extra += [f"form field {name!r}" for name, _ in parse_qsl(exchange.request_body.decode("utf-8", "replace"),
                                                                   keep_blank_values=True) if name not in known_form]
    return [f"undocumented {what}" for what in dict.fromkeys(extra)]


def _explain(exc: BaseException) -> str:
    """Like the shared ``describe_error``, but opens the [success, error] ``oneOf`` of a 200 answer.

    A body that matches neither branch is reported with the reasons of the
    branch its ``ok`` chose, not as an opaque "not valid under any".
    """
    lines = [str(exc).splitlines()[0][:300]]
    inner = list(getattr(exc, "schema_errors", None) or [])
    inner += list(getattr(exc.__cause__, "schema_errors", None) or []) if exc.__cause__ is not None else []
    if not inner:
        return describe_error(exc)
    for error in inner:
        instance = getattr(error, "instance", None)
        context = list(getattr(error, "context", None) or [])
        if getattr(error, "validator", None) == "oneOf" and isinstance(instance, dict) and context:
            branch = 0 if instance.get("ok") is True else 1
            for sub in context:
                if sub.relative_schema_path and sub.relative_schema_path[0] == branch:
                    lines.append(f"  - {sub.message[:300]} at {list(sub.absolute_path)}")
        else:
            lines.append(f"  - {getattr(error, 'message', error)} at {list(getattr(error, 'absolute_path', []))}")
    return "\n".join(lines)


def slack_contract_errors(exchanges: list[Exchange], with_addendum: bool = True) -> list[str]:
    """Every way the exchanges break the converted description, one line each (faults skipped).

    The same checks as :func:`continuum.simkit.contract.contract_errors`, on
    the in-memory OpenAPI 3.1 form of Slack's Swagger 2.0 document.
    """
    document = load_document(with_addendum)
    return check_exchanges(load_openapi(with_addendum), exchanges,
                           extra_request_checks=lambda exchange: _undocumented(document, exchange),
                           describe=_explain)
