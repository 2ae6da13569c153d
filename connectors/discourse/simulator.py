"""An in-memory Discourse that speaks the API the connector uses, over real HTTP.

Responses follow the official description (the contract test validates every
exchange), including where it differs from what a live site sends: the
description types ``reply_to_post_number`` as a string, so it is served as
one here, and the connector accepts both.  Behaviour follows Discourse itself:
``/posts.json`` lists 50 regular, visible posts by descending id and
``before`` is inclusive (``posts.id <= before``); cooking drops HTML comments.

Test and demo helpers (``add_user``, ``create_topic``, ``reply``...) change
state directly, as customers would in the browser; only the hub's API calls
count as effects.

Besides the hub's own account, the API lets people in, as a site's keys do:
:data:`SIM_CUSTOMER_KEY` with any ``Api-Username`` posts as that customer
(an unknown name becomes a new customer), and :data:`SIM_STAFF_KEY` with
:data:`SIM_STAFF_USERNAME` posts as a moderator.  So a person, a script or a
test can write topics and replies through ``POST /posts.json`` and watch the
hub pick them up.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, ClassVar, TypeVar

from connectors.discourse.plugin import SIM_API_KEY, SIM_API_USERNAME
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
from continuum.simkit import Clock, Response, SimRequest, Simulator, route, seek, window

__all__ = ["SIM_API_KEY", "SIM_API_USERNAME", "SIM_CUSTOMER_KEY", "SIM_STAFF_KEY", "SIM_STAFF_USERNAME",
           "DiscourseSimulator"]

SIM_CUSTOMER_KEY = "sim-discourse-customer-key"  # with any Api-Username: that customer
SIM_STAFF_USERNAME, SIM_STAFF_KEY = "mia.support", "sim-discourse-staff-key"  # a moderator, not the hub

T = TypeVar("T")
# The raw Discourse revises a post to when its author deletes it (locale strings deleted_by_author_simple).
DELETED_POST_NOTICE, DELETED_TOPIC_NOTICE = "(post deleted by author)", "(topic deleted by author)"
LATEST_LIMIT = 50  # fixed in Discourse's PostsController#latest

_FORBIDDEN = {"errors": ["You are not permitted to view the requested resource."], "error_type": "invalid_access"}
_BAD_KEY = {"errors": ["You are not permitted to view the requested resource. "
                       "The API username or key is invalid."], "error_type": "invalid_access"}
_NOT_FOUND = {"errors": ["The requested URL or resource could not be found."], "error_type": "not_found"}
_CATEGORIES = (
    ("Uncategorized", "uncategorized", "0088CC", "Topics that need no category."),
    ("Feature Requests", "feature-requests", "25AAE2", "Ideas for what we should build next."),
    ("Support", "support", "F7941D", "Questions about using the product."),
    ("Bugs", "bugs", "E45735", "Something is broken? Tell us here."),
    ("Lounge", "lounge", "3AB54A", "Chit-chat, praise and everything else."),
)


class DiscourseSimulator(Simulator):
    system = "discourse"
    effects = ("created", "updated", "comments", "replies", "transitions", "calls")

    # Live Discourse filters ``posts.id <= before``; the description says "lower
    # than".  Tests flip this to prove the connector copes with either reading.
    before_inclusive = True
    # Posts per /posts.json page (fixed at 50 in Discourse); tests lower it to get many pages.
    latest_limit = LATEST_LIMIT
    # Who may call the API (`continuum simulate` prints these): the hub, customers and staff.
    accounts: ClassVar[tuple[JSON, ...]] = (
        {"role": "hub", "headers": {"Api-Key": SIM_API_KEY, "Api-Username": SIM_API_USERNAME},
         "does": "the hub's own account (its connection): what it writes is the company's voice"},
        {"role": "customer", "headers": {"Api-Key": SIM_CUSTOMER_KEY, "Api-Username": "<any name>"},
         "does": "POST /posts.json as that customer (title + category: a topic; topic_id: a reply); "
                 "a new name is a new customer"},
        {"role": "staff", "headers": {"Api-Key": SIM_STAFF_KEY, "Api-Username": SIM_STAFF_USERNAME},
         "does": "a moderator posting by hand (not the hub's account)"},
    )

    def __init__(self) -> None:
        super().__init__()
        self.state = SimState()
        # Short names for the tables; the helpers below read like the forum they model.
        self.users, self.categories, self.topics = self.state.users, self.state.categories, self.state.topics
        self._posts = self.state.posts
        self.clock = Clock(START, timedelta(minutes=7))  # every change 7 minutes after the previous one
        self.api_user_id = self.add_user(SIM_API_USERNAME, "Continuum Support", "support@example.com", admin=True)
        self._caller = self.api_user_id  # who the request being served acts as (set under self.lock)
        for name, slug, color, about in _CATEGORIES:
            self.add_category(name, slug, color, about)

    # -- human-side helpers ---------------------------------------------------
    def add_user(self, username: str, name: str, email: str | None = None, admin: bool = False) -> int:
        with self.lock:
            if self.users.find(lambda u: u.username.lower() == username.lower()) is not None:
                raise ValueError(f"username {username!r} is taken")
            uid = self.users.next_id()
            return self.users.add(SimUser(uid, username, name, email, admin, 4 if admin else 1)).id

    def add_category(self, name: str, slug: str, color: str = "0088CC", description: str = "",
                     parent_slug: str | None = None) -> int:
        with self.lock:
            parent = self._category_by_slug(parent_slug).id if parent_slug else None
            cid = self.categories.next_id()
            return self.categories.add(SimCategory(cid, name, slug, color, description, parent)).id

    def create_topic(self, username: str, category_slug: str, title: str, raw: str) -> tuple[int, int]:
        with self.lock:
            user = self._user_by_name(username)
            now = self._now()
            topic = self._new_topic(title, self._category_by_slug(category_slug).id, user.id, now)
            return topic.id, self._add_post(topic.id, user.id, raw, None, now)

    def reply(self, username: str, topic_id: int, raw: str, reply_to_post_number: int | None = None) -> int:
        with self.lock:
            return self._add_post(self.topics.require(topic_id).id, self._user_by_name(username).id, raw,
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
            user = self._user_by_name(username) if username else self.users.one(
                lambda u: u.id != self.api_user_id, "but the company's")
            raw = fields.pop("raw", "planted post")
            reply_to = fields.pop("reply_to_post_number", None)
            pid = self._add_post(self.topics.require(topic_id).id, user.id, str(raw), None, self._now())
            self._posts[pid].overrides = {**fields, "reply_to_post_number": reply_to}
            return pid

    def edit_post(self, post_id: int, raw: str) -> None:
        with self.lock:
            post = self._posts[post_id]
            post.raw, post.updated_at, post.version = raw, self._now(), post.version + 1

    def delete_post_by_author(self, post_id: int) -> None:
        """The author deletes their post, as Discourse's PostDestroyer does for a non-staff user: the post
        stays (it may be recovered for a day) but its text is revised to the "deleted by author" notice, it is
        flagged ``user_deleted``, and the revision bumps ``updated_at`` and ``version``."""
        with self.lock:
            post = self._posts[post_id]
            notice = DELETED_TOPIC_NOTICE if post.post_number == 1 else DELETED_POST_NOTICE
            post.raw, post.user_deleted = notice, True
            post.updated_at, post.version = self._now(), post.version + 1

    def posts(self, topic_id: int | None = None) -> list[JSON]:
        """Every post (as stored, plus author and topic), ascending by id."""
        with self.lock:
            return [self._state_view(p) for p in self._posts.where(
                lambda p: topic_id is None or p.topic_id == topic_id)]

    def _state_view(self, post: SimPost) -> JSON:
        user, topic = self.users[post.user_id], self.topics[post.topic_id]
        return {"id": post.id, "topic_id": post.topic_id, "post_number": post.post_number,
                "username": user.username, "name": user.name, "email": user.email, "raw": post.raw,
                "cooked": cook(post.raw), "reply_to_post_number": post.reply_to_post_number,
                "created_at": post.created_at, "updated_at": post.updated_at, "version": post.version,
                "category_id": topic.category_id, "topic_title": topic.title, **post.overrides}

    # -- state changes shared by the API and the helpers -------------------------
    def _now(self) -> str:
        return iso(self.clock.now())

    def _new_topic(self, title: str, category_id: int, user_id: int, now: str) -> SimTopic:
        return self.topics.add(SimTopic(self.topics.next_id(), title, slugify(title), category_id, user_id, now))

    def _add_post(self, topic_id: int, user_id: int, raw: str, reply_to: int | None, now: str) -> int:
        topic = self.topics[topic_id]
        post = self._posts.add(SimPost(self._posts.next_id(), topic_id, len(topic.post_ids) + 1, user_id, raw,
                                       now, now, reply_to))
        topic.post_ids.append(post.id)
        return post.id

    def _user_by_name(self, username: str) -> SimUser:
        return self.users.one(lambda u: u.username.lower() == username.lower(), repr(username))

    def _category_by_slug(self, slug: str) -> SimCategory:
        return self.categories.one(lambda c: c.slug == slug, repr(slug))

    def _post_meanwhile(self, rng: random.Random, served: Sequence[SimPost]) -> None:
        """The "shift" paging fault: a customer posts while the hub pages backwards."""
        users = self.users.where(lambda u: u.id != self.api_user_id)
        if self.topics and users:
            user = users[rng.randrange(len(users))]
            topic = sorted(self.topics)[rng.randrange(len(self.topics))]
            self._add_post(topic, user.id, "Posted while the hub was reading", None, self._now())

    # -- authentication -------------------------------------------------------
    def authenticate(self, request: SimRequest) -> Response | None:
        key, username = request.headers.get("Api-Key"), (request.headers.get("Api-Username") or "").strip()
        if not key:
            return self.json_response({**_FORBIDDEN, "error_type": "not_logged_in"}, 403)
        name = username.lower()
        if key == SIM_API_KEY and name == SIM_API_USERNAME:
            self._caller = self.api_user_id
        elif key == SIM_STAFF_KEY and name == SIM_STAFF_USERNAME:
            self._caller = self._account(SIM_STAFF_USERNAME, "Mia Krystof", "mia@example.com")
        elif key == SIM_CUSTOMER_KEY and name and name not in (SIM_API_USERNAME, SIM_STAFF_USERNAME):
            self._caller = self._account(username, username, None)
        else:
            return self.json_response(_BAD_KEY, 403)
        return None

    def _account(self, username: str, name: str, email: str | None) -> int:
        """The user a key acts as, made on first use (so a script can post as any new customer)."""
        known = self.users.find(lambda u: u.username.lower() == username.lower())
        return known.id if known is not None else self.add_user(username, name, email)

    @property
    def _viewer(self) -> SimUser:
        return self.users[self._caller]  # the account the request's key and username open

    def _found(self, record: T | None) -> T:
        """What a path names, or Discourse's 404 answer."""
        return record if record is not None else self.reject(self.json_response(_NOT_FOUND, 404))

    # -- endpoints ------------------------------------------------------------
    @route("/posts.json", "GET")
    def list_posts(self, request: SimRequest) -> Response:
        before = request.args.get("before", type=int)
        resumed = bool(before and before > 0)
        below = (before or 0) + (1 if self.before_inclusive else 0)

        def latest() -> list[SimPost]:  # regular, visible posts, newest first
            return self._posts.where(lambda p: p.post_type == 1 and not p.hidden, newest_first=True)

        page = window(self.faults, latest, self.latest_limit, resumed=resumed, shift=self._post_meanwhile,
                      start=lambda rows: seek(rows, lambda p: p.id < below) if resumed else 0)
        return self.json_response({"latest_posts": [serialize_post(self.state, p, LIST_FIELDS, self._viewer)
                                                    for p in page.items]})

    @route("/u/<username>/emails.json", "GET")
    def user_emails(self, request: SimRequest, username: str) -> Response:
        user = self._found(self.users.find(lambda u: u.username.lower() == username.lower()))
        if not self._viewer.admin:
            return self.json_response(_FORBIDDEN, 403)
        return self.json_response({"email": user.email or f"{user.username}@users.invalid",
                                   "secondary_emails": [], "unconfirmed_emails": [], "associated_accounts": []})

    @route("/posts/<int:post_id>.json", "GET")
    def get_post(self, request: SimRequest, post_id: int) -> Response:
        post = self._found(self._posts.get(post_id))
        return self.json_response(serialize_post(self.state, post, GET_FIELDS, self._viewer))

    @route("/t/<int:topic_id>.json", "GET")
    def get_topic(self, request: SimRequest, topic_id: int) -> Response:
        return self.json_response(topic_view(self.state, self._found(self.topics.get(topic_id)), self._viewer))

    @route("/t/<int:topic_id>/posts.json", "GET")
    def topic_posts(self, request: SimRequest, topic_id: int) -> Response:
        topic = self._found(self.topics.get(topic_id))
        wanted = {int(v) for v in request.args.getlist("post_ids[]") if v.strip().isdigit()}
        ids = [pid for pid in topic.post_ids if pid in wanted] if wanted else topic.post_ids[:CHUNK_SIZE]
        posts = [serialize_post(self.state, self._posts[pid], TOPIC_FIELDS, self._viewer)
                 for pid in ids if not self._posts[pid].hidden]
        return self.json_response({"post_stream": {"posts": posts}, "id": topic.id})

    @route("/categories.json", "GET")
    def list_categories(self, request: SimRequest) -> Response:
        nested = request.args.get("include_subcategories") == "true"
        rows = []
        for category in self.categories.where(lambda c: c.parent_id is None):
            row = category_json(self.state, category)
            if nested:
                row["subcategory_list"] = [category_json(self.state, c) for c in self.categories.values()
                                           if c.parent_id == category.id]
            rows.append(row)
        return self.json_response({"category_list": {"can_create_category": True, "can_create_topic": True,
                                                     "categories": rows}})

    @route("/posts.json", "POST")
    def create_post(self, request: SimRequest) -> Response:
        body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
        if not isinstance(body, dict):
            return self.json_response({"errors": ["Request body is not valid."], "error_type": "invalid_parameters"},
                                      400)
        raw = str(body.get("raw") or "")
        if not raw.strip():
            return self.json_response({"action": "create_post", "errors": ["Body can't be blank"]}, 422)
        reply_to = body.get("reply_to_post_number")
        reply_to = int(str(reply_to)) if str(reply_to or "").isdigit() else None
        if body.get("topic_id") not in (None, ""):
            topic_id = int(body["topic_id"]) if str(body["topic_id"]).isdigit() else -1
            if topic_id not in self.topics:
                return self.json_response(_NOT_FOUND, 404)
            pid = self._add_post(topic_id, self._caller, raw, reply_to, self._now())
            if self._caller == self.api_user_id:  # only the hub's writes are its effects
                self.count("replies")
        else:
            title = str(body.get("title") or "").strip()
            if not title:
                return self.json_response({"action": "create_post", "errors": ["Title can't be blank"]}, 422)
            category = int(body["category"]) if str(body.get("category", "")).isdigit() else 1
            if category not in self.categories:
                return self.json_response({"action": "create_post", "errors": ["Category can't be blank"]}, 422)
            now = self._now()
            pid = self._add_post(self._new_topic(title, category, self._caller, now).id, self._caller, raw, None, now)
            if self._caller == self.api_user_id:
                self.count("created")
        return self.json_response(serialize_post(self.state, self._posts[pid], CREATE_FIELDS, self._viewer))
