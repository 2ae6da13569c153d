"""An in-memory Facebook Page (Graph API v-prefixed paths, Page token) that speaks the calls the connector makes.

What it serves follows Graph: ``{"data": [...], "paging": {"cursors": {"before", "after"}, "next"}}`` lists
(``next`` only when there is more), only the ``fields`` asked for (an unknown one is Graph's error 100), errors
as ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`` (a bad token is code 190), ``?ids=``
lookups that fail as a whole when an id is gone, and ``X-App-Usage`` / ``X-Business-Use-Case-Usage`` headers on
every answer.  ``call_limit`` spends the window after that many calls (code 32, as Graph throttles a Page).

Helpers (``page_post``, ``comment``, ``message_from``, ``edit``, ``delete``...) change state as people would in
Facebook; only the hub's API writes count as effects.  Besides the Page token, a customer's token
(:data:`SIM_CUSTOMER_TOKEN_PREFIX` + their name) comments or posts to the Page as them, and
:data:`SIM_STAFF_TOKEN` is a Page admin by hand: Facebook shows what they write as the Page.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any, ClassVar
from urllib.parse import urlencode

from connectors.facebook.plugin import SIM_PAGE_ID, SIM_PAGE_TOKEN
from connectors.facebook.simmodel import (
    COMMENT_VIEW,
    DEFAULT_FIELDS,
    JSON,
    MESSAGE_VIEW,
    PAGE_NAME,
    PAGE_VIEW,
    POST_VIEW,
    THREAD_VIEW,
    Serializer,
    SimComment,
    SimConversation,
    SimMessage,
    SimPerson,
    SimPost,
)
from continuum.simkit import Clock, PageTokens, Response, Serial, SimRequest, Simulator, route, seek, window

SIM_CUSTOMER_TOKEN_PREFIX = "sim-facebook-customer-"  # + a customer's name (spaces as dots): acts as them
SIM_STAFF_TOKEN = "sim-facebook-staff-token"  # a Page admin by hand: shown as the Page
TOKENS = PageTokens()
PAGE_AUTHOR = {"name": PAGE_NAME, "id": SIM_PAGE_ID}
COMMENT_MAX, MESSAGE_MAX, IDS_MAX = 8000, 2000, 50


class FacebookSimulator(Simulator):
    system = "facebook"
    effects = ("replies", "messages", "calls")  # the Page's comments are its replies
    accounts: ClassVar[tuple[JSON, ...]] = (
        {"role": "hub", "headers": {"Authorization": f"Bearer {SIM_PAGE_TOKEN}"},
         "does": "the Page token (the hub's connection): what it writes is the Page's voice"},
        {"role": "customer", "headers": {"Authorization": f"Bearer {SIM_CUSTOMER_TOKEN_PREFIX}<name>"},
         "does": "POST /v21.0/{post-id}/comments or /v21.0/{page-id}/feed as that customer (new name: new customer)"},
        {"role": "staff", "headers": {"Authorization": f"Bearer {SIM_STAFF_TOKEN}"},
         "does": "a Page admin writing by hand (Facebook shows it as the Page)"},
    )
    call_limit: int | None = None  # calls per window before Graph's code 32; None: never spent
    regain_minutes = 60  # estimated_time_to_regain_access once spent

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=12), timedelta(minutes=1))
        self.people: dict[str, SimPerson] = {}  # by name
        self.posts: dict[str, SimPost] = {}
        self.comments: dict[str, SimComment] = {}
        self.conversations: dict[str, SimConversation] = {}
        self.messages: dict[str, SimMessage] = {}
        self._ids = {kind: Serial(first) for kind, first in (("post", 1220938263500001), ("comment", 3105112000001),
                                                            ("user", 10230005871001), ("psid", 7104449180001),
                                                            ("thread", 10160220001))}
        self._used = 0
        self._caller: JSON = PAGE_AUTHOR

    # -- human-side helpers ----------------------------------------------------------------------------------
    def add_customer(self, name: str, email: str | None = None) -> SimPerson:
        with self.lock:
            if name not in self.people:
                self.people[name] = SimPerson(str(self._ids["user"].next()), name, str(self._ids["psid"].next()),
                                              email)
            return self.people[name]

    def page_post(self, message: str, author: str | None = None) -> str:
        """A post on the Page's feed: by the Page, or (``author``) a visitor post by a customer."""
        with self.lock:
            now = self.clock.now()
            who = self._author(author)
            post = SimPost(f"{SIM_PAGE_ID}_{self._ids['post'].next()}", who, message, now, now)
            self.posts[post.id] = post
            return post.id

    def comment(self, on: str, message: str, author: str | None = None) -> str:
        """A comment on a post, or a reply to a comment (Facebook nests one level: replies join the top one)."""
        with self.lock:
            parent = self.comments.get(on)
            top = self.comments[parent.parent_id] if parent and parent.parent_id else parent
            post = self.posts[top.post_id if top else on]
            now = self.clock.now()
            made = SimComment(f"{post.id.split('_')[1]}_{self._ids['comment'].next()}", post.id,
                              top.id if top else None, self._author(author), message, now)
            self.comments[made.id] = made
            post.updated = now
            return made.id

    def message_from(self, customer: str, message: str) -> str:
        """The customer writes to the Page in Messenger; the conversation's id."""
        with self.lock:
            person = self.add_customer(customer)
            conversation = next((c for c in self.conversations.values() if c.customer is person), None)
            if conversation is None:
                conversation = SimConversation(f"t_{self._ids['thread'].next()}", person, self.clock.now())
                self.conversations[conversation.id] = conversation
            sender = {"name": person.name, "email": person.email or f"{person.psid}@facebook.com", "id": person.psid}
            return self._add_message(conversation, sender, {**PAGE_AUTHOR, "email": "acmeapp@facebook.com"},
                                     message).conversation_id

    def edit(self, node_id: str, message: str) -> None:
        with self.lock:
            node = self.posts.get(node_id) or self.comments[node_id]
            node.message = message
            if isinstance(node, SimPost):
                node.updated = self.clock.now()

    def delete(self, node_id: str) -> None:
        """The author deletes a post (its comments go with it) or a comment (with its replies)."""
        with self.lock:
            self.posts.pop(node_id, None)
            self.comments.pop(node_id, None)
            for gone in [c.id for c in self.comments.values() if node_id in (c.post_id, c.parent_id)]:
                del self.comments[gone]

    def backdate(self, conversation_id: str, hours: float) -> None:
        """Move a conversation's messages back in time (its 24-hour window closes)."""
        with self.lock:
            conversation = self.conversations[conversation_id]
            for mid in conversation.message_ids:
                self.messages[mid].created -= timedelta(hours=hours)
            conversation.updated -= timedelta(hours=hours)

    def reset_usage(self) -> None:
        with self.lock:
            self._used = 0

    def node_type(self, node_id: str) -> str | None:
        """The Graph node type an id names (the spec's node), for the contract check."""
        kinds = (({SIM_PAGE_ID}, "Page"), (self.posts, "PagePost"), (self.comments, "Comment"),
                 (self.conversations, "UnifiedThread"), (self.messages, "UnifiedMessage"))
        return next((kind for table, kind in kinds if node_id in table), None)

    def thread_comments(self, post_id: str) -> list[SimComment]:
        with self.lock:
            return [c for c in self.comments.values() if c.post_id == post_id]

    def _author(self, name: str | None) -> JSON:
        if name is None:
            return dict(PAGE_AUTHOR)
        person = self.add_customer(name)
        return {"name": person.name, "id": person.id}

    def _add_message(self, conversation: SimConversation, sender: JSON, recipient: JSON, text: str) -> SimMessage:
        message = SimMessage(f"m_{secrets.token_urlsafe(18)}", conversation.id, sender, recipient, text,
                             self.clock.now())
        self.messages[message.id] = message
        conversation.message_ids.append(message.id)
        conversation.updated = message.created
        return message

    def _shift(self, rng: Random, served: Sequence[Any]) -> None:
        """The "shift" paging fault: a customer comments while the hub pages."""
        if self.posts and self.people:
            post = sorted(self.posts)[rng.randrange(len(self.posts))]
            self.comment(post, "Commented while the hub was reading", sorted(self.people)[0])

    # -- Graph's answers -----------------------------------------------------------------------------------------
    @staticmethod
    def graph_error(message: str, code: int, status: int = 400, subcode: int | None = None,
                    kind: str = "OAuthException") -> Response:
        error: JSON = {"message": message, "type": kind, "code": code, "fbtrace_id": secrets.token_urlsafe(8)}
        if subcode is not None:
            error["error_subcode"] = subcode
        return Simulator.json_response({"error": error}, status)

    def _dispatch(self, request: SimRequest) -> Response:
        with self.lock:
            self._used += 1
            spent = self.call_limit is not None and self._used > self.call_limit
        limited = self.graph_error("(#32) Page request limit reached", 32, 403) if spent else None
        response = limited or super()._dispatch(request)
        percent = min(100, self._used * 100 // self.call_limit) if self.call_limit else min(99, self._used // 200)
        usage = {"call_count": percent, "total_cputime": percent // 2, "total_time": percent // 2}
        response.headers["X-App-Usage"] = json.dumps(usage)
        response.headers["X-Business-Use-Case-Usage"] = json.dumps({SIM_PAGE_ID: [{
            **usage, "type": "pages",
            "estimated_time_to_regain_access": self.regain_minutes if percent >= 100 else 0}]})
        return response

    def authenticate(self, request: SimRequest) -> Response | None:
        token = request.bearer_token() or request.values.get("access_token")
        if not token:
            return self.graph_error("An access token is required to request this resource.", 104)
        if token in (SIM_PAGE_TOKEN, SIM_STAFF_TOKEN):
            self._caller = dict(PAGE_AUTHOR)
        elif token.startswith(SIM_CUSTOMER_TOKEN_PREFIX) and len(token) > len(SIM_CUSTOMER_TOKEN_PREFIX):
            self._caller = self._author(token[len(SIM_CUSTOMER_TOKEN_PREFIX):].replace(".", " "))
        else:
            return self.graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        version = request.path.split("/")[1]
        if not (version.startswith("v") and version[1:].replace(".", "").isdigit()):
            return self.graph_error(f"Unknown path components: /{version}", 2500)
        return None

    def _fields(self, request: SimRequest, node: str, view: Serializer) -> list[str]:
        asked = [f.strip() for f in request.args.get("fields", "").split(",") if f.strip()] or DEFAULT_FIELDS[node]
        unknown = [f for f in asked if f not in view and not (node == "Comment" and f == "parent")]
        if unknown:
            self.reject(self.graph_error(f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type "
                                         f"({node})", 100))
        return list(asked)

    def _show(self, request: SimRequest, node_id: str) -> JSON | None:
        kind = self.node_type(node_id)
        if kind is None:
            return None
        tables: dict[str, tuple[dict[str, Any], Serializer]] = {
            "Page": ({SIM_PAGE_ID: None}, PAGE_VIEW), "PagePost": (self.posts, POST_VIEW),
            "Comment": (self.comments, COMMENT_VIEW), "UnifiedThread": (self.conversations, THREAD_VIEW),
            "UnifiedMessage": (self.messages, MESSAGE_VIEW)}
        table, view = tables[kind]
        return self._serialize(table[node_id], self._fields(request, kind, view), view)

    def _serialize(self, record: Any, fields: list[str], view: Serializer) -> JSON:
        shown = {f: view[f](record) for f in fields if f in view}
        if "parent" in fields and isinstance(record, SimComment) and record.parent_id in self.comments:
            parent = self.comments[record.parent_id]
            shown["parent"] = {f: COMMENT_VIEW[f](parent) for f in DEFAULT_FIELDS["Comment"]}
        return shown

    def _listing(self, request: SimRequest, rows: Callable[[], list[Any]], node: str, view: Serializer,
                 scope: str) -> Response:
        fields = self._fields(request, node, view)
        limit = request.args.get("limit", default=25, type=int)
        after = request.args.get("after")
        after_id = TOKENS.decode(scope, after) if after else None
        if after and after_id is None:
            return self.graph_error("(#100) The after cursor is not valid", 100)
        page = window(self.faults, rows, max(1, min(limit or 25, 100)), resumed=bool(after), shift=self._shift,
                      start=lambda listing: seek(listing, lambda r: r.id == after_id) + 1 if after else 0)
        body: JSON = {"data": [self._serialize(r, fields, view) for r in page.items]}
        if page.items:
            body["paging"] = {"cursors": {"before": TOKENS.encode(scope, page.items[0].id),
                                          "after": TOKENS.encode(scope, page.items[-1].id)}}
            if page.more:
                query = {**request.args.to_dict(), "after": body["paging"]["cursors"]["after"]}
                body["paging"]["next"] = f"{self.base_url}{request.path}?{urlencode(query)}"
        return self.json_response(body)

    # -- endpoints --------------------------------------------------------------------------------------------
    @route("/<version>/", "GET")
    def lookup(self, request: SimRequest, version: str) -> Response:
        ids = [i for i in request.args.get("ids", "").split(",") if i]
        if not ids or len(ids) > IDS_MAX:
            return self.graph_error(f"(#100) The parameter ids is required, with at most {IDS_MAX} ids", 100)
        found = {i: self._show(request, i) for i in ids}
        if missing := [i for i, node in found.items() if node is None]:
            return self.graph_error(f"(#100) Some of the aliases you requested do not exist: {','.join(missing)}",
                                    100, 404)
        return self.json_response(found)

    @route("/<version>/<node_id>", "GET")
    def node(self, request: SimRequest, version: str, node_id: str) -> Response:
        shown = self._show(request, node_id)
        if shown is None:
            return self.graph_error(f"Unsupported get request. Object with ID '{node_id}' does not exist, cannot be "
                                    "loaded due to missing permissions, or does not support this operation.", 100,
                                    subcode=33)
        return self.json_response(shown)

    @route("/<version>/<node_id>/<edge>", "GET")
    def edge(self, request: SimRequest, version: str, node_id: str, edge: str) -> Response:
        kind = self.node_type(node_id)
        if kind == "Page" and edge in ("feed", "published_posts"):
            def feed() -> list[SimPost]:
                own = edge == "published_posts"
                posts = [p for p in self.posts.values() if not own or p.author["id"] == SIM_PAGE_ID]
                return sorted(posts, key=lambda p: (p.created, p.id), reverse=True)
            return self._listing(request, feed, "PagePost", POST_VIEW, f"feed{SIM_PAGE_ID}")
        if kind == "Page" and edge == "conversations":
            if request.args.get("platform", "messenger").lower() != "messenger" or self._caller != PAGE_AUTHOR:
                return self.graph_error("(#10) This endpoint requires the pages_messaging permission", 10, 403)
            return self._listing(request, lambda: sorted(self.conversations.values(), key=lambda c: c.updated,
                                                         reverse=True), "UnifiedThread", THREAD_VIEW, "threads")
        if kind in ("PagePost", "Comment") and edge == "comments":
            return self._listing(request, lambda: self._comment_rows(request, node_id, kind), "Comment",
                                 COMMENT_VIEW, f"comments{node_id}")
        if kind == "UnifiedThread" and edge == "messages":
            conversation = self.conversations[node_id]
            return self._listing(request, lambda: [self.messages[m] for m in reversed(conversation.message_ids)],
                                 "UnifiedMessage", MESSAGE_VIEW, f"messages{node_id}")
        return self._unknown(node_id, edge, kind)

    def _comment_rows(self, request: SimRequest, node_id: str, kind: str) -> list[SimComment]:
        stream = request.args.get("filter", "toplevel") == "stream" and kind == "PagePost"
        since = request.args.get("since", type=int)
        rows = [c for c in self.comments.values()
                if (c.post_id == node_id and (stream or c.parent_id is None)) or c.parent_id == node_id]
        rows = [c for c in rows if since is None or c.created.timestamp() >= since]
        rows.sort(key=lambda c: (c.created, c.id), reverse=request.args.get("order") == "reverse_chronological")
        return rows

    def _unknown(self, node_id: str, edge: str, kind: str | None) -> Response:
        if kind is None:
            return self.graph_error(f"Unsupported request. Object with ID '{node_id}' does not exist", 100, subcode=33)
        return self.graph_error(f"(#100) Tried accessing nonexisting field ({edge}) on node type ({kind})", 100)

    @route("/<version>/<node_id>/<edge>", "POST")
    def publish(self, request: SimRequest, version: str, node_id: str, edge: str) -> Response:
        body = request.json_body if request.mimetype == "application/json" else request.form.to_dict()
        body = body if isinstance(body, dict) else {}
        kind, text = self.node_type(node_id), str(body.get("message") or "")
        if kind in ("PagePost", "Comment") and edge == "comments":
            if not text.strip() or len(text) > COMMENT_MAX:
                return self.graph_error(f"(#100) message must be 1 to {COMMENT_MAX} characters", 100)
            made = self.comment(node_id, text, None if self._caller["id"] == SIM_PAGE_ID else self._caller["name"])
            if self._caller["id"] == SIM_PAGE_ID:
                self.count("replies")
            return self.json_response({"id": made})
        if kind == "Page" and edge == "feed" and text.strip():
            return self.json_response({"id": self.page_post(text, None if self._caller["id"] == SIM_PAGE_ID
                                                             else self._caller["name"])})
        if kind == "Page" and edge == "messages" and self._caller["id"] == SIM_PAGE_ID:
            return self._send(body)
        return self._unknown(node_id, edge, kind)

    def _send(self, body: JSON) -> Response:
        """The Send API: a RESPONSE within 24 hours of the customer's last message, at most 2,000 characters."""
        recipient, message = (_object(body.get(k)) for k in ("recipient", "message"))
        text = str(message.get("text") or "")
        conversation = next((c for c in self.conversations.values() if c.customer.psid == recipient.get("id")), None)
        if conversation is None:
            return self.graph_error("(#100) No matching user found", 100, subcode=2018001)
        if body.get("messaging_type") not in ("RESPONSE", "UPDATE", "MESSAGE_TAG") or not 0 < len(text) <= MESSAGE_MAX:
            return self.graph_error(f"(#100) messaging_type and a message text of 1 to {MESSAGE_MAX} characters "
                                    "are required", 100)
        theirs = [self.messages[m] for m in conversation.message_ids if self.messages[m].sender["id"] != SIM_PAGE_ID]
        if not theirs or datetime.now(UTC) - theirs[-1].created > timedelta(hours=24):
            return self.graph_error("(#10) This message is sent outside of allowed window.", 10, subcode=2018278)
        sender = {**PAGE_AUTHOR, "email": "acmeapp@facebook.com"}
        sent = self._add_message(conversation, sender, theirs[-1].sender, text)
        self.count("messages")
        return self.json_response({"recipient_id": conversation.customer.psid, "message_id": sent.id})

    @route("/<path:rest>", "GET", "POST", "DELETE")
    def unknown_path(self, request: SimRequest, rest: str) -> Response:
        return self.graph_error(f"Unknown path components: /{rest}", 2500)


def _object(value: object) -> JSON:
    """A Send API parameter: a JSON object, or (form-encoded) its JSON text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}
