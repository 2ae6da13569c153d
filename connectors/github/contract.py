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

# What ``escape_text`` backslash-escapes anywhere in a line (markup.py's _INLINE_ACTIVE).
INLINE_ACTIVE = frozenset("\\*_[]()#`~|$!")
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
ZWSP, NBSP = "\u200b", "\u00a0"


# An autolink as ``escape_text`` writes addresses: ``<`` scheme, host, then RFC 3986 characters only, ``>``.
AUTOLINK = re.compile(r"<(https?://[A-Za-z0-9][-A-Za-z0-9.]*(?::\d+)?(?:[/?#][-A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%]*)?)>")


def literal(raw: str) -> str:
    """What a reader sees once GitHub renders ``raw``: escapes and entities resolved, invisible breaks gone,
    autolinks as their address (taken literally: CommonMark resolves nothing inside them)."""
    pieces = AUTOLINK.split(raw)  # text, address, text, address, ...
    return "".join(piece if n % 2 else _unescape(piece) for n, piece in enumerate(pieces))


def _unescape(text: str) -> str:
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace(ZWSP, "").replace(NBSP, " ")


def markup_left(body: str) -> list[str]:
    """Every way ``body`` could still render as markup, ping someone or link an issue (empty: inert).

    An autolink is allowed: it shows the very address it goes to, and nothing inside it is markup."""
    found = []
    for n, piece in enumerate(AUTOLINK.split(body)):
        if n % 2 == 0:
            found += _markup_in_text(piece)
    return found


def _markup_in_text(body: str) -> list[str]:
    found = [f"live HTML, comment or autolink: {ch!r}" for ch in "<>" if ch in body]
    i = 0
    while i < len(body):
        if body[i] == "\\":
            if i + 1 >= len(body) or not re.match(r"[!-/:-@\[-`{-~]", body[i + 1]):
                found.append(f"a backslash that escapes nothing at {i}")
            i += 2
            continue
        if body[i] in INLINE_ACTIVE:
            found.append(f"unescaped {body[i]!r} at {i}: emphasis, link, image, code, table, math or heading")
        i += 1
    for line in body.split("\n"):
        if line.startswith(("    ", "\t")):
            found.append(f"an indented code block: {line!r}")
        if re.match(r"[-+=*]|\d{1,9}[.)]|#", line.lstrip(NBSP)):
            found.append(f"a list, task list, heading or rule: {line!r}")
    # GitHub links these in the rendered text, escaped or not: only a zero-width space after the sigil stops it.
    found += [f"a live mention at {m.start()}" for m in re.finditer(r"(?<![\w@])@(?=\w)", body)]
    found += [f"a live issue reference at {m.start()}" for m in re.finditer(r"\\?#(?=\w)|\bGH-(?=\w)", body, re.I)]
    found += [f"a bidi control {m.group()!r}" for m in BIDI_CONTROLS.finditer(body)]
    return found


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
        expected = BIDI_CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).replace(ZWSP, "").rstrip()
        assert literal(body) == expected, f"{text!r} does not read back literally from {body!r}"

    def add_records(self, sim: Any, count: int) -> None:
        for n in range(count):  # as the hub would have made them: its label, so the read finds them
            sim.add_staff_issue(f"Staff report {n}", f"Seen by staff, case {n}", ["continuum"])

    def check_exchanges(self, sim: Any) -> None:
        if not (specs_dir() / SPEC).is_file():
            return  # the official description is not checked out next to the repository
        problems = github_errors(sim.exchanges)
        assert not problems, f"{len(problems)} exchanges break {SPEC}:\n" + "\n".join(problems[:10])


HARNESS = GithubHarness()
