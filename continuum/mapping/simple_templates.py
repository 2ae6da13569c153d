"""Inbound templates that only join text and dotted names, rendered without Jinja.

``channel: {template: "discourse/{{ record.continuum.category_slug }}"}`` is
the common shape of an inbound template, and Jinja's sandboxed render (a new
context and a finalize call per value) cost more than the rest of the field
mapping.  A template of literal text and ``{{ a.b.c }}`` names only, whose
names all lead through dictionaries to text, a whole number or nothing, gives
the same string rendered here; anything else (a filter, a tag, a list, a
name that is also a dict method such as ``items``) returns :data:`FALLBACK`
and Jinja renders it, so no template means something different here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

FALLBACK = object()

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_EXPRESSION = re.compile(rf"\{{\{{\s*({_NAME}(?:\.{_NAME})*)\s*\}}\}}")
_LITERAL = re.compile(r"[^{}\n]*")  # no other Jinja syntax (no braces), no line handling to reproduce


@lru_cache(maxsize=512)
def parts(source: str) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """(literal before, dotted name) pairs and a last literal (with an empty name), or None if not simple."""
    found: list[tuple[str, tuple[str, ...]]] = []
    position = 0
    for match in _EXPRESSION.finditer(source):
        literal = source[position:match.start()]
        if not _LITERAL.fullmatch(literal):
            return None
        found.append((literal, tuple(match.group(1).split("."))))
        position = match.end()
    tail = source[position:]
    if not _LITERAL.fullmatch(tail):
        return None
    found.append((tail, ()))
    return tuple(found)


def render(source: str, context: dict[str, Any]) -> Any:
    """The template rendered as Jinja's inbound environment renders it, or FALLBACK."""
    pieces = parts(source)
    if pieces is None:
        return FALLBACK
    out: list[str] = []
    for literal, names in pieces:
        out.append(literal)
        if not names:
            continue
        if names[0] not in context:
            return FALLBACK  # Jinja would look among its globals (``range``, ``dict``, ...)
        value: Any = context
        for name in names:
            if value is None:
                break  # a missing step: Jinja's chainable undefined renders as nothing
            if not isinstance(value, dict) or hasattr(dict, name):
                return FALLBACK
            value = value.get(name)
        if value is None:
            continue
        if type(value) is str:
            out.append(value)
        elif type(value) is int:
            out.append(str(value))
        else:
            return FALLBACK  # floats, booleans, lists and objects render as Jinja decides
    return "".join(out)
