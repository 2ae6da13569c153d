"""An in-memory LinkedIn company page that speaks the Community Management API the connector uses, over HTTP.

Rest.li 2.0 as LinkedIn serves it: every call needs ``LinkedIn-Version: YYYYMM`` and
``X-Restli-Protocol-Version: 2.0.0``; URNs arrive percent-encoded in paths and in ``List(...)``; collections
page with ``start``/``count`` and answer ``{"paging": {"start", "count", "total", "links"}, "elements"}``;
a batch GET answers ``{"results", "statuses", "errors"}``.  The Organization Social Action Notifications pull
finder (``q=criteria``) serves what happened to the page: ``SHARE_MENTION`` when a member's post mentions it
(``@[Acme App](urn:li:organization:1001)`` in the commentary), ``COMMENT``/``ADMIN_COMMENT`` on its posts.
Comments are listed oldest first, one level deep:
replies hang under a top-level comment (``parentComment``) and are listed under that comment's URN.  Errors
carry LinkedIn's body (``status``, ``serviceErrorCode``, ``code``, ``message``).  ``daily_limit`` models the
application's daily quota: past it every call gets LinkedIn's 429, without Retry-After, until ``new_day()``.

Who may call: the hub's token (:data:`SIM_TOKEN`, a page admin, acting as the organization) and a member token
per customer (``sim-linkedin-member-<id>``) that comments as that member.  Helpers (``add_person``,
``add_post``, ``add_comment``, ``edit_comment``, ``delete_comment``, ``delete_post``; ``add_post`` with a
member as author and the page mentioned is a mention) change state as people would in the app.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import unquote, urlencode

from connectors.linkedin.plugin import SIM_ORGANIZATION, SIM_TOKEN
from continuum.simkit import Clock, Response, SimRequest, Simulator, Table, under, window

JSON = dict[str, Any]
rest = under("/rest")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MEMBER_TOKEN = "sim-linkedin-member-"
_COMMENT = re.compile(r"^urn:li:comment:\((urn:li:activity:\d+),(\d+)\)$")
# The notification actions LinkedIn documents for the criteria finder; any other value is a 400.
ACTIONS = frozenset({"LIKE", "COMMENT", "SHARE", "SHARE_MENTION", "ADMIN_COMMENT", "COMMENT_EDIT", "COMMENT_DELETE"})
_MENTION = re.compile(r"@\[(?:\\.|[^\]\\])*\]\((urn:li:organization:\d+)\)")


@dataclass
class SimPost:
    id: int
    author: str
    commentary: str
    created: int
    modified: int
    edited: bool = False
    deleted: bool = False

    @property
    def urn(self) -> str:
        return f"urn:li:share:{self.id}"


@dataclass
class SimComment:
    id: int
    post: int
    actor: str
    text: str
    created: int
    modified: int
    parent: int | None = None
    deleted: bool = False
    replies: list[int] = field(default_factory=list)

    @property
    def urn(self) -> str:
        return f"urn:li:comment:(urn:li:activity:{self.post},{self.id})"


@dataclass
class SimNotification:
    id: int
    action: str
    at: int
    source: int  # the post acted on (a mention: the member's post that mentions the page)
    generated: str  # the URN of what the action made: the mentioning post, the comment


def _error(status: int, code: str, message: str, service_code: int) -> Response:
    return Simulator.json_response({"status": status, "serviceErrorCode": service_code, "code": code,
                                    "message": message}, status)


class LinkedInSimulator(Simulator):
    system = "linkedin"
    effects = ("replies", "calls")  # the page's comments are its replies
    accounts: ClassVar[tuple[JSON, ...]] = (
        {"role": "hub", "headers": {"Authorization": f"Bearer {SIM_TOKEN}"},
         "does": f"a page admin acting as {SIM_ORGANIZATION} (its comments are the company's voice)"},
        {"role": "customer", "headers": {"Authorization": f"Bearer {MEMBER_TOKEN}<person id>"},
         "does": "POST /rest/socialActions/{post or comment URN}/comments as that member (actor urn:li:person:<id>)"},
    )
    comments_page_max = 100  # LinkedIn's largest `count`
    daily_limit: int | None = None  # calls per "day" before the 429; None: no quota

    def __init__(self) -> None:
        super().__init__()
        self.people: dict[str, str] = {SIM_ORGANIZATION: "Acme App"}
        self.posts: Table[int, SimPost] = Table("post")
        self.comments: Table[int, SimComment] = Table("comment")
        self.notifications: Table[int, SimNotification] = Table("notification")
        self.clock = Clock(START, timedelta(minutes=3))
        self._serial = 7_250_000_000_000_000_000
        self._caller, self._calls_today = SIM_ORGANIZATION, 0

    # -- people-side helpers ----------------------------------------------------
    def _now(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def _next_id(self) -> int:
        self._serial += 1
        return self._serial

    def add_person(self, person_id: str, name: str) -> str:
        with self.lock:
            urn = f"urn:li:person:{person_id}"
            self.people[urn] = name
            return urn

    def add_post(self, commentary: str, author: str = SIM_ORGANIZATION) -> str:
        with self.lock:
            now = self._now()
            post = self.posts.add(SimPost(self._next_id(), author, commentary, now, now))
            if author != SIM_ORGANIZATION and SIM_ORGANIZATION in _MENTION.findall(commentary):
                self._notify("SHARE_MENTION", post, post.urn, now)
            return post.urn

    def add_comment(self, actor: str, on: str, text: str) -> str:
        """``actor`` comments on a post, or (``on`` a comment URN) replies in that comment's thread."""
        with self.lock:
            post, parent = self._under(on)
            return self._comment(actor, post, text, parent).urn

    def edit_comment(self, comment_urn: str, text: str) -> None:
        with self.lock:
            comment = self._by_urn(comment_urn)
            comment.text, comment.modified = text, self._now()

    def delete_post(self, post_urn: str) -> None:
        with self.lock:
            self._post(post_urn).deleted = True

    def delete_comment(self, comment_urn: str) -> None:
        with self.lock:
            self._by_urn(comment_urn).deleted = True

    def new_day(self) -> None:
        with self.lock:
            self._calls_today = 0

    def comments_by(self, actor: str) -> list[JSON]:
        """Every live comment by ``actor`` as served, oldest first."""
        with self.lock:
            return [self._comment_json(c) for c in self.comments.where(lambda c: c.actor == actor and not c.deleted)]

    # -- state ------------------------------------------------------------------
    def _comment(self, actor: str, post: SimPost, text: str, parent: SimComment | None) -> SimComment:
        if parent is not None and parent.parent is not None:
            parent = self.comments[parent.parent]  # one level deep: a reply to a reply joins the thread
        now = self._now()
        made = self.comments.add(SimComment(self._next_id(), post.id, actor, text, now, now,
                                            parent.id if parent else None))
        if parent is not None:
            parent.replies.append(made.id)
        if post.author == SIM_ORGANIZATION:
            self._notify("ADMIN_COMMENT" if actor == SIM_ORGANIZATION else "COMMENT", post, made.urn, now)
        return made

    def _notify(self, action: str, post: SimPost, generated: str, at: int) -> None:
        self.notifications.add(SimNotification(len(self.notifications) + 1, action, at, post.id, generated))

    def _post(self, urn: str) -> SimPost:
        found = self.posts.get(int(urn.rpartition(":")[2])) if re.fullmatch(r"urn:li:share:\d+", urn) else None
        if found is None or found.deleted:
            self.reject(_error(404, "NOT_FOUND", f"Not found: {urn}", 100))
        return found

    def _by_urn(self, urn: str) -> SimComment:
        found = _COMMENT.match(urn)
        comment = self.comments.get(int(found.group(2))) if found else None
        if comment is None or comment.deleted:
            self.reject(_error(404, "NOT_FOUND", f"Not found: {urn}", 100))
        return comment

    def _comment_json(self, c: SimComment) -> JSON:
        post = self.posts[c.post]
        body: JSON = {"id": str(c.id), "commentUrn": c.urn, "$URN": c.urn, "actor": c.actor, "object": post.urn,
                      "message": {"text": c.text, "attributes": []},
                      "created": {"actor": c.actor, "time": c.created},
                      "lastModified": {"actor": c.actor, "time": c.modified}}
        if c.parent is not None:
            body["parentComment"] = self.comments[c.parent].urn
        else:
            live = [r for r in c.replies if not self.comments[r].deleted]
            body["commentsSummary"] = {"aggregatedTotalComments": len(live), "totalFirstLevelComments": len(live),
                                       "selectedComments": [self.comments[r].urn for r in live[:3]]}
        return body

    def _post_json(self, p: SimPost) -> JSON:
        return {"id": p.urn, "author": p.author, "commentary": p.commentary, "visibility": "PUBLIC",
                "lifecycleState": "PUBLISHED", "lifecycleStateInfo": {"isEditedByAuthor": p.edited},
                "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                                 "thirdPartyDistributionChannels": []},
                "isReshareDisabledByAuthor": False, "createdAt": p.created, "lastModifiedAt": p.modified,
                "publishedAt": p.created}

    def _comment_meanwhile(self, rng: Any, served: Sequence[SimComment]) -> None:
        """The "shift" paging fault: a customer comments while the hub pages (appended: listed oldest first)."""
        if served:
            self._comment(served[0].actor, self.posts[served[0].post], "Commented while the hub was reading", None)

    # -- protocol -----------------------------------------------------------------
    def authenticate(self, request: SimRequest) -> Response | None:
        version = request.headers.get("LinkedIn-Version", "")
        if request.headers.get("X-Restli-Protocol-Version") != "2.0.0":
            return _error(400, "PROTOCOL_VERSION_REQUIRED", "X-Restli-Protocol-Version 2.0.0 is required", 100)
        if not re.fullmatch(r"20\d{2}(0[1-9]|1[0-2])", version):
            return _error(426, "NONEXISTENT_VERSION", f"Requested version {version} is not active", 100)
        token = request.bearer_token() or ""
        if token == SIM_TOKEN:
            self._caller = SIM_ORGANIZATION
        elif token.startswith(MEMBER_TOKEN) and f"urn:li:person:{token[len(MEMBER_TOKEN):]}" in self.people:
            self._caller = f"urn:li:person:{token[len(MEMBER_TOKEN):]}"
        else:
            return _error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600)
        self._calls_today += 1
        if self.daily_limit is not None and self._calls_today > self.daily_limit:
            return _error(429, "TOO_MANY_REQUESTS",
                          "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.", 101)
        return None

    def _paged(self, request: SimRequest, rows: Any, size_max: int, shift: Any = None) -> JSON:
        start, count = request.args.get("start", 0, type=int), request.args.get("count", 10, type=int)
        if start < 0 or not 1 <= count <= size_max:
            self.reject(_error(400, "ILLEGAL_ARGUMENT", f"count must be between 1 and {size_max}", 100))
        page = window(self.faults, rows, count, start=start, resumed=start > 0, shift=shift)
        query = urlencode({**dict(request.args.items()), "start": page.end, "count": count})
        links = [{"rel": "next", "type": "application/json", "href": f"{request.path}?{query}"}] if page.more else []
        return {"paging": {"start": page.start, "count": count, "total": page.total, "links": links},
                "elements": page.items}

    @rest("/posts", "GET")
    def find_posts(self, request: SimRequest) -> Response:
        if request.args.get("q") != "author" or not request.args.get("author"):
            return _error(400, "QUERY_PARAM_NOT_ALLOWED", "the author finder needs q=author and author", 100)
        author, sort = request.args["author"], request.args.get("sortBy", "LAST_MODIFIED")
        if author != self._caller and self._caller != SIM_ORGANIZATION:
            return _error(403, "ACCESS_DENIED", "Not enough permissions to access: posts.FINDER-author", 100)
        key = (lambda p: p.created) if sort == "CREATED" else (lambda p: p.modified)
        page = self._paged(request, lambda: sorted(self.posts.where(lambda p: p.author == author and not p.deleted),
                                                   key=key, reverse=True), 100)
        return self.json_response({**page, "elements": [self._post_json(p) for p in page["elements"]]})

    @rest("/posts/<target>", "GET")
    def get_post(self, request: SimRequest, target: str) -> Response:
        """One post by URN: the page's, or a member's public post (the page reads the ones that mention it)."""
        return self.json_response(self._post_json(self._post(unquote(target))))

    @rest("/organizationalEntityNotifications", "GET")
    def find_notifications(self, request: SimRequest) -> Response:
        """The criteria finder: the page's notifications of the listed ``actions``, within ``timeRange``
        (epoch ms, ``(start:…,end:…)``), newest first; LinkedIn pages it without a ``total``."""
        args = request.args
        wanted = re.fullmatch(r"List\(([A-Z_,]*)\)", args.get("actions", ""))
        if args.get("q") != "criteria" or not args.get("organizationalEntity") or wanted is None:
            return _error(400, "ILLEGAL_ARGUMENT", "q=criteria needs organizationalEntity and actions=List(...)", 100)
        actions = set(filter(None, wanted.group(1).split(",")))
        if not actions or actions - ACTIONS:
            return _error(400, "ILLEGAL_ARGUMENT", f"unknown actions: {sorted(actions - ACTIONS)}", 100)
        if self._caller != SIM_ORGANIZATION or args["organizationalEntity"] != SIM_ORGANIZATION:
            return _error(403, "ACCESS_DENIED", "Not enough permissions to access: "
                                                "organizationalEntityNotifications.FINDER-criteria", 100)
        span = re.fullmatch(r"\((?:start:(\d+))?,?(?:end:(\d+))?\)", args.get("timeRange", "()"))
        if span is None:
            return _error(400, "ILLEGAL_ARGUMENT", "timeRange must be (start:<ms>,end:<ms>)", 100)
        start, end = int(span.group(1) or 0), int(span.group(2) or 2**63)

        def rows() -> list[SimNotification]:
            return self.notifications.where(lambda n: n.action in actions and start <= n.at < end, newest_first=True)

        page = self._paged(request, rows, 100)
        del page["paging"]["total"]
        return self.json_response({**page, "elements": [{
            "action": n.action, "notificationId": n.id, "lastModifiedAt": n.at,
            "organizationalEntity": SIM_ORGANIZATION, "sourcePost": f"urn:li:activity:{n.source}",
            "generatedActivity": n.generated} for n in page["elements"]]})

    def _under(self, target: str) -> tuple[SimPost, SimComment | None]:
        target = unquote(target)
        if target.startswith("urn:li:comment:"):
            parent = self._by_urn(target)
            return self.posts[parent.post], parent
        return self._post(target), None

    @rest("/socialActions/<target>/comments", "GET")
    def list_comments(self, request: SimRequest, target: str) -> Response:
        post, parent = self._under(target)

        def rows() -> list[SimComment]:
            return self.comments.where(lambda c: c.post == post.id and not c.deleted and c.parent == (
                parent.id if parent else None))

        if "ids" in request.args:
            wanted = re.fullmatch(r"List\(([^()]*)\)", request.args["ids"])
            if wanted is None:
                return _error(400, "ILLEGAL_ARGUMENT", "ids must be List(...)", 100)
            ids = [unquote(i) for i in wanted.group(1).split(",") if i]
            live = {str(c.id): c for c in rows()}
            return self.json_response({
                "results": {i: self._comment_json(live[i]) for i in ids if i in live},
                "statuses": {i: 200 if i in live else 404 for i in ids},
                "errors": {i: {"status": 404, "message": f"Not found: {i}"} for i in ids if i not in live}})
        page = self._paged(request, rows, self.comments_page_max, self._comment_meanwhile)
        return self.json_response({**page, "elements": [self._comment_json(c) for c in page["elements"]]})

    @rest("/socialActions/<target>/comments/<cid>", "GET")
    def get_comment(self, request: SimRequest, target: str, cid: str) -> Response:
        post, _ = self._under(target)
        comment = self.comments.get(int(cid)) if cid.isdigit() else None
        if comment is None or comment.deleted or comment.post != post.id:
            return _error(404, "NOT_FOUND", f"Not found: {cid}", 100)
        return self.json_response(self._comment_json(comment))

    @rest("/socialActions/<target>/comments", "POST")
    def create_comment(self, request: SimRequest, target: str) -> Response:
        post, parent = self._under(target)
        body = request.json_body if isinstance(request.json_body, dict) else {}
        text = (body.get("message") or {}).get("text") if isinstance(body.get("message"), dict) else None
        if body.get("actor") != self._caller:
            return _error(403, "ACCESS_DENIED", f"Not enough permissions to comment as {body.get('actor')}", 100)
        if not isinstance(text, str) or not text.strip() or body.get("object") != post.urn:
            return _error(422, "UNPROCESSABLE_ENTITY", "message.text and object (the post URN) are required", 100)
        if len(text) > 1250:
            return _error(422, "UNPROCESSABLE_ENTITY", "Comment text is longer than 1250 characters", 100)
        if (body.get("parentComment") or None) != (parent.urn if parent else None):
            return _error(400, "ILLEGAL_ARGUMENT", "parentComment must name the comment in the path", 100)
        made = self._comment(self._caller, post, text, parent)
        self.count("replies")
        return self.json_response(self._comment_json(made), 201, {"x-restli-id": str(made.id)})
