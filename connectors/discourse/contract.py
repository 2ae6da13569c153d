"""What the shared contract suite needs to know about Discourse (the plugin's ``contract`` reference).

Test-only: the suite resolves it lazily, production never imports it.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from connectors.discourse.markup import HTML_COMMENT, idempotency_marker
from continuum.connector import Effect
from continuum.simkit.contract import contract_errors, specs_dir
from continuum.testing.harness import ContractHarness

SPEC = "discourse.openapi.json"
CUSTOMER = "contract.customer"
# What ``escape_text`` backslash-escapes anywhere in a line (markup.py's _INLINE_ACTIVE).
INLINE_ACTIVE = frozenset("\\*_[]()#`~|")
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
ZWSP, NBSP = "\u200b", "\u00a0"


def literal(raw: str) -> str:
    """What a reader sees once Discourse cooks ``raw``: escapes and entities resolved, invisible breaks gone."""
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", raw)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace(ZWSP, "").replace(NBSP, " ")


def markup_left(body: str) -> list[str]:
    """Every way ``body`` could still cook into markup, one line each (empty: inert)."""
    found = [f"live HTML, comment or autolink: {ch!r}" for ch in "<>" if ch in body]
    i = 0
    while i < len(body):
        if body[i] == "\\":
            if i + 1 >= len(body) or not re.match(r"[!-/:-@\[-`{-~]", body[i + 1]):
                found.append(f"a backslash that escapes nothing at {i}")
            i += 2
            continue
        if body[i] in INLINE_ACTIVE:
            found.append(f"unescaped {body[i]!r} at {i}: emphasis, link, image, code, table or heading")
        i += 1
    for line in body.split("\n"):
        if line.startswith(("    ", "\t")):
            found.append(f"an indented code block: {line!r}")
        if re.match(r"[-+=*]|\d{1,9}[.)]|#", line.lstrip(NBSP)):
            found.append(f"a list, task list, heading or rule: {line!r}")
    found += [f"a live mention at {m.start()}" for m in re.finditer(r"(?<![\w@])@(?=\w)", body)]
    # A hashtag starts after a non-word character; ``escape_text`` puts a zero-width space after its ``#``.
    found += [f"a live hashtag at {m.start()}" for m in re.finditer(r"\\?#(?=\w)", body)
              if not re.match(r"\w", body[m.start() - 1:m.start()] or " ")]
    found += [f"a bidi control {m.group()!r}" for m in BIDI_CONTROLS.finditer(body)]
    return found


class DiscourseHarness(ContractHarness):
    system: ClassVar[str] = "discourse"
    stream: ClassVar[str | None] = "posts"
    page_size: ClassVar[int] = 50  # the connector's default Page size, also what one feed call serves

    def effect(self, sim: Any, key: str, text: str) -> Effect:
        topic_id = sim.posts()[0]["topic_id"]  # the first seeded topic
        return Effect(key=key, action="reply", object_type="post", fields={"raw": text}, target_id=str(topic_id))

    def broken_effect(self, sim: Any, key: str) -> Effect:
        return Effect(key=key, action="reply", object_type="post", fields={"raw": "   "},
                      target_id=str(sim.posts()[0]["topic_id"]))

    def written(self, sim: Any, key: str) -> list[str]:
        marker = idempotency_marker(key)
        return [str(post["raw"]) for post in sim.posts() if marker in str(post["raw"])]

    def assert_inert(self, stored: str, text: str) -> None:
        body, _, marker = stored.rpartition("\n\n")
        assert HTML_COMMENT.fullmatch(marker) and not HTML_COMMENT.search(body), f"not one key marker: {stored!r}"
        problems = markup_left(body)
        assert not problems, f"{text!r} was written as {body!r}: " + "; ".join(problems)
        expected = BIDI_CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).replace(ZWSP, "").rstrip()
        assert literal(body) == expected, f"{text!r} does not read back literally from {body!r}"

    def add_records(self, sim: Any, count: int) -> None:
        try:
            sim.add_user(CUSTOMER, "Contract Customer", None)
        except ValueError:
            pass  # added by an earlier call
        topic_id, _ = sim.create_topic(CUSTOMER, "support", "Exports time out", "The export never finishes.")
        for n in range(count - 1):
            sim.reply(CUSTOMER, topic_id, f"Still timing out, attempt {n}.")

    def check_exchanges(self, sim: Any) -> None:
        if not (specs_dir() / SPEC).is_file():
            return  # the official description is not checked out next to the repository
        answered = [x for x in sim.exchanges if x.status < 400]
        refused = [x for x in sim.exchanges if x.status >= 400]
        # The description declares no error answers at all: of a refused call only the request can be checked.
        problems = contract_errors(SPEC, answered) + [
            p for p in contract_errors(SPEC, refused) if p.startswith("request")]
        assert not problems, f"{len(problems)} exchanges break {SPEC}:\n" + "\n".join(problems[:10])


HARNESS = DiscourseHarness()
