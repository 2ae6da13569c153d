"""What the shared contract suite needs to know about Discourse (the plugin's ``contract`` reference).

Test-only: the suite resolves it lazily, production never imports it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.discourse.markup import HTML_COMMENT, idempotency_marker
from continuum.connector import Effect
from continuum.simkit.contract import contract_errors, specs_dir
from continuum.testing.harness import ContractHarness
from continuum.testing.markdown import MarkdownDialect

SPEC = "discourse.openapi.json"
CUSTOMER = "contract.customer"
# Discourse's Markdown: what ``escape_text`` backslash-escapes anywhere in a line (markup.py's _INLINE_ACTIVE);
# mentions and (after a non-word character) hashtags link unless a zero-width space follows their sigil.
DIALECT = MarkdownDialect(
    inline_active=frozenset("\\*_[]()#`~|"), inline_meaning="emphasis, link, image, code, table or heading",
    sigils=(("mention", r"(?<![\w@])@(?=\w)"), ("hashtag", r"(?<![\w\\])\\?#(?=\w)")))
literal, markup_left = DIALECT.literal, DIALECT.markup_left


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
        assert literal(body) == DIALECT.expected(text), f"{text!r} does not read back literally from {body!r}"

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
