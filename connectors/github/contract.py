"""What the shared contract suite needs to know about GitHub (the plugin's ``contract`` reference).

Test-only: the suite resolves it lazily, production never imports it.  Exchanges are validated against GitHub's
own REST description (13 MB: ``load_spec`` parses it once per process).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from connectors.github.markup import split_marker
from connectors.github.plugin import SIM_REPOSITORY
from connectors.github.simcontract import SPEC, github_errors
from continuum.connector import Effect
from continuum.simkit.contract import specs_dir
from continuum.testing.harness import ContractHarness
from continuum.testing.markdown import MarkdownDialect

# GitHub's Markdown: what ``escape_text`` backslash-escapes anywhere in a line (markup.py's _INLINE_ACTIVE).
# GitHub links mentions and issue references in the rendered text, escaped or not: only a zero-width space
# after the sigil stops it.  An autolink as ``escape_text`` writes addresses (``<`` scheme, host, RFC 3986
# characters only, ``>``) is allowed: it shows the very address it goes to, and nothing inside it is markup.
DIALECT = MarkdownDialect(
    inline_active=frozenset("\\*_[]()#`~|$!"), inline_meaning="emphasis, link, image, code, table, math or heading",
    sigils=(("mention", r"(?<![\w@])@(?=\w)"), ("issue reference", r"(?i)\\?#(?=\w)|\bGH-(?=\w)")),
    autolink=re.compile(
        r"<(https?://[A-Za-z0-9][-A-Za-z0-9.]*(?::\d+)?(?:[/?#][-A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%]*)?)>"))
literal, markup_left = DIALECT.literal, DIALECT.markup_left


class GithubHarness(ContractHarness):
    system: ClassVar[str] = "github"
    stream: ClassVar[str | None] = "issues"
    page_size: ClassVar[int] = 10
    options: ClassVar[dict[str, Any]] = {"repository": SIM_REPOSITORY, "page_size": page_size}

    def effect(self, sim: Any, key: str, text: str) -> Effect:
        return Effect(key=key, action="create", object_type="issue",
                      fields={"title": f"Customer report {key}", "body": text})

    def broken_effect(self, sim: Any, key: str) -> Effect:
        return Effect(key=key, action="create", object_type="issue", fields={"title": "  ", "body": "x"})

    def written(self, sim: Any, key: str) -> list[str]:
        return [str(issue["body"]) for issue in sim.issues() if split_marker(issue["body"])[1] == key]

    def assert_inert(self, stored: str, text: str) -> None:
        body, key = split_marker(stored)
        assert key and "<!--" not in body, f"not one key marker at the end: {stored!r}"
        problems = markup_left(body)
        assert not problems, f"{text!r} was written as {body!r}: " + "; ".join(problems)
        assert literal(body) == DIALECT.expected(text), f"{text!r} does not read back literally from {body!r}"

    def add_records(self, sim: Any, count: int) -> None:
        for n in range(count):  # as the hub would have made them: its label, so the read finds them
            sim.add_staff_issue(f"Staff report {n}", f"Seen by staff, case {n}", ["continuum"])

    def check_exchanges(self, sim: Any) -> None:
        if not (specs_dir() / SPEC).is_file():
            return  # the official description is not checked out next to the repository
        problems = github_errors(sim.exchanges)
        assert not problems, f"{len(problems)} exchanges break {SPEC}:\n" + "\n".join(problems[:10])


HARNESS = GithubHarness()
