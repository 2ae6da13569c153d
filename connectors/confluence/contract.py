"""The shared contract suite's view of Confluence: pages the hub published, found by their title.

Confluence is written to only, so the suite's reading checks skip.  The hostile texts go into a page's intro
and a table cell; the stored storage body must parse as XHTML whose only markup is the template's own (the
two anchor macros, headings, tables, paragraphs, line breaks) and whose text is the customer's, as written.
Test support only: production never imports this module.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Any, ClassVar

from connectors.confluence.simcontract import confluence_errors, have_specs
from connectors.confluence.simulator import _WRAP
from connectors.confluence.storage import clean
from continuum.connector import Effect
from continuum.testing.harness import ContractHarness

AC = "{http://atlassian.com/content}"
TEMPLATE_TAGS = {"p", "h2", "table", "tbody", "tr", "th", "td", "a", "br", "em", "sub"}


def page_effect(key: str, title: str, text: str, **more: Any) -> Effect:
    document = {
        "intro": text,
        "blocks": [
            {
                "heading": "What they wrote",
                "columns": ["Text", "Source"],
                "rows": [[text, {"text": text, "url": "https://example.com/post/1"}]],
            }
        ],
    }
    return Effect(key, "publish", "page", {"title": title, "document": document, **more})


def title_for(key: str) -> str:
    return f"Contract page {key}"


def paragraph_text(element: ElementTree.Element) -> str:
    """An element's text with each ``<br />`` read as a line break."""
    parts = [element.text or ""]
    for child in element:
        parts.append(("\n" if child.tag == "br" else "".join(child.itertext())) + (child.tail or ""))
    return "".join(parts)


class ConfluenceHarness(ContractHarness):
    system: ClassVar[str] = "confluence"
    stream: ClassVar[str | None] = None

    def effect(self, sim: Any, key: str, text: str) -> Effect:
        return page_effect(key, title_for(key), text)

    def broken_effect(self, sim: Any, key: str) -> Effect:
        return Effect(key, "publish", "page", {"title": "   ", "document": {"blocks": []}})  # no title

    def written(self, sim: Any, key: str) -> list[str]:
        return [str(p["body"]) for p in sim.pages() if p["title"] == title_for(key)]

    def assert_inert(self, stored: str, text: str) -> None:
        root = ElementTree.fromstring(f"{_WRAP[0]}{stored}{_WRAP[1]}")  # well-formed, or Confluence refuses it
        macros = [e for e in root.iter() if e.tag.startswith(AC)]
        names = [e.get(f"{AC}name") for e in macros if e.tag == f"{AC}structured-macro"]
        assert names == ["anchor", "anchor"], f"{text!r} made macros {names} in {stored!r}"
        other = {e.tag for e in root.iter() if e is not root and not e.tag.startswith(AC)} - TEMPLATE_TAGS
        assert not other, f"{text!r} became markup {sorted(other)} in {stored!r}"
        assert not any("atlassian.com/resource" in e.tag for e in root.iter()), f"{text!r} made a mention"
        hrefs = [e.get("href") for e in root.iter("a")]
        assert hrefs == ["https://example.com/post/1"], f"{text!r} made links {hrefs}"
        expected = clean(text)
        intro = root.find("p")
        assert intro is not None and paragraph_text(intro) == expected, (
            f"{text!r} does not read back literally: {paragraph_text(intro) if intro is not None else None!r}"
        )
        cells = [paragraph_text(td) for td in root.iter("td")]
        assert cells[:1] == [expected], f"{text!r} does not read back literally from its cell: {cells[:1]!r}"

    def check_exchanges(self, sim: Any) -> None:
        if not have_specs():
            return  # the official descriptions are not checked out next to the repository
        problems = confluence_errors(sim.exchanges)
        assert not problems, f"{len(problems)} exchanges break Confluence's descriptions:\n" + "\n".join(problems[:10])


HARNESS = ConfluenceHarness()
