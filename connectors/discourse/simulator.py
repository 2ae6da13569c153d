"""An in-memory Discourse that speaks the API the connector uses, over real HTTP.

Responses follow the official description (the contract test validates every
exchange), including where it differs from what a live site sends: the
description types ``reply_to_post_number`` as a string, so it is served as
one here, and the connector accepts both.  Behaviour follows Discourse itself:
``/posts.json`` lists 50 regular, visible posts by descending id and
``before`` is inclusive (``posts.id <= before``); cooking drops HTML comments.

Test and demo helpers (``add_user``, ``create_topic``, ``reply``...) change
state directly, as customers would in the browser; only API calls count as
effects.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from continuum.simkit.server import Simulator
from connectors.discourse.simviews import (
    CHUNK_SIZE,
    CREATE_FIELDS,
    GET_FIELDS,
    JSON,
    LIST_FIELDS,
    START,
    TOPIC_FIELDS,
    SimCategory,
    SimPost,
    SimState,
    SimTopic,
    SimUser,
    category_json,
    cook,
    iso,
    serialize_post,
    slugify,
    topic_view,
)

from connectors.discourse.plugin import SIM_API_KEY, SIM_API_USERNAME  # noqa: E402
LATEST_LIMIT = 50  # fixed in Discourse's PostsController#latest

_FORBIDDEN = {"errors": ["You are not permitted to view the requested resource."], "error_type": "invalid_access"}
_BAD_KEY = {"errors": ["You are not permitted to view the requested resource. "
                       "The API username or key is invalid."], "error_type": "invalid_access"}
_NOT_FOUND = {"errors": ["The requested URL or resource could not be found."], "error_type": "not_found"}


class DiscourseSimulator(Simulator):
    system = "discourse"
    rules = (
        Rule("/posts.json", endpoint="list_posts", methods=["GET"]),
        Rule("/posts.json", endpoint="create_post", methods=["POST"]),
        Rule("/posts/<int:post_id>.json", endpoint="get_post", methods=["GET"]),
        Rule("/t/<int:topic_id>.json", endpoint="get_topic", methods=["GET"]),
        Rule("/t/<int:topic_id>/posts.json", endpoint="topic_posts", methods=["GET"]),
        Rule("/categories.json", endpoint="list_categories", methods=["GET"]),
        Rule("/u/<username>/emails.json", endpoint="user_emails", methods=["GET"]),
    )

    # Live Discourse filters ``posts.id <= before``; the description says "lower
    # than".  Tests flip this to prove the connector copes with either reading.
    before_inclusive = True
    # Posts per /posts.json page (fixed at 50 in Discourse); tests lower it to get many pages.
    latest_limit = LATEST_LIMIT

    def __init__(self) -> None:
        super().__init__()
        self.state = SimState()
        # Short names for the tables; the helpers below read like the forum they model.
        self.users, self.categories, self.topics = self.state.users, self.state.categories, self.state.topics
        self._posts = self.state.posts
        self._next = {"user": 1, "category": 1, "topic": 8, "post": 11}  # ids a fresh site would not start at
        self._tick = 0
        self._counts = {"created": 0, "updated": 0, "comments": 0, "replies": 0, "transitions": 0, "calls": 0}
        self.api_user_id = self.add_user(SIM_API_USERNAME, "Continuum Support", "support@example.com", admin=True)
        for name, slug, color, about in (
            ("Uncategorized", "uncategorized", "0088CC", "Topics that need no category."),
            ("Feature Requests", "feature-requests", "25AAE2", "Ideas for what we should build next."),
            ("Support", "support", "F7941D", "Questions about using the product."),
            ("Bugs", "bugs", "E45735", "Something is broken? Tell us here."),
            ("Lounge", "lounge", "3AB54A", "Chit-chat, praise and everything else."),
        ):
            self.add_category(name, slug, color, about)

    # -- bookkeeping ----------------------------------------------------------
    def _id(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] += 1
        return value

    def _now(self) -> str:
        # A deterministic clock: every change happens 7 minutes after the previous one.
        self._tick += 1
        return iso(START + timedelta(minutes=7 * self._tick))



    # -- human-side helpers ---------------------------------------------------
    def add_user(self, username: str, name: str, email: str | None = None, admin: bool = False) -> int:
        with self.lock:
            if any(u.username.lower() == username.lower() for u in self.users.values()):
                raise ValueError(f"username {username!r} is taken")
            uid = self._id("user")
            self.users[uid] = SimUser(uid, username, name, email, admin, 4 if admin else 1)
            return uid

    def add_category(self, name: str, slug: str, color: str = "0088CC", description: str = "",
                     parent_slug: str | None = None) -> int:
        with self.lock:
            parent = self._category_by_slug(parent_slug).id if parent_slug else None
            cid = self._id("category")
            self.categories[cid] = SimCategory(cid, name, slug, color, description, parent)
            return cid

    def create_topic(self, username: str, category_slug: str, title: str, raw: str) -> tuple[int, int]:
        with self.lock:
            user = self._user_by_name(username)
            now = self._now()
            tid = self._id("topic")
            self.topics[tid] = SimTopic(tid, title, slugify(title), self._category_by_slug(category_slug).id,
                                        user.id, now)
            return tid, self._add_post(tid, user.id, raw, None, now)

    def reply(self, username: str, topic_id: int, raw: str, reply_to_post_number: int | None = None) -> int:
        with self.lock:
            return self._add_post(self._topic(topic_id).id, self._user_by_name(username).id, raw,
                                  reply_to_post_number, self._now())

    def insert_post(self, **fields: Any) -> int:
        """Plant a post with arbitrary values (for dead-letter tests).

        ``topic_id`` (default: the newest topic) and ``username`` (default: the
        first customer) place it; ``raw`` sets its text; every other keyword is
        served verbatim in place of the computed field, however odd.
        """
        with self.lock:
            topic_id = fields.pop("topic_id", None) or max(self.topics)
            username = fields.pop("username", None)
            user = self._user_by_name(username) if username else next(
                u for u in self.users.values() if u.id != self.api_user_id)
            raw = fields.pop("raw", "planted post")
            reply_to = fields.pop("reply_to_post_number", None)
            pid = self._add_post(self._topic(topic_id).id, user.id, str(raw), None, self._now())
            self._posts[pid].overrides = {**fields, "reply_to_post_number": reply_to}
            return pid

    def edit_post(self, post_id: int, raw: str) -> None:
        with self.lock:
            post = self._posts[post_id]
            post.raw, post.updated_at, post.version = raw, self._now(), post.version + 1

    def posts(self, topic_id: int | None = None) -> list[JSON]:
        """Every post (as stored, plus author and topic), ascending by id."""
        with self.lock:
            return [self._state_view(p) for pid, p in sorted(self._posts.items())
                    if topic_id is None or p.topic_id == topic_id]

    def _state_view(self, post: SimPost) -> JSON:
        user, topic = self.users[post.user_id], self.topics[post.topic_id]
        return {"id": post.id, "topic_id": post.topic_id, "post_number": post.post_number,
                "username": user.username, "name": user.name, "email": user.email, "raw": post.raw,
                "cooked": cook(post.raw), "reply_to_post_number": post.reply_to_post_number,
                "created_at": post.created_at, "updated_at": post.updated_at, "version": post.version,
                "category_id": topic.category_id, "topic_title": topic.title, **post.overrides}

    def _add_post(self, topic_id: int, user_id: int, raw: str, reply_to: int | None, now: str) -> int:
        topic = self.topics[topic_id]
        pid = self._id("post")
        self._posts[pid] = SimPost(pid, topic_id, len(topic.post_ids) + 1, user_id, raw, now, now, reply_to)
        topic.post_ids.append(pid)
        return pid

    def _user_by_name(self, username: str) -> SimUser:
        for user in self.users.values():
            if user.username.lower() == username.lower():
                return user
        raise KeyError(f"no user {username!r}")

    def _category_by_slug(self, slug: str) -> SimCategory:
        for category in self.categories.values():
            if category.slug == slug:
                return category
        raise KeyError(f"no category {slug!r}")

    def _topic(self, topic_id: int) -> SimTopic:
        if topic_id not in self.topics:
            raise KeyError(f"no topic {topic_id}")
        return self.topics[topic_id]

    # -- serialisation --------------------------------------------------------
    # -- authentication -------------------------------------------------------
    def _viewer(self, request: Request) -> SimUser | Response:
        key, username = request.headers.get("Api-Key"), request.headers.get("Api-Username")
        if not key:
            return self.json_response({**_FORBIDDEN, "error_type": "not_logged_in"}, 403)
        if key != SIM_API_KEY or (username or "").lower() != SIM_API_USERNAME:
            return self.json_response(_BAD_KEY, 403)
        return self._user_by_name(SIM_API_USERNAME)

    # -- endpoints ------------------------------------------------------------
    def list_posts(self, request: Request) -> Response:
        viewer = self._viewer(request)
        if isinstance(viewer, Response):
            return viewer
        before = request.args.get("before", type=int)
        if before and before > 0:
            before = self._misbehave_between_pages(before)
        rows = [p for pid, p in sorted(self._posts.items(), reverse=True)
                if p.post_type == 1 and not p.hidden
                and (not before or before <= 0 or pid < before + (1 if self.before_inclusive else 0))]
        return self.json_response({"latest_posts": [serialize_post(self.state, p, LIST_FIELDS, viewer)
                                                    for p in rows[:self.latest_limit]]})

    def user_emails(self, request: Request, username: str) -> Response:
        viewer = self._viewer(request)
        if isinstance(viewer, Response):
            return viewer
        user = next((u for u in self.users.values() if u.username.lower() == username.lower()), None)
        if user is None:
            return self.json_response(_NOT_FOUND, 404)
        if not viewer.admin:
            return self.json_response(_FORBIDDEN, 403)
        return self.json_response({"email": user.email or f"{user.username}@users.invalid",
                                   "secondary_emails": [], "unconfirmed_emails": [], "associated_accounts": []})

    def _misbehave_between_pages(self, before: int) -> int:
        """Pagination faults on a next-page request (``set_paging_faults``, simkit ``PAGING_MODES``)."""
        mode = self.faults.paging_fault()
        if mode == "repeat":  # the page starts a few posts early: they are served twice
            return before + self.faults._random.randint(1, 3)
        if mode == "shift" and self.topics:
            # A customer posts while the hub pages backwards: the list changes under it.
            users = [u for u in self.users.values() if u.id != self.api_user_id]
            if users:
                user = users[self.faults._random.randrange(len(users))]
                topic = sorted(self.topics)[self.faults._random.randrange(len(self.topics))]
                self._add_post(topic, user.id, "Posted while the hub was reading", None, self._now())
        return before

    def get_post(self, request: Request, post_id: int) -> Response:
        viewer = self._viewer(request)
        if isinstance(viewer, Response):
            return viewer
        post = self._posts.get(post_id)
        if post is None:
            return self.json_response(_NOT_FOUND, 404)
        return self.json_response(serialize_post(self.state, post, GET_FIELDS, viewer))

    def get_topic(self, request: Request, topic_id: int) -> Response:
        viewer = self._viewer(request)
        if isinstance(viewer, Response):
            return viewer
        if topic_id not in self.topics:
            return self.json_response(_NOT_FOUND, 404)
        return self.json_response(topic_view(self.state, self.topics[topic_id], viewer))

    def topic_posts(self, request: Request, topic_id: int) -> Response:
        viewer = self._viewer(request)
        if isinstance(viewer, Response):
            return viewer
        topic = self.topics.get(topic_id)
        if topic is None:
            return self.json_response(_NOT_FOUND, 404)
        wanted = {int(v) for v in request.args.getlist("post_ids[]") if v.strip().isdigit()}
        ids = [pid for pid in topic.post_ids if (pid in wanted if wanted else True)][: CHUNK_SIZE if not wanted else None]
        posts = [serialize_post(self.state, self._posts[pid], TOPIC_FIELDS, viewer) for pid in ids if not self._posts[pid].hidden]
        return self.json_response({"post_stream": {"posts": posts}, "id": topic.id})

    def list_categories(self, request: Request) -> Response:
        viewer = self._viewer(request)
        if isinstance(viewer, Response):
            return viewer
        nested = request.args.get("include_subcategories") == "true"
        top = [c for c in self.categories.values() if c.parent_id is None]
        rows = []
        for category in top:
            row = category_json(self.state, category)
            if nested:
                row["subcategory_list"] = [category_json(self.state, c) for c in self.categories.values()
                                           if c.parent_id == category.id]
            rows.append(row)
        return self.json_response({"category_list": {"can_create_category": True, "can_create_topic": True,
                                                     "categories": rows}})

    def create_post(self, request: Request) -> Response:
        viewer = self._viewer(request)
        if isinstance(viewer, Response):
            return viewer
        body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
        if not isinstance(body, dict):
            return self.json_response({"errors": ["Request body is not valid."], "error_type": "invalid_parameters"}, 400)
        raw = str(body.get("raw") or "")
        if not raw.strip():
            return self.json_response({"action": "create_post", "errors": ["Body can't be blank"]}, 422)
        reply_to = body.get("reply_to_post_number")
        reply_to = int(reply_to) if str(reply_to or "").isdigit() else None
        if body.get("topic_id") not in (None, ""):
            topic_id = int(body["topic_id"]) if str(body["topic_id"]).isdigit() else -1
            if topic_id not in self.topics:
                return self.json_response(_NOT_FOUND, 404)
            pid = self._add_post(topic_id, viewer.id, raw, reply_to, self._now())
            self._counts["replies"] += 1
        else:
            title = str(body.get("title") or "").strip()
            if not title:
                return self.json_response({"action": "create_post", "errors": ["Title can't be blank"]}, 422)
            category = int(body["category"]) if str(body.get("category", "")).isdigit() else 1
            if category not in self.categories:
                return self.json_response({"action": "create_post", "errors": ["Category can't be blank"]}, 422)
            now = self._now()
            topic_id = self._id("topic")
            self.topics[topic_id] = SimTopic(topic_id, title, slugify(title), category, viewer.id, now)
            pid = self._add_post(topic_id, viewer.id, raw, None, now)
            self._counts["created"] += 1
        return self.json_response(serialize_post(self.state, self._posts[pid], CREATE_FIELDS, viewer))
