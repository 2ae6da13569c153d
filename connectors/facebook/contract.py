"""What the shared contract suite needs to know about Facebook (the plugin's ``contract`` reference).

Test-only: the suite resolves it lazily, production never imports it.  Facebook comments carry no hidden
marker, so a key is found again by the text the harness made its effect with (as the connector finds its reply).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest

from connectors.facebook.markup import ZWSP
from connectors.facebook.plugin import SIM_PAGE_ID
from connectors.facebook.simcontract import exchange_problems, load, spec_available
from connectors.facebook.simulator import FacebookSimulator
from continuum.connector import Effect
from continuum.testing.harness import ContractHarness

CUSTOMER = "Contract Customer"
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def live_markup(text: str) -> list[str]:
    """Every way ``text`` could still become a mention, hashtag or link on Facebook (empty: inert)."""
    found = [f"a live mention or hashtag at {m.start()}" for m in re.finditer(r"[@#](?=[\w\[])", text)]
    found += [f"a live link at {m.start()}" for m in re.finditer(r"://", text)]
    found += [f"a bare domain at {m.start()}" for m in re.finditer(r"\w\.[^\W\d_]{2}", text)]
    return found + [f"a bidi control {m.group()!r}" for m in BIDI.finditer(text)]


class FacebookHarness(ContractHarness):
    system: ClassVar[str] = "facebook"
    stream: ClassVar[str | None] = "posts"
    page_size: ClassVar[int] = 50
    bad_credentials: ClassVar[dict[str, Any]] = {"password": "EAAwrong-token-3f9d1c"}

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}  # effect key -> the text it carried

    def _thread(self, sim: FacebookSimulator) -> str:
        return next(iter(sim.posts))  # the first seeded post, the Page's own

    def effect(self, sim: Any, key: str, text: str) -> Effect:
        self.texts[key] = text
        post = self._thread(sim)
        first = next(c.id for c in sim.thread_comments(post) if c.author["id"] != SIM_PAGE_ID)
        return Effect(key=key, action="reply", object_type="post", fields={"message": text}, target_id=post,
                      context={"in_reply_to": first})

    def broken_effect(self, sim: Any, key: str) -> Effect:
        return Effect(key=key, action="reply", object_type="post", fields={"message": "  "},
                      target_id=self._thread(sim))

    def written(self, sim: Any, key: str) -> list[str]:
        text = self.texts.get(key)
        return [c.message for c in sim.comments.values() if c.author["id"] == SIM_PAGE_ID and c.message == text]

    def assert_inert(self, stored: str, text: str) -> None:
        problems = live_markup(stored)
        assert not problems, f"{text!r} was written as {stored!r}: " + "; ".join(problems)
        expected = BIDI.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).replace(ZWSP, "").strip()
        assert stored.replace(ZWSP, "") == expected, f"{text!r} does not read back literally from {stored!r}"

    def add_records(self, sim: Any, count: int) -> None:
        post = sim.page_post("Exports: tell us how they work for you.")
        for n in range(count - 1):
            sim.comment(post, f"The export still times out, attempt {n}.", CUSTOMER)

    def check_exchanges(self, sim: Any) -> None:
        if not spec_available():
            pytest.skip("Meta's Graph API description (facebook-graph) is not checked out next to the repository")
        spec, problems = load(), []
        for exchange in sim.exchanges:
            problems += exchange_problems(spec, exchange, sim.node_type)[0]
        assert not problems, f"{len(problems)} exchanges break the Graph description:\n" + "\n".join(problems[:10])
