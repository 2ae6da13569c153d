"""An in-memory X (API v2) that speaks the few endpoints the connector uses, over real HTTP.

Behaviour follows X and its published description (the contract harness validates every exchange):

* posts carry ``edit_history_post_ids`` always and only the ``post.fields`` asked for; ``text`` comes with
  ``& < >`` as HTML entities, as X sends it; ``expansions=author_id`` puts the authors in ``includes.users``;
* timelines list newest first, ``max_results`` 5..100, ``since_id``/``until_id``, and page with an opaque
  base32hex ``pagination_token`` (``meta.next_token``); a page with nothing has only ``meta.result_count: 0``;
* an edit makes a new post id; every version shares one ``edit_history_post_ids`` chain, timelines show the
  latest version only, a lookup of an older id still answers it; a deletion removes the whole chain and a
  lookup answers ``errors`` with a resource-not-found problem;
* ``POST /2/tweets`` refuses a duplicate of the author's own text and a reply to a post that is gone (403);
* direct messages (one-to-one conversations, ``/2/dm_events``, sending into a conversation): see
  :mod:`connectors.x.simdm`;
* every answer carries ``x-rate-limit-limit/-remaining/-reset`` for its endpoint's 15-minute window per token,
  and a spent window answers 429 (``limits`` lowers a window for tests; ``reset_windows`` lets 15 minutes pass).

Tokens: :data:`SIM_TOKEN` is the company account (the hub); ``customer_token(handle)`` posts as that customer;
the access tokens of the OAuth 2.0 refresh flow (:mod:`connectors.x.simoauth`) are the company's too, until
they expire.
"""

from __future__ import annotations

import base64
import html
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from connectors.x.markup import LIMIT, weighted_length
from connectors.x.plugin import SIM_ACCOUNT, SIM_TOKEN
from connectors.x.simdm import DirectMessages
from connectors.x.simoauth import OAuthTokens
from continuum.simkit import Clock, Response, SimRequest, Table, route, seek, window

__all__ = ["CUSTOMER_TOKEN", "SIM_ACCOUNT", "SIM_TOKEN", "XSimulator", "customer_token"]

JSON = dict[str, Any]
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW_S = 15 * 60
CUSTOMER_TOKEN = "sim-x-customer-"  # + the handle: that customer's own user token
# The values the description allows (all accepted; the simulator serves the ones listed in _post_json).
POST_FIELDS = frozenset({"article", "article_title", "attachments", "card_uri", "community_id", "context_annotations",
                         "conversation_id", "created_at", "display_text_range", "edit_controls", "entities", "geo",
                         "id", "lang", "matched_media_notes", "media_metadata", "non_public_metrics", "note_post",
                         "note_request_suggestions", "organic_metrics", "paid_partnership", "possibly_sensitive",
                         "promoted_metrics", "public_metrics", "reply_settings", "scopes", "source",
                         "suggested_source_links", "suggested_source_links_with_counts", "text", "withheld"})
# An expansion also puts its source field on the post (author_id, referenced_posts, in_reply_to_user_id).
EXPANSIONS = frozenset({"article.cover_media", "article.media_entities", "attachments.media_keys",
                        "attachments.media_source_tweet", "attachments.poll_ids", "author_id", "edit_history_post_ids",
                        "entities.mentions.username", "geo.place_id", "in_reply_to_user_id", "referenced_posts",
                        "username"})
USER_FIELDS = frozenset({"id", "name", "username", "created_at", "protected", "verified"})
PROBLEM = "https://api.x.com/2/problems/"
_MENTION = re.compile(r"(?<![A-Za-z0-9_!#$%&*@＠])[@＠]([A-Za-z0-9_]{1,15})")


@dataclass
class SimUser:
    id: int
    username: str
    name: str


@dataclass
class SimPost:
    id: int
    author_id: int
    text: str
    created_at: str
    conversation_id: int
    reply_to: int | None = None
    reply_to_user: int | None = None
    history: list[int] = field(default_factory=list)  # shared by every version of one post
    deleted: bool = False


