"""Discourse as a Continuum system: read forum posts from the site-wide feed, post replies."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from connectors.discourse.client import DiscourseClient
from connectors.discourse.config import DiscourseConfig
from connectors.discourse.markup import escape_text, idempotency_marker, marked_key
from connectors.discourse.plugin import CAPABILITIES
from continuum.connector import JSON, Effect, EffectResult, Page, SourceRecord
from continuum.kit import BeforeIdPaginator, EffectDispatcher, Stream, StreamCursor, succeeded, walk


class PostsCursor(StreamCursor):
    last_post_id: int = 0
    edited_after: str = ""  # the newest `updated_at` read (older cursors: none, so no edits yet): a later one = edited


POSTS = Stream(name="posts", object_type="post", cursor=PostsCursor)
# What Discourse shows in place of a post its author deleted (English locale; ``user_deleted`` says it anyway).
DELETED_BY_AUTHOR = frozenset({"(post deleted by author)", "(topic deleted by author)"})


def _as_int(value: Any) -> int | None:
    """Discourse's description types ``reply_to_post_number`` as a string; sites send ints."""
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return int(text) if text.isascii() and text.isdigit() else None


def _deleted(post: JSON) -> bool:
    """Deleted by its author (``user_deleted``, or the notice in place of its text) or destroyed (``deleted_at``):
    the deletion revises the post, so the edit check re-reads it like any edit."""
    return bool(post.get("deleted_at")) or post.get("user_deleted") is True \
        or str(post.get("raw") or "").strip() in DELETED_BY_AUTHOR


def _stamp(post: JSON) -> str:
    return str(post.get("updated_at") or post.get("created_at") or "")  # ISO 8601 in UTC: ordered as text


def _made_at(post: JSON) -> datetime | None:
    try:
        return datetime.fromisoformat(str(post["created_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None


class DiscourseConnector:
    system = "discourse"
    capabilities = CAPABILITIES
    escape_text = staticmethod(escape_text)

    def __init__(self, config: DiscourseConfig, client: DiscourseClient | None = None) -> None:
        self.config, self.client = config, client or DiscourseClient(config)
        self.account: str | None = config.api_username
        self.dispatch = EffectDispatcher(self.system, {"reply": self._reply})  # no bulk post endpoint
        self._categories: dict[int, JSON] = {}
        self._email = cache(self.client.primary_email)  # one call per author per connector

    def check(self) -> None:
        """Prove the key works (Discourse answers 403 to a bad one) and the configured slugs exist."""
        self._categories = {}
        self._wanted_category_ids([])

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return self.dispatch.write(effects)

    def _wanted_category_ids(self, posts: Sequence[JSON]) -> set[int] | None:
        """The configured categories and their subcategories (None: all); reloaded when ``posts`` name a new one."""
        named = {p.get("category_id") for p in posts if isinstance(p.get("category_id"), int)}
        if not self._categories or not named <= self._categories.keys():
            self._categories = {c["id"]: c for c in self.client.categories() if isinstance(c.get("id"), int)}
        by_slug = {str(c.get("slug", "")).lower(): cid for cid, c in self._categories.items()}
        if missing := [slug for slug in self.config.categories if slug not in by_slug]:
            raise ValueError(f"Discourse has no category {', '.join(missing)} (known: {', '.join(sorted(by_slug))})")
        wanted = {by_slug[slug] for slug in self.config.categories}
        return wanted | {cid for cid, c in self._categories.items() if c.get("parent_category_id") in wanted} or None

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        """Posts edited since ``cursor``, then new posts oldest first, from the feed walked back to it (one call if
        none is new).  The feed pages by id: edits show only in the posts it serves anyway (at least the latest 50).
        Seen ids are dropped, so ``before`` may be inclusive (real sites) or exclusive (the description).  A
        Page's cursor covers posts skipped for their category too, or every run would walk back further."""
        if stream != POSTS.name:
            raise ValueError(f"Discourse has no stream {stream!r}; it has {POSTS.name!r}")
        last, newest = (start := PostsCursor.from_json(cursor)).last_post_id, start.edited_after
        paginator = BeforeIdPaginator(self.system, ids=lambda posts: [p["id"] for p in posts], stop_at=last)
        served = {p["id"]: p for page in walk(self.client.latest_posts, paginator) for p in page.body}
        edited = sorted((p for p in served.values() if newest and p["id"] <= last and _stamp(p) > newest), key=_stamp)
        fresh = edited + [served[pid] for pid in sorted(served) if pid > last]  # edits first: the stamp only grows
        wanted = self._wanted_category_ids(fresh) if fresh else None
        batch: list[SourceRecord] = []
        for n, post in enumerate(fresh, 1):
            newest = max(newest, _stamp(post))
            if wanted is None or post.get("category_id") in wanted:
                batch.append(self._record(post))
            if len(batch) >= self.config.page_size or n == len(fresh):
                yield Page(batch, PostsCursor(last_post_id=max(last, post["id"]), edited_after=newest).to_json())
                batch = []

    def _record(self, post: JSON) -> SourceRecord:
        category_id, topic_id, username = post.get("category_id"), post.get("topic_id"), str(post.get("username") or "")
        category = (self._categories.get(category_id) if isinstance(category_id, int) else None) or {}
        ours = username.lower() == self.config.api_username.lower()
        extra: JSON = {
            "reply_to_post_number": _as_int(post.get("reply_to_post_number")), "url": self.client.url_for(post),
            "category_slug": category.get("slug"), "is_topic_opener": post.get("post_number") == 1,
        }
        if self.config.fetch_emails:
            extra["email"] = self._email(username) if username and not ours else None
            extra["email_verified"] = extra["email"] is not None
        return SourceRecord(stream=POSTS.name, object_type=POSTS.object_type, external_id=str(post["id"]),
                            payload={**post, "continuum": extra}, version=_stamp(post) or None,
                            parent_id=None if topic_id is None else str(topic_id),
                            # Only our account's posts count: a customer can type a marker into the forum.
                            own_key=marked_key(str(post.get("raw") or "")) if ours else None,
                            deleted=_deleted(post))

    def _reply(self, effect: Effect) -> EffectResult:
        topic_id, raw = _as_int(effect.target_id), effect.fields.get("raw")
        if topic_id is None or not isinstance(raw, str) or not raw.strip():
            raise ValueError(f"a reply needs a topic id as target_id (not {effect.target_id!r}) and fields['raw']")
        marker = idempotency_marker(effect.key)
        found = self.client.find_post(topic_id, self.config.api_username, marker) if effect.maybe_applied else None
        post = found or self.client.create_post(topic_id, f"{raw.rstrip()}\n\n{marker}",
                                                _as_int(effect.context.get("reply_to_post_number")))
        return succeeded(effect, str(post["id"]), object_type="post", version=_stamp(post) or None,
                         url=self.client.url_for(post), found_existing=found is not None, made_at=_made_at(post))
