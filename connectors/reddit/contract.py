"""What the shared contract suite needs to know about Reddit (the plugin's ``contract`` reference), and the
check that stands in for an API description Reddit does not publish: every answer loads into praw's models.

Test-only: the suite resolves it lazily, production never imports it.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar
from urllib.parse import parse_qs

import praw
from praw.models import Comment, Listing, Message, Redditor, Submission

from connectors.reddit.plugin import SIM_USERNAME
from continuum.connector import Effect
from continuum.simkit import Exchange
from continuum.testing.harness import ContractHarness
from continuum.testing.markdown import MarkdownDialect

CUSTOMER = "contract_customer"
# Reddit's Markdown: every character ``escape_text`` backslash-escapes is active anywhere (angle brackets are
# quotes and spoilers, not HTML); u/ and r/ names and bare addresses link themselves.
DIALECT = MarkdownDialect(
    inline_active=frozenset("\\`*_[](){}#|^~<>"), block_start=r"[-+*=>]|\d{1,9}[.)]|#",
    block_meaning="a list, heading, quote or rule", live_angle_brackets=False, strict_backslash=False,
    sigils=(("u/ or r/ link", r"(?<![A-Za-z0-9])[uUrR]/\w"), ("bare link", r"(?i)\w://|\bwww\.")))
literal, markup_left = DIALECT.literal, DIALECT.markup_left
# What the connector reads of each model: it must be in the answer, or praw would fetch it (another call).
READS: dict[type, tuple[str, ...]] = {
    Submission: ("id", "name", "author", "created_utc", "title", "selftext", "edited", "permalink", "subreddit"),
    Comment: ("id", "name", "author", "created_utc", "body", "parent_id", "subreddit"),
    Message: ("id", "name", "author", "created_utc", "body", "subject", "parent_id", "first_message_name"),
}
LISTING_PATHS = re.compile(r"^/(r/\w+/(new|comments)|message/(inbox|mentions|sent)|user/[\w-]+/comments|api/info)/?$")
PATHS = re.compile(r"^/(api/v1/access_token|api/v1/me|api/comment|api/submit)/?$")


def _reddit() -> praw.Reddit:
    """An offline praw instance: its objector turns JSON into models without any call."""
    return praw.Reddit(client_id="contract", client_secret="contract", user_agent="continuum contract check",
                       check_for_updates=False, check_for_async=False)


def _things(loaded: Any) -> list[Any]:
    if isinstance(loaded, Listing):
        return list(loaded.children)
    return list(loaded) if isinstance(loaded, list) else [loaded]


def praw_problems(exchanges: list[Exchange]) -> list[str]:
    """Every recorded exchange that praw would not take as Reddit's, one line each."""
    reddit, problems = _reddit(), []
    for x in exchanges:
        if x.fault is not None:
            continue  # an injected fault is simkit's answer, not the simulator's
        where = f"{x.method} {x.path}?{x.query_string} -> {x.status}"
        query = parse_qs(x.query_string)
        if not (LISTING_PATHS.match(x.path) or PATHS.match(x.path)):
            problems.append(f"{where}: not a Reddit API path the connector should call")
        if int((query.get("limit") or ["25"])[0]) > 100 or len(",".join(query.get("id", [])).split(",")) > 100:
            problems.append(f"{where}: more than 100 things asked for")
        try:
            body = json.loads(x.response_body or b"null")
        except ValueError:
            problems.append(f"{where}: the answer is not JSON")
            continue
        if x.path.startswith("/api/v1/access_token"):
            if x.status == 200 and not ({"access_token", "token_type", "expires_in", "scope"} <= set(body)
                                        or set(body) == {"error"}):
                problems.append(f"{where}: not a token answer: {body}")
            continue
        headers = {k.lower(): v for k, v in x.response_headers.items()}
        if x.status != 401:
            try:
                int(headers["x-ratelimit-used"]), float(headers["x-ratelimit-remaining"])
                int(headers["x-ratelimit-reset"])  # prawcore reads these exactly so
            except (KeyError, ValueError):
                problems.append(f"{where}: the rate-limit headers are missing or malformed")
        if x.status >= 400:
            if set(body) != {"message", "error"}:
                problems.append(f"{where}: not Reddit's error body: {body}")
            continue
        problems += _model_problems(reddit, where, x.path, body)
    return problems


def _model_problems(reddit: praw.Reddit, where: str, path: str, body: Any) -> list[str]:
    try:
        loaded = reddit._objector.objectify(data=body)  # what praw's get/post hand back
    except Exception as exc:  # praw refusing it is exactly the finding
        return [f"{where}: praw cannot load it: {type(exc).__name__}: {exc}"]
    if path.startswith("/api/v1/me"):
        return [] if isinstance(Redditor(reddit, _data=body), Redditor) and body.get("name") else [f"{where}: no user"]
    if LISTING_PATHS.match(path) and not isinstance(loaded, Listing):
        return [f"{where}: praw did not load a Listing but {type(loaded).__name__}"]
    if path.startswith("/api/submit"):
        return []
    problems = []
    for thing in _things(loaded):
        wanted = READS.get(type(thing))
        if wanted is None:
            problems.append(f"{where}: praw made a {type(thing).__name__}, not a comment, post or message")
            continue
        missing = [a for a in wanted if a not in vars(thing)]
        if isinstance(thing, Comment) and not ({"link_id", "context"} & set(vars(thing))):
            missing.append("link_id or context")
        if missing:
            problems.append(f"{where}: {type(thing).__name__} {thing.id} lacks {', '.join(missing)}")
    return problems


class RedditHarness(ContractHarness):
    system: ClassVar[str] = "reddit"
    stream: ClassVar[str | None] = "posts"
    page_size: ClassVar[int] = 100  # the connector's Page size, also what one listing call serves

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}  # Reddit keeps no key on a comment: the text stands for it

    def effect(self, sim: Any, key: str, text: str) -> Effect:
        post = next(t for t in sim.by(SIM_USERNAME) if t.kind == "t3")  # the company's seeded launch post
        self.texts[key] = text
        return Effect(key=key, action="reply", object_type="post", fields={"text": text}, target_id=post.fullname,
                      context={"in_reply_to": post.fullname})

    def broken_effect(self, sim: Any, key: str) -> Effect:
        post = next(t for t in sim.by(SIM_USERNAME) if t.kind == "t3")
        return Effect(key=key, action="reply", object_type="post", fields={"text": "   "}, target_id=post.fullname)

    def written(self, sim: Any, key: str) -> list[str]:
        return [str(t.text) for t in sim.by(SIM_USERNAME) if t.kind == "t1" and t.text == self.texts.get(key)]

    def assert_inert(self, stored: str, text: str) -> None:
        problems = markup_left(stored)
        assert not problems, f"{text!r} was written as {stored!r}: " + "; ".join(problems)
        expected = DIALECT.expected(text).strip()
        assert literal(stored) == expected, f"{text!r} does not read back literally from {stored!r}"

    def add_records(self, sim: Any, count: int) -> None:
        post = sim.submit(CUSTOMER, "Exports time out", "The export never finishes.")
        for n in range(count - 1):
            sim.comment(CUSTOMER, post, f"Still timing out, attempt {n}.")

    def check_exchanges(self, sim: Any) -> None:
        problems = praw_problems(sim.exchanges)
        assert not problems, f"{len(problems)} exchanges praw would not take:\n" + "\n".join(problems[:10])