def customer_token(handle: str) -> str:
    return CUSTOMER_TOKEN + handle.lower()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class XSimulator(OAuthTokens, DirectMessages):
    system = "x"
    effects = ("replies", "posts", "messages", "token_refreshes", "calls")
    # Calls per 15-minute window per token, as X's user-context limits (v2 docs); tests lower them.
    default_limits: ClassVar[dict[str, int]] = {"me": 75, "mentions": 300, "tweets": 900, "lookup": 900,
                                                "create": 200,
                                                "dm_events": 300, "dm_create": 200}
    accounts: ClassVar[tuple[JSON, ...]] = (
        {"role": "hub", "headers": {"Authorization": f"Bearer {SIM_TOKEN}"},
         "does": f"the company account @{SIM_ACCOUNT}: what it posts is the company's voice"},
        {"role": "customer", "headers": {"Authorization": f"Bearer {CUSTOMER_TOKEN}<handle>"},
         "does": "POST /2/tweets as that customer (a new handle is a new customer); "
                 f"mention @{SIM_ACCOUNT} or reply to its posts to reach the hub, or send it a direct message "
                 "(POST /2/dm_conversations/with/{its id}/messages)"},
    )

    def __init__(self) -> None:
        super().__init__()
        self.users: Table[int, SimUser] = Table("user", first_id=1_460_000_001)
        self.tweets: Table[int, SimPost] = Table("post", first_id=1_896_000_000_000_000_001)
        self.clock = Clock(START, timedelta(minutes=4))
        self.limits = dict(self.default_limits)
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}  # (token, endpoint) -> (window start, used)
        self._limit_headers: dict[str, str] = {}
        self.company_id = self.add_user(SIM_ACCOUNT, "Acme")
        self._caller = self.company_id

    # -- human-side helpers ---------------------------------------------------------
    def add_user(self, handle: str, name: str) -> int:
        with self.lock:
            if self._user(handle) is not None:
                raise ValueError(f"@{handle} is taken")
            return self.users.add(SimUser(self.users.next_id(), handle, name)).id

    def post(self, handle: str, text: str, reply_to: int | None = None) -> int:
        """A post by ``handle`` as the app makes it: a reply starts with the @handle it answers."""
        with self.lock:
            author = self._user(handle) or self.users[self.add_user(handle, handle)]
            if reply_to is not None:
                parent = self.users[self.tweets.require(reply_to).author_id].username
                if not text.lower().startswith(f"@{parent.lower()}"):
                    text = f"@{parent} {text}"
            return self._add(author.id, text, reply_to)

    def edit(self, post_id: int, text: str) -> int:
        """A new version of the post (a new id at the end of the shared edit history)."""
        with self.lock:
            old = self.tweets.require(post_id)
            new = self.tweets.add(SimPost(self.tweets.next_id(), old.author_id, text, _iso(self.clock.now()),
                                          old.conversation_id, old.reply_to, old.reply_to_user, old.history))
            old.history.append(new.id)
            return new.id

    def delete(self, post_id: int) -> None:
        with self.lock:
            for version in self.tweets.require(post_id).history:
                self.tweets[version].deleted = True

    def posts(self, handle: str | None = None) -> list[JSON]:
        """Every current post (latest version, not deleted), oldest first, with its author's handle."""
        with self.lock:
            return [{"id": p.id, "author": self.users[p.author_id].username, "text": p.text, "reply_to": p.reply_to,
                     "conversation_id": p.conversation_id, "history": list(p.history)}
                    for p in self.tweets.where(self._current)
                    if handle is None or self.users[p.author_id].username.lower() == handle.lower()]

    def _now(self) -> str:
        return _iso(self.clock.now())

    def reset_windows(self) -> None:
        """As if 15 minutes passed: every rate-limit window starts afresh."""
        with self.lock:
            self._windows.clear()

    # -- state ------------------------------------------------------------------------
    def _user(self, handle: str) -> SimUser | None:
        return self.users.find(lambda u: u.username.lower() == handle.lower())

    def _add(self, author_id: int, text: str, reply_to: int | None) -> int:
        parent = self.tweets[reply_to] if reply_to is not None else None
        post_id = self.tweets.next_id()
        self.tweets.add(SimPost(post_id, author_id, text, _iso(self.clock.now()),
                                parent.conversation_id if parent else post_id, reply_to,
                                parent.author_id if parent else None, [post_id]))
        return post_id

    @staticmethod
    def _current(post: SimPost) -> bool:
        return not post.deleted and post.history[-1] == post.id

    def _post_meanwhile(self, rng: Any, served: Any) -> None:
        """The "shift" paging fault: a customer mentions the company while the hub pages."""
        customers = self.users.where(lambda u: u.id != self.company_id)
        if customers:
            self._add(customers[rng.randrange(len(customers))].id, f"@{SIM_ACCOUNT} posted while you read", None)

    # -- answers ------------------------------------------------------------------------
    def _json(self, body: JSON, status: int = 200, problem: bool = False) -> Response:
        response = self.json_response(body, status, headers=dict(self._limit_headers))
        if problem:
            response.content_type = "application/problem+json"
        return response

    def _blank(self, status: int, title: str, detail: str) -> Response:
        """X's generic error body (``type: about:blank``), as it answers 401, 403 and 429."""
        return self._json({"title": title, "detail": detail, "type": "about:blank", "status": status}, status, True)

    def _invalid(self, parameter: str, message: str) -> Response:
        return self._json({"errors": [{"parameters": {parameter: []}, "message": message}], "title": "Invalid Request",
                           "detail": "One or more parameters to your request was invalid.",
                           "type": PROBLEM + "invalid-request"}, 400, True)

    def _spend(self, endpoint: str) -> None:
        """Count the call in its window; the headers go on the answer, a spent window answers 429."""
        key, now, limit = (str(self._caller), endpoint), time.time(), self.limits[endpoint]
        start, used = self._windows.get(key, (now, 0))
        if now >= start + WINDOW_S:
            start, used = now, 0
        spent = used >= limit
        used = min(used + 1, limit)
        self._windows[key] = (start, used)
        self._limit_headers = {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(limit - used),
                               "x-rate-limit-reset": str(int(start + WINDOW_S))}
        if spent:
            self.reject(self._blank(429, "Too Many Requests", "Too Many Requests"))

    def authenticate(self, request: SimRequest) -> Response | None:
        token = request.bearer_token() or ""
        self._limit_headers = {}
        issued = self.issued_access(token)
        if token == SIM_TOKEN or issued == "ok":
            self._caller = self.company_id
        elif issued == "expired":
            return self._blank(401, "Unauthorized", "Unauthorized")
        elif token.startswith(CUSTOMER_TOKEN) and len(token) > len(CUSTOMER_TOKEN):
            handle = token[len(CUSTOMER_TOKEN):]
            known = self._user(handle)
            self._caller = known.id if known else self.add_user(handle, handle)
        else:
            return self._blank(401, "Unauthorized", "Unauthorized")
        return None

    def _fields(self, request: SimRequest, name: str, known: frozenset[str]) -> set[str]:
        asked = {f for f in (request.args.get(name) or "").split(",") if f}
        if unknown := sorted(asked - known):
            self.reject(self._invalid(name, f"The `{name}` query parameter value [{unknown[0]}] is not one of "
                                            f"[{', '.join(sorted(known))}]"))
        return asked

    def _post_json(self, post: SimPost, fields: set[str]) -> JSON:
        body: JSON = {"id": str(post.id), "text": html.escape(post.text, quote=False),
                      "edit_history_post_ids": [str(i) for i in post.history]}
        values: JSON = {"author_id": str(post.author_id), "conversation_id": str(post.conversation_id),
                        "created_at": post.created_at, "lang": "en",
                        "edit_controls": {"edits_remaining": max(0, 6 - len(post.history)), "is_edit_eligible": True,
                                          "editable_until": post.created_at}}
        if post.reply_to is not None:
            values["in_reply_to_user_id"] = str(post.reply_to_user)
            values["referenced_posts"] = [{"type": "replied_to", "id": str(post.reply_to)}]
        return {**body, **{k: v for k, v in values.items() if k in fields}}

    def _listing(self, request: SimRequest, posts: list[SimPost]) -> JSON:
        expansions = self._fields(request, "expansions", EXPANSIONS)
        post_fields = self._fields(request, "post.fields", POST_FIELDS) | expansions
        user_fields = self._fields(request, "user.fields", USER_FIELDS)
        body: JSON = {"data": [self._post_json(p, post_fields) for p in posts]} if posts else {}
        answered = dict.fromkeys(p.reply_to for p in posts if "referenced_posts" in expansions)
        parents = [self.tweets[i] for i in answered if i is not None and not self.tweets[i].deleted]
        people = [p.author_id for p in posts if "author_id" in expansions] + [
            p.reply_to_user for p in posts if p.reply_to_user is not None and "in_reply_to_user_id" in expansions]
        if parents:
            body["includes"] = {"posts": [self._post_json(p, post_fields) for p in parents]}
        if people:
            shown = {"id", "name", "username"} | user_fields
            body.setdefault("includes", {})["users"] = [
                {k: v for k, v in {"id": str(u.id), "name": u.name, "username": u.username, "created_at": _iso(START),
                                   "protected": False, "verified": False}.items() if k in shown}
                for u in (self.users[i] for i in dict.fromkeys(people))]
        return body

    # -- endpoints --------------------------------------------------------------------------
    @route("/2/users/me", "GET")
    def get_me(self, request: SimRequest) -> Response:
        self._spend("me")
        user = self.users[self._caller]
        return self._json({"data": {"id": str(user.id), "name": user.name, "username": user.username}})

    @route("/2/users/<int:user_id>/mentions", "GET")
    def mentions(self, request: SimRequest, user_id: int) -> Response:
        self._spend("mentions")
        user = self._found_user(user_id)

        def mentioning(p: SimPost) -> bool:
            named = {m.lower() for m in _MENTION.findall(p.text)}
            return p.author_id != user.id and (user.username.lower() in named or p.reply_to_user == user.id)
        return self._timeline(request, "mentions", user_id, mentioning)

    @route("/2/users/<int:user_id>/tweets", "GET")
    def user_posts(self, request: SimRequest, user_id: int) -> Response:
        self._spend("tweets")
        user = self._found_user(user_id)
        return self._timeline(request, "tweets", user_id, lambda p: p.author_id == user.id)

    def _found_user(self, user_id: int) -> SimUser:
        if user_id not in self.users:
            self.reject(self._json({"errors": [{"value": str(user_id), "detail": f"Could not find user with id: "
                                                f"[{user_id}].", "title": "Not Found Error", "resource_type": "user",
                                                "parameter": "id", "resource_id": str(user_id),
                                                "type": PROBLEM + "resource-not-found"}]}))
        return self.users[user_id]

    def _timeline(self, request: SimRequest, which: str, user_id: int, test: Any) -> Response:
        size = request.args.get("max_results", default=10, type=int)
        if not 5 <= size <= 100:
            return self._invalid("max_results", f"The `max_results` query parameter value [{size}] is not between "
                                                "5 and 100")
        since = request.args.get("since_id", default=0, type=int)
        until = request.args.get("until_id", default=0, type=int) or None
        scope, token = f"{which}:{user_id}:{since}:{until}", request.args.get("pagination_token")
        anchor = self._untoken(scope, token) if token else None
        if token and anchor is None:
            return self._invalid("pagination_token", "The `pagination_token` query parameter value is not valid")

        def rows() -> list[SimPost]:
            return self.tweets.where(lambda p: self._current(p) and p.id > since and (until is None or p.id < until)
                                     and test(p), newest_first=True)
        page = window(self.faults, rows, size, resumed=anchor is not None, shift=self._post_meanwhile,
                      start=0 if anchor is None else lambda listing: seek(listing, lambda p: p.id <= anchor))
        body = self._listing(request, page.items)
        meta: JSON = {"result_count": len(page.items)}
        if page.items:
            meta.update(newest_id=str(page.items[0].id), oldest_id=str(page.items[-1].id))
        if page.following is not None:
            meta["next_token"] = base64.b32hexencode(f"{scope}:{page.following.id}".encode()).decode().rstrip("=")
        return self._json({**body, "meta": meta})

    @staticmethod
    def _untoken(scope: str, token: str) -> int | None:
        try:
            raw = base64.b32hexdecode(token + "=" * (-len(token) % 8)).decode()
        except ValueError:
            return None
        mark, _, value = raw.rpartition(":")
        return int(value) if mark == scope and value.isdigit() else None

    @route("/2/tweets", "GET")
    def lookup(self, request: SimRequest) -> Response:
        self._spend("lookup")
        ids = [i for i in (request.args.get("ids") or "").split(",") if i]
        if not 1 <= len(ids) <= 100 or not all(i.isdigit() for i in ids):
            return self._invalid("ids", "The `ids` query parameter value must be 1 to 100 comma-separated post ids")
        found = [self.tweets[int(i)] for i in ids if int(i) in self.tweets and not self.tweets[int(i)].deleted]
        body = self._listing(request, found)
        missing = [i for i in ids if int(i) not in {p.id for p in found}]
        if missing:
            body["errors"] = [{"value": i, "detail": f"Could not find tweet with ids: [{i}].",
                               "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
                               "resource_id": i,
                               "type": PROBLEM + "resource-not-found"} for i in missing]
        return self._json(body)

    @route("/2/tweets", "POST")
    def create(self, request: SimRequest) -> Response:
        self._spend("create")
        sent = request.get_json(silent=True)
        body: JSON = sent if isinstance(sent, dict) else {}
        text = str(body.get("text") or "")
        if not text.strip():
            return self._invalid("text", "The `text` field is required when there is no media")
        if weighted_length(text) > LIMIT:
            return self._blank(403, "Forbidden", "Your Tweet text is too long. For more information on how X "
                                                 "counts characters, visit the X developer documentation.")
        reply = body["reply"] if isinstance(body.get("reply"), dict) else {}
        target = str(reply.get("in_reply_to_tweet_id") or "")
        if reply and (not target.isdigit() or int(target) not in self.tweets or self.tweets[int(target)].deleted):
            return self._blank(403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible "
                                                 "to you.")
        if self.tweets.find(lambda p: p.author_id == self._caller and not p.deleted and p.text == text):
            return self._blank(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        post_id = self._add(self._caller, text, int(target) if reply else None)
        if self._caller == self.company_id:  # only the hub's writes are its effects
            self.count("replies" if reply else "posts")
        return self._json({"data": {"id": str(post_id), "text": html.escape(text, quote=False),
                                    "edit_history_post_ids": [str(post_id)]}}, 201)
