"""What the shared contract suite needs to know about LinkedIn (the plugin's ``contract`` reference).

LinkedIn publishes no machine-readable description, and its official client may not be redistributed, so the
documented shapes of the Community Management API (Posts, Comments, Organization Social Action Notifications,
Rest.li collections, batch GET and error bodies) are written down here as pydantic models; every exchange
the simulator recorded must load into them.
Test-only: the suite resolves it lazily, production never imports it.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.linkedin.markup import RESERVED, ZWSP, unescape
from connectors.linkedin.plugin import SIM_ORGANIZATION
from continuum.connector import Effect
from continuum.simkit import Exchange
from continuum.testing.harness import ContractHarness

URN = r"^urn:li:[a-zA-Z]+:"
COMMENT_URN = r"^urn:li:comment:\(urn:li:activity:\d+,\d+\)$"
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class AuditStamp(Strict):
    actor: str = Field(pattern=URN)
    time: int


class Message(Strict):
    text: str
    attributes: list[dict[str, Any]] = []


class CommentsSummary(Strict):
    aggregatedTotalComments: int
    totalFirstLevelComments: int
    selectedComments: list[str] = []


class Comment(Strict):
    id: str = Field(pattern=r"^\d+$")
    commentUrn: str = Field(pattern=COMMENT_URN)
    urn: str = Field(alias="$URN", pattern=COMMENT_URN)
    actor: str = Field(pattern=r"^urn:li:(person|organization):")
    object: str = Field(pattern=URN)
    message: Message
    created: AuditStamp
    lastModified: AuditStamp
    parentComment: str | None = Field(default=None, pattern=COMMENT_URN)
    commentsSummary: CommentsSummary | None = None


class Distribution(Strict):
    feedDistribution: Literal["MAIN_FEED", "NONE"]
    targetEntities: list[dict[str, Any]] = []
    thirdPartyDistributionChannels: list[str] = []


class Post(Strict):
    id: str = Field(pattern=r"^urn:li:(share|ugcPost):\d+$")
    author: str = Field(pattern=r"^urn:li:(person|organization):")
    commentary: str
    visibility: Literal["PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"]
    lifecycleState: Literal["PUBLISHED", "DRAFT", "PUBLISH_REQUESTED", "PUBLISH_FAILED"]
    lifecycleStateInfo: dict[str, bool] = {}
    distribution: Distribution
    isReshareDisabledByAuthor: bool
    createdAt: int
    lastModifiedAt: int
    publishedAt: int | None = None


class Link(Strict):
    rel: str
    type: str
    href: str


class Paging(Strict):
    start: int = Field(ge=0)
    count: int = Field(ge=1)
    total: int | None = None
    links: list[Link]


class Posts(Strict):
    paging: Paging
    elements: list[Post]


class Comments(Strict):
    paging: Paging
    elements: list[Comment]


class Notification(Strict):
    """One Organization Social Action Notification as the criteria finder serves it (the webhook adds
    ``subscriber`` and the ``decorated…`` summaries)."""

    action: Literal["LIKE", "COMMENT", "SHARE", "SHARE_MENTION", "ADMIN_COMMENT", "COMMENT_EDIT", "COMMENT_DELETE"]
    notificationId: int | None = None
    lastModifiedAt: int
    organizationalEntity: str = Field(pattern=r"^urn:li:organization:\d+$")
    sourcePost: str | None = Field(default=None, pattern=URN)
    generatedActivity: str | None = Field(default=None, pattern=URN)
    decoratedSourcePost: dict[str, Any] | None = None
    decoratedGeneratedActivity: dict[str, Any] | None = None


class Notifications(Strict):
    paging: Paging
    elements: list[Notification]


class BatchComments(Strict):
    results: dict[str, Comment]
    statuses: dict[str, int]
    errors: dict[str, dict[str, Any]]


class Error(Strict):
    status: int
    serviceErrorCode: int | None = None
    code: str | None = None
    message: str


class CreateComment(Strict):
    """The request body of ``POST /rest/socialActions/{urn}/comments``."""

    actor: str = Field(pattern=r"^urn:li:(person|organization):")
    object: str = Field(pattern=URN)
    message: Message
    parentComment: str | None = Field(default=None, pattern=COMMENT_URN)


def exchange_errors(x: Exchange) -> list[str]:
    """Why one recorded exchange breaks the documented shapes (empty: it fits)."""
    where = f"{x.method} {x.path}?{x.query_string}"
    sent = {name.lower() for name in x.request_headers}
    problems = [f"{where}: missing header {h}" for h in ("LinkedIn-Version", "X-Restli-Protocol-Version")
                if h.lower() not in sent]
    model: type[BaseModel]
    if x.status >= 400:
        model = Error
    elif x.path.endswith("/posts"):
        model = Posts
    elif "/posts/" in x.path:
        model = Post
    elif x.path.endswith("/organizationalEntityNotifications"):
        model = Notifications
    elif x.method == "POST" or re.search(r"/comments/\d+$", x.path):
        model = Comment
    else:
        model = BatchComments if "ids=" in x.query_string else Comments
    try:
        model.model_validate(json.loads(x.response_body))
        if x.method == "POST":
            CreateComment.model_validate(json.loads(x.request_body))
    except (ValueError, ValidationError) as exc:
        problems.append(f"{where} -> {x.status}: {str(exc)[:300]}")
    return problems


class LinkedInHarness(ContractHarness):
    system: ClassVar[str] = "linkedin"
    stream: ClassVar[str | None] = "posts"
    page_size: ClassVar[int] = 100  # the connector's default Page size, also the most one comments call serves
    options: ClassVar[dict[str, Any]] = {"mentions": True}  # the notifications finder faces the suite too

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}  # LinkedIn keeps no key on a comment: what was written under each

    def effect(self, sim: Any, key: str, text: str) -> Effect:
        post = next(iter(sim.posts.values()))
        customer = next(c for c in sim.comments.values() if c.post == post.id and c.actor != SIM_ORGANIZATION)
        self.texts[key] = text
        return Effect(key=key, action="reply", object_type="post", fields={"text": text}, target_id=post.urn,
                      context={"in_reply_to": customer.urn})

    def broken_effect(self, sim: Any, key: str) -> Effect:
        return Effect(key=key, action="reply", object_type="post", fields={"text": "   "},
                      target_id=next(iter(sim.posts.values())).urn)

    def written(self, sim: Any, key: str) -> list[str]:
        text = self.texts.get(key)
        return [c["message"]["text"] for c in sim.comments_by(SIM_ORGANIZATION) if c["message"]["text"] == text]

    def assert_inert(self, stored: str, text: str) -> None:
        i, problems = 0, []
        while i < len(stored):
            if stored[i] == "\\":
                if i + 1 >= len(stored) or stored[i + 1] not in RESERVED:
                    problems.append(f"a backslash that escapes nothing at {i}")
                i += 2
                continue
            if stored[i] in RESERVED:
                problems.append(f"unescaped {stored[i]!r} at {i}: a mention, hashtag or template could start")
            i += 1
        problems += [f"a live link at {m.start()}" for m in re.finditer(r"(?i)[a-z]://|\bwww\.", stored)]
        problems += [f"a bidi control {m.group()!r}" for m in BIDI_CONTROLS.finditer(stored)]
        assert not problems, f"{text!r} was written as {stored!r}: " + "; ".join(problems)
        expected = BIDI_CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).replace(ZWSP, "").strip()
        assert unescape(stored).replace(ZWSP, "") == expected, f"{text!r} does not read back from {stored!r}"

    def add_records(self, sim: Any, count: int) -> None:
        customer = sim.add_person("contract-customer", "Contract Customer")
        post = sim.add_post("Tell us how exports work for you.")
        for n in range(count):  # every third one a post of the customer's own that mentions the page
            if n % 3 == 2:
                sim.add_post(f"@[Acme App]({SIM_ORGANIZATION}) exports still time out, attempt {n}.", author=customer)
            else:
                sim.add_comment(customer, post, f"Exports still time out, attempt {n}.")

    def check_exchanges(self, sim: Any) -> None:
        problems = [p for x in sim.exchanges if x.fault is None for p in exchange_errors(x)]
        assert not problems, f"{len(problems)} exchanges break the documented shapes:\n" + "\n".join(problems[:10])
