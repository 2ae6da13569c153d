"""Confluence storage format (XHTML) for the hub's section of a page, rendered from a plain document.

The engine hands over a *document*, plain data with no markup in it::

    {"intro": "...", "blocks": [{"heading": "Identities", "facts": [["mastodon", "@ann@fosstodon.org"]]},
                                {"heading": "Tickets", "columns": ["Ticket", "State"], "rows": [[cell, "open"]]},
                                {"heading": "Note", "text": "..."}]}

where a cell is text or ``{"text": ..., "url": ...}``.  It is rendered by one Jinja2 template with autoescape
on (``templates/section.xhtml.j2``): customer text can never become an element, a macro (``<ac:...>``), a
mention (``<ri:user>``) or an entity.  Characters XML 1.0 cannot carry and direction overrides are dropped
first (:func:`clean`), so the page is well-formed and reads as written.  Only ``http``/``https`` URLs become
links; a cell with any other URL shows its text without the link.

The hub owns the part of a page between two anchor macros (:data:`START`, :data:`END`); the rest is the
staff's.  :func:`splice` puts a new section in place of the old one and leaves every other byte as it was.
Customer text cannot forge a marker: escaped, it has no ``<``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

ANCHOR = (
    '<ac:structured-macro ac:name="anchor" ac:schema-version="1"><ac:parameter ac:name="">{}</ac:parameter>'
    "</ac:structured-macro>"
)
START, END = ANCHOR.format("continuum-start"), ANCHOR.format("continuum-end")
MAX_TITLE = 255  # Confluence's limit for a page title
# Not allowed in XML 1.0 (Confluence refuses such a page), and the direction overrides that make text read
# otherwise than it is written.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_LINK = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)


def clean(text: str) -> str:
    """``text`` without what XML cannot hold or what reverses its reading; ``\\r\\n`` becomes ``\\n``."""
    return _BIDI.sub("", _NOT_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))


def _lines(value: Any) -> Markup:
    return Markup("<br />").join(escape(line) for line in clean(str(value or "")).split("\n"))


def _cell(value: Any) -> Markup:
    if isinstance(value, Mapping):
        text, url = _lines(value.get("text") or value.get("url") or ""), str(value.get("url") or "")
        if url and _LINK.match(url):
            return Markup('<a href="{}">{}</a>').format(clean(url), text)
        return text
    return _lines(value)


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )
    env.filters.update(lines=_lines, cell=_cell)
    return env


def check_document(document: Any) -> Mapping[str, Any]:
    """The document, or a ValueError naming the field that is not what a section is made of."""
    if not isinstance(document, Mapping):
        raise ValueError("field 'document' must be an object with 'blocks'")
    blocks = document.get("blocks")
    if not isinstance(blocks, list):
        raise ValueError("field 'document.blocks' must be a list")
    for n, block in enumerate(blocks):
        where = f"document.blocks[{n}]"
        if not isinstance(block, Mapping) or not isinstance(block.get("heading"), str):
            raise ValueError(f"field '{where}' must be an object with a text 'heading'")
        kinds = [k for k in ("facts", "columns", "text") if k in block]
        if len(kinds) != 1:
            raise ValueError(f"field '{where}' must have exactly one of facts, columns or text")
        if kinds == ["columns"] and not isinstance(block.get("rows", []), list):
            raise ValueError(f"field '{where}.rows' must be a list of rows")
        if kinds == ["facts"] and not all(isinstance(f, list | tuple) and len(f) == 2 for f in block["facts"]):
            raise ValueError(f"field '{where}.facts' must be a list of [label, value] pairs")
    return document


def render_section(document: Any) -> str:
    """The hub's section (markers included) for ``document``."""
    checked = check_document(document)
    view = {
        "intro": checked.get("intro"),
        "footer": checked.get("footer"),
        "blocks": [_block(b) for b in checked["blocks"]],
    }
    return _environment().get_template("section.xhtml.j2").render(document=view, start=Markup(START), end=Markup(END))


def _block(block: Mapping[str, Any]) -> dict[str, Any]:
    made = {"heading": clean(block["heading"])}
    for name in ("facts", "columns", "rows", "text", "empty"):
        if name in block:
            made[name] = block[name]
    return made


class HumanEditedMarkers(ValueError):
    """Someone changed or removed one of the hub's two markers: the page is left as it is."""


def splice(body: str, section: str) -> str:
    """``body`` with its hub section replaced by ``section`` (appended when it has none); all else kept."""
    starts, ends = body.count(START), body.count(END)
    if starts == ends == 0:
        return f"{body}{section}" if body else section
    if starts != 1 or ends != 1 or body.index(START) > body.index(END):
        raise HumanEditedMarkers(
            f"the page's hub section markers were edited ({starts} start, {ends} end): fix "
            "or remove them in Confluence; the page is not written until then"
        )
    before, _, rest = body.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{section}{after}"


def title_of(text: str) -> str:
    """A page title Confluence takes: one line, no XML-invalid characters, at most 255 characters."""
    title = " ".join(clean(text).split())
    return title[:MAX_TITLE].rstrip()
