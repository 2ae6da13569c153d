"""Reference pages from the config formats' JSON Schemas, rendered when the site is built.

The schemas come from the same pydantic models that ``continuum schema`` prints and ``continuum validate``
checks against, so a field added to a model appears in the docs on the next build: nothing is copied by hand.
Every value that reaches the page (names, descriptions, defaults, patterns) is escaped first, so a ``|``
in a pattern cannot split a table cell and a ``<`` in a description cannot become markup.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

Schema = dict[str, Any]

# What the docs call each schema, and the model behind it (imported late: building the site needs no more).
KINDS: dict[str, tuple[str, str]] = {
    "hub": ("continuum.config", "HubConfig"),
    "mapping": ("continuum.mapping", "MappingFile"),
    "rules": ("continuum.policy.rulebook", "RuleBook"),
}

_CONSTRAINTS: tuple[tuple[str, str], ...] = (
    ("pattern", "matches"), ("format", "format"), ("minimum", "≥"), ("exclusiveMinimum", ">"),
    ("maximum", "≤"), ("exclusiveMaximum", "<"), ("minLength", "at least this many characters:"),
    ("maxLength", "at most this many characters:"), ("minItems", "at least this many items:"),
    ("maxItems", "at most this many items:"),
)


def schema_for(kind: str) -> Schema:
    """The JSON Schema of one config format, straight from its model."""
    import importlib

    module_name, model_name = KINDS[kind]
    model = getattr(importlib.import_module(module_name), model_name)
    return model.model_json_schema()  # type: ignore[no-any-return]


def text(value: object) -> str:
    """Plain text for a table cell: escaped, on one line, pipes kept out of the table syntax."""
    return html.escape(" ".join(str(value).split())).replace("|", "&#124;")


def code(value: object) -> str:
    """A literal (a default, a pattern, an enum value) as inline code that no character can break."""
    return f"<code>{text(value)}</code>"


def literal(value: object) -> str:
    return code(json.dumps(value, ensure_ascii=False))


def anchor(prefix: str, name: str) -> str:
    return f"{prefix}-{name.lower()}"


def type_of(prop: Schema, prefix: str) -> str:
    """A schema node's type in words, with links to the definitions it refers to."""
    if "$ref" in prop:
        name = str(prop["$ref"]).rsplit("/", 1)[-1]
        return f"[{text(name)}](#{anchor(prefix, name)})"
    for key in ("anyOf", "oneOf", "allOf"):
        if key in prop:
            parts = [type_of(option, prefix) for option in prop[key]]
            return " or ".join(dict.fromkeys(parts))
    if "const" in prop:
        return literal(prop["const"])
    if "enum" in prop:
        return " / ".join(literal(v) for v in prop["enum"])
    kind = prop.get("type")
    if isinstance(kind, list):
        return " or ".join(type_of({**prop, "type": k}, prefix) for k in kind)
    if kind == "array":
        if "prefixItems" in prop:
            return "tuple of " + ", ".join(type_of(item, prefix) for item in prop["prefixItems"])
        items = prop.get("items")
        return f"list of {type_of(items, prefix)}" if isinstance(items, dict) and items else "list"
    if kind == "object":
        values = prop.get("additionalProperties")
        return f"map of {type_of(values, prefix)}" if isinstance(values, dict) and values else "object"
    return text(kind) if kind else "any"


def describe(prop: Schema) -> str:
    """The field's description followed by its constraints (from the node and any ``anyOf`` branch)."""
    parts = [text(prop["description"])] if prop.get("description") else []
    nodes = [prop, *prop.get("anyOf", [])]
    for node in nodes:
        for key, words in _CONSTRAINTS:
            if key in node:
                shown = code(node[key]) if key in ("pattern", "format") else text(node[key])
                parts.append(f"{words} {shown}")
    return "; ".join(parts) or "—"


def default_of(name: str, prop: Schema, required: set[str]) -> str:
    if "default" in prop:
        return literal(prop["default"])
    return "**required**" if name in required else "optional"


def fields_table(node: Schema, prefix: str) -> list[str]:
    properties: dict[str, Schema] = node.get("properties") or {}
    if not properties:
        return ["*(no fields)*", ""]
    required = set(node.get("required") or [])
    lines = ["| field | type | default | description |", "| --- | --- | --- | --- |"]
    for name, prop in properties.items():
        lines.append(f"| {code(name)} | {type_of(prop, prefix)} | {default_of(name, prop, required)} | "
                     f"{describe(prop)} |")
    return [*lines, ""]


def raw_block(schema: Schema, title: str) -> list[str]:
    """The whole schema, folded away (for editors and for anyone who wants every keyword)."""
    body = json.dumps(schema, indent=2, ensure_ascii=False).splitlines()
    return [f'??? note "{title}"', "", "    ```json", *(f"    {line}" for line in body), "    ```", ""]


def render(kind: str, schema_of: Callable[[str], Schema] = schema_for, level: int = 2) -> str:
    """Markdown for one format: the top-level fields, then each definition it uses, then the raw schema."""
    schema = schema_of(kind)
    hashes = "#" * level
    top = str(schema.get("title") or kind)
    lines = [f"{hashes} {text(top)} {{#{anchor(kind, top)}}}", ""]
    if schema.get("description"):
        lines += [text(schema["description"]), ""]
    lines += fields_table(schema, kind)
    for name, node in sorted((schema.get("$defs") or {}).items()):
        lines += [f"{hashes}# {text(name)} {{#{anchor(kind, name)}}}", ""]
        if node.get("description"):
            lines += [text(node["description"]), ""]
        if "enum" in node:
            lines += ["One of " + ", ".join(literal(v) for v in node["enum"]) + ".", ""]
        else:
            lines += fields_table(node, kind)
    lines += [f"{hashes} Raw schema {{#{kind}-raw-schema}}", "",
              f"The same as `continuum schema {kind}` prints, for an editor's completion.", ""]
    lines += raw_block(schema, f"JSON Schema: {kind}")
    return "\n".join(lines)
