"""Plain text <-> Atlassian Document Format (ADF), the rich text of Jira REST v3.

Customer text only ever becomes ADF text nodes, which Jira shows literally (``{code}``, ``[~accountid:..]``,
``<b>``), so the connector escapes nothing.  Staff's rich ADF (marks, mentions, lists) flattens to plain text.
"""

from __future__ import annotations

import re
from typing import Any

from continuum.connector import JSON

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
# What ADF (XML underneath) cannot carry: one stray control byte would fail the whole request with a 400.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Blocks of blocks: their parts are separated by blank lines.
_BLOCKS = {"doc", "blockquote", "panel", "expand", "nestedExpand", "layoutSection", "layoutColumn", "tableCell",
           "tableHeader", "listItem", "decisionList", "taskList"}
# Inline nodes whose text is an attribute (the first one present).
_ATTRIBUTE = {"mention": ("text", "id"), "emoji": ("text", "shortName"), "inlineCard": ("url",),
              "blockCard": ("url",), "embedCard": ("url",), "date": ("timestamp",), "status": ("text",)}


def text_to_adf(text: str) -> JSON:
    """Paragraphs at blank lines, a ``hardBreak`` per newline; no empty text nodes (ADF forbids them)."""
    content: list[JSON] = []
    for block in _BLANK_LINE.split(_CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))):
        if not block.strip():
            continue
        inline: list[JSON] = []
        for n, line in enumerate(block.strip("\n").split("\n")):
            inline += ([{"type": "hardBreak"}] if n else []) + ([{"type": "text", "text": line}] if line else [])
        content.append({"type": "paragraph", "content": inline})
    return {"type": "doc", "version": 1, "content": content}


def adf_to_text(node: Any) -> str:
    """An ADF document (or a v2-style plain string) as plain text."""
    return node if isinstance(node, str) else _render(node).strip("\n") if isinstance(node, dict) else ""


def _render(node: JSON) -> str:
    kind, attrs = str(node.get("type")), node.get("attrs") or {}
    parts = [_render(child) for child in node.get("content") or [] if isinstance(child, dict)]
    if kind in _ATTRIBUTE:
        text = next((str(attrs[name]) for name in _ATTRIBUTE[kind] if attrs.get(name)), "")
        return "@" + text if kind == "mention" and not attrs.get("text") else text
    if kind in ("bulletList", "orderedList"):
        return "\n".join(f"{f'{n}.' if kind == 'orderedList' else '-'} " + part.strip("\n").replace("\n", "\n  ")
                         for n, part in enumerate(parts, start=1))
    if kind in _BLOCKS:
        return "\n\n".join(part.strip("\n") for part in parts if part.strip("\n"))
    if kind == "tableRow":
        return " | ".join(part.replace("\n", " ") for part in parts)
    leaves = {"text": str(node.get("text", "")), "hardBreak": "\n", "rule": "---"}
    return leaves.get(kind, ("\n" if kind == "table" else "").join(parts))  # a table's rows; else inline content
