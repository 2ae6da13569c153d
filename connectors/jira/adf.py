"""Plain text <-> Atlassian Document Format (ADF), the rich-text format of Jira REST v3.

Writing: customer text only ever becomes the ``text`` of ADF text nodes.  A
text node is literal: Jira renders ``{code}``, ``[~accountid:..]``, ``<b>`` or
``*bold*`` inside it as those very characters, so nothing a customer writes
can turn into markup, a mention or a macro.  That is why the connector needs
no escaping (see ``JiraConnector.escape_text``).

Reading: staff write comments in the Jira editor, which produces ADF with
marks, mentions, lists and so on; :func:`adf_to_text` flattens that into
readable plain text for the other systems.
"""

from __future__ import annotations

import re
from typing import Any

JSON = dict[str, Any]

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
# Characters ADF (and XML underneath Jira) cannot carry; they would make the
# whole request fail with a 400 for one stray control byte in a customer post.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Blocks whose children are blocks: their text is separated by blank lines.
_BLOCK_CONTAINERS = {"doc", "blockquote", "panel", "expand", "nestedExpand", "layoutSection",
                     "layoutColumn", "tableCell", "tableHeader", "listItem", "decisionList", "taskList"}
_LIST_TYPES = {"bulletList", "orderedList"}


def text_to_adf(text: str) -> JSON:
    """Turn plain text into an ADF document.

    Paragraphs are separated by blank lines; a single newline becomes a
    ``hardBreak`` so the author's line layout survives.  Empty text gives an
    empty document (ADF forbids empty text nodes).
    """
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    content: list[JSON] = []
    for block in _BLANK_LINE.split(text):
        block = block.strip("\n")
        if not block.strip():
            continue
        inline: list[JSON] = []
        for number, line in enumerate(block.split("\n")):
            if number:
                inline.append({"type": "hardBreak"})
            if line:
                inline.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": inline})
    return {"type": "doc", "version": 1, "content": content}


def adf_to_text(node: Any) -> str:
    """Flatten an ADF document (or a v2-style plain string) into plain text."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return "\n\n".join(part for part in (adf_to_text(child) for child in node) if part)
    if not isinstance(node, dict):
        return ""
    return _render(node).strip("\n")


def _render(node: JSON) -> str:
    kind = node.get("type")
    attrs = node.get("attrs") or {}
    children = [child for child in node.get("content") or [] if isinstance(child, dict)]
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind == "mention":
        return str(attrs.get("text") or "@" + str(attrs.get("id", "")))
    if kind == "emoji":
        return str(attrs.get("text") or attrs.get("shortName", ""))
    if kind in ("inlineCard", "blockCard", "embedCard"):
        return str(attrs.get("url", ""))
    if kind == "date":
        return str(attrs.get("timestamp", ""))
    if kind == "status":
        return str(attrs.get("text", ""))
    if kind in ("mediaSingle", "mediaGroup", "media", "mediaInline"):
        return ""  # attachments have no text to carry
    if kind == "rule":
        return "---"
    if kind in _LIST_TYPES:
        lines = []
        for number, item in enumerate(children, start=1):
            bullet = f"{number}." if kind == "orderedList" else "-"
            body = _render(item).strip("\n").replace("\n", "\n  ")
            lines.append(f"{bullet} {body}")
        return "\n".join(lines)
    if kind == "codeBlock":
        return "".join(_render(child) for child in children)
    if kind == "table":
        return "\n".join(_render(row) for row in children)
    if kind == "tableRow":
        return " | ".join(_render(cell).replace("\n", " ") for cell in children)
    if kind in _BLOCK_CONTAINERS:
        return "\n\n".join(part for part in (_render(child).strip("\n") for child in children) if part)
    # paragraph, heading, taskItem, decisionItem and anything unknown: inline content.
    return "".join(_render(child) for child in children)


def is_adf_document(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "doc" and isinstance(value.get("content"), list)


def text_nodes(node: Any) -> list[str]:
    """Every text node's text, in order; tests use it to prove text stayed literal."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "text":
            found.append(str(node.get("text", "")))
        for child in node.get("content") or []:
            found.extend(text_nodes(child))
    elif isinstance(node, list):
        for child in node:
            found.extend(text_nodes(child))
    return found
