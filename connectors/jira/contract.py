"""What the shared contract suite needs to know about Jira (the plugin's ``contract`` reference).

Test-only: the suite resolves it lazily, production never imports it.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from connectors.jira.simcontract import SPEC, rfc3339_offsets
from continuum.connector import Effect
from continuum.simkit.contract import contract_errors, specs_dir
from continuum.testing.harness import ContractHarness

# Customer text may only become paragraphs, line breaks and unmarked text nodes.
LITERAL_NODES = frozenset({"doc", "paragraph", "text", "hardBreak"})


def text_nodes(node: Any) -> list[str]:
    """Every text node's text, in order."""
    if isinstance(node, list):
        return [text for child in node for text in text_nodes(child)]
    if not isinstance(node, dict):
        return []
    return ([str(node.get("text", ""))] if node.get("type") == "text" else []) + text_nodes(node.get("content") or [])


def markup_left(node: Any) -> list[str]:
    """Every node or mark that is not plain text (a mention, card, link, code...), one line each."""
    if isinstance(node, list):
        return [problem for child in node for problem in markup_left(child)]
    if not isinstance(node, dict):
        return []
    found = [f"a {node.get('type')!r} node"] if node.get("type") not in LITERAL_NODES else []
    found += [f"a {mark.get('type')!r} mark on {node.get('text')!r}" for mark in node.get("marks") or []]
    found += [f"attributes {node['attrs']!r}"] if node.get("attrs") else []
    return found + markup_left(node.get("content") or [])


class JiraHarness(ContractHarness):
    system: ClassVar[str] = "jira"
    stream: ClassVar[str | None] = "issues"
    page_size: ClassVar[int] = 10
    options: ClassVar[dict[str, Any]] = {"project": "PROD", "page_size": page_size}

    def effect(self, sim: Any, key: str, text: str) -> Effect:
        return Effect(key=key, action="create", object_type="issue",
                      fields={"summary": f"Customer report {key}", "description": text})

    def broken_effect(self, sim: Any, key: str) -> Effect:
        return Effect(key=key, action="create", object_type="issue", fields={"summary": "  ", "description": "x"})

    def written(self, sim: Any, key: str) -> list[str]:
        """The description of every issue carrying the key's label, as Jira keeps it: ADF, as JSON."""
        return [json.dumps(issue["fields"].get("description")) for issue in sim.issues()
                if f"continuum-{key}" in issue["fields"].get("labels", [])]

    def assert_inert(self, stored: str, text: str) -> None:
        doc = json.loads(stored)
        problems = markup_left(doc)
        assert not problems, f"{text!r} was written as {doc!r}: " + "; ".join(problems)
        expected = re.sub(r"[\r\n]", "", text)  # line breaks become hardBreak nodes and paragraphs
        assert "".join(text_nodes(doc)) == expected, f"{text!r} does not read back literally from {doc!r}"

    def add_records(self, sim: Any, count: int) -> None:
        for n in range(count):
            sim.add_staff_issue(f"Staff report {n}", description=f"Seen by staff, case {n}")

    def check_exchanges(self, sim: Any) -> None:
        if not (specs_dir() / SPEC).is_file():
            return  # the official description is not checked out next to the repository
        problems = contract_errors(SPEC, rfc3339_offsets(sim.exchanges))
        assert not problems, f"{len(problems)} exchanges break {SPEC}:\n" + "\n".join(problems[:10])


HARNESS = JiraHarness()
