"""The shared contract suite's view of Slack: notifications to a seeded channel, found by their metadata key.

The stream is ``messages`` in #support.  Test support only: production never imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qs

from connectors.slack.connector import carries_key
from connectors.slack.simcontract import SPEC, slack_contract_errors
from continuum.connector import Effect
from continuum.simkit.contract import specs_dir
from continuum.testing.harness import ContractHarness

CHANNEL = "#support"  # seeded, with the bot as a member


class SlackHarness(ContractHarness):
    system: ClassVar[str] = "slack"
    stream: ClassVar[str | None] = "messages"
    options: ClassVar[Mapping[str, Any]] = {"listen_channels": [CHANNEL]}
    page_size: ClassVar[int] = 15  # what Slack serves apps outside the Marketplace
    # The config refuses anything but a bot token before any call: a wrong one must look like one to reach Slack.
    bad_credentials: ClassVar[Mapping[str, Any]] = {"password": "xoxb-wrong-secret-3f9d1c"}

    def effect(self, sim: Any, key: str, text: str) -> Effect:
        return Effect(key, "notify", "message", {"channel": CHANNEL, "text": text})

    def broken_effect(self, sim: Any, key: str) -> Effect:
        return Effect(key, "notify", "message", {"channel": CHANNEL, "text": "   "})  # Slack posts no empty text

    def written(self, sim: Any, key: str) -> list[str]:
        return [m["text"] for channel in list(sim.channels) for m in sim.messages(channel) if carries_key(m, key)]

    def assert_inert(self, stored: str, text: str) -> None:
        # Every sequence that pings or links (<!here>, <@U…>, <#C…>, <http://x|label>) needs a raw < or >.
        # A plain @channel or @here pings no one unless the post asks Slack to parse names, which
        # check_exchanges rules out for every post.
        assert "<" not in stored and ">" not in stored, f"markup can form in {stored!r}"
        literal = stored.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        assert literal == text, f"the escaping changed the customer's words: {stored!r}"

    def add_records(self, sim: Any, count: int) -> None:
        people = [u.id for u in sim.users.values() if not u.is_bot]
        for n in range(count):
            sim.say(CHANNEL, people[n % len(people)], f"Customer message {n}")

    def check_exchanges(self, sim: Any) -> None:
        for post in sim.calls("POST", "/api/chat.postMessage"):
            form = parse_qs(post.request_body.decode())
            assert not {"link_names", "parse"} & set(form), f"a post asks Slack to turn names into mentions: {form}"
            assert form.get("unfurl_links") == form.get("unfurl_media") == ["false"], f"a post unfurls links: {form}"
        if (specs_dir() / SPEC).is_file():  # the official description lives outside the repository
            problems = slack_contract_errors(sim.exchanges)
            assert not problems, "\n".join(problems)


HARNESS = SlackHarness()
