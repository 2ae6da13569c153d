"""Discourse as a Continuum system: read forum posts, post replies.

Reading uses the site-wide "latest posts" feed (``GET /posts.json``): it is
ordered by post id, carries ``raw``, ``topic_title``, ``topic_slug`` and
``category_id`` for every post, and pages backwards with ``before``.  So a run
with nothing new costs one call, and a run with N new posts costs about
``N / 50 + 1`` calls plus one for the category list: no per-topic or
per-post requests.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from continuum.connector import Capabilities, Effect, EffectResult, Page, SourceRecord
from connectors.discourse.client import DiscourseClient, DiscourseError
from connectors.discourse.config import DiscourseConfig
from connectors.discourse.markup import escape_text, idempotency_marker

log = logging.getLogger(__name__)

JSON = dict[str, Any]

STREAM = "posts"
# Chunk size of a Discourse topic view; also what we ask of /t/{id}/posts.json.
TOPIC_CHUNK = 20
MAX_REPEATED_PAGES = 8  # pages in a row that start above `before` before a read gives up


def _as_int(value: Any) -> int | None:
    """Discourse's description types ``reply_to_post_number`` as a string; sites send ints."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


class DiscourseConnector:
    system = "discourse"
    capabilities = Capabilities(streams=(STREAM,), effects=("reply",), bulk_sizes={})

    def __init__(self, config: DiscourseConfig, client: DiscourseClient | None = None) -> None:
        self.config = config
        self.client = client or DiscourseClient(config)
        self.account: str | None = config.api_username
        # id -> category, fetched lazily and kept for the connector's life; refreshed
        # once per read when a post names a category we have not seen (a new one).
        self._categories: dict[int, JSON] | None = None
        self._refreshed_categories = False
        self._emails: dict[str, str | None] = {}

    # -- checks and categories ---------------------------------------------
    def check(self) -> None:
        """Prove the key works (Discourse answers 403 to a bad key) and the slugs exist."""
        self._load_categories()
        self._wanted_category_ids()

    def _load_categories(self) -> dict[int, JSON]:
        self._categories = {c["id"]: c for c in self.client.categories() if isinstance(c.get("id"), int)}
        return self._categories

    def _category(self, category_id: Any) -> JSON | None:
        if not isinstance(category_id, int):
            return None
        if self._categories is None:
            self._load_categories()
        elif category_id not in self._categories and not self._refreshed_categories:
            # A category created since we last looked; reload once per read, not per post.
            self._refreshed_categories = True
            self._load_categories()
        assert self._categories is not None
        return self._categories.get(category_id)

    def _wanted_category_ids(self) -> set[int] | None:
        """Ids of the configured categories and their subcategories; None means all."""
        if not self.config.categories:
            return None
        categories = self._categories if self._categories is not None else self._load_categories()
        by_slug = {str(c.get("slug", "")).lower(): cid for cid, c in categories.items()}
        missing = [slug for slug in self.config.categories if slug not in by_slug]
        if missing:
            raise ValueError(f"Discourse has no category with slug {', '.join(missing)} "
                             f"(known: {', '.join(sorted(by_slug))})")
        wanted = {by_slug[slug] for slug in self.config.categories}
        wanted |= {cid for cid, c in categories.items() if c.get("parent_category_id") in wanted}
        return wanted

    # -- reading ------------------------------------------------------------
    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        """Yield new posts (topic openers and replies) after ``cursor``, oldest first.

        The cursor is ``{"last_post_id": N}``.  Each Page's cursor is the highest
        post id it covers, *including* posts skipped because of their category:
        otherwise a quiet category next to a busy one would make every run walk
        further back.  When only skipped posts are new, one empty Page carries
        the advanced cursor.
        """
        if stream != STREAM:
            raise ValueError(f"Discourse has no stream {stream!r}; it has {STREAM!r}")
        last = int((cursor or {}).get("last_post_id") or 0)
        fresh = self._posts_after(last)
        if not fresh:
            return
        self._refreshed_categories = False
        wanted = self._wanted_category_ids()
        covered = handed_out = last
        batch: list[SourceRecord] = []
        for post in fresh:  # ascending id
            if wanted is None or post.get("category_id") in wanted:
                batch.append(self._record(post))
            covered = post["id"]
            if len(batch) >= self.config.page_size:
                yield Page(records=batch, cursor={"last_post_id": covered})
                batch, handed_out = [], covered
        if batch or covered > handed_out:
            # The last page, or an empty one that only moves past skipped posts.
            yield Page(records=batch, cursor={"last_post_id": covered})

    def _posts_after(self, last: int) -> list[JSON]:
        """Walk the latest-posts feed back to ``last``; return newer posts ascending by id.

        A page of the feed holds every visible post id in ``[lowest, before]``, so
        once ``lowest <= last + 1`` nothing newer than ``last`` is missing.  We pass
        ``before=lowest`` and drop ids already seen, which is right whether the
        server treats ``before`` as inclusive (real Discourse) or exclusive (the
        description's wording).

        A page that brings nothing below ``before`` is not always the end of the
        feed: a server (or a cache in front of it) may serve a page starting a few
        posts early, full of posts we already have.  Stopping there would skip every
        older post for good, since the cursor moves past them.  Such a page holds
        ids above ``before`` (a true last page cannot), so we ask again; if the feed
        keeps doing it we fail the read (the cursor stays) rather than guess.
        """
        seen: dict[int, JSON] = {}
        before: int | None = None
        repeated = 0
        while True:
            page = self.client.latest_posts(before)
            ids = [p["id"] for p in page if isinstance(p.get("id"), int)]
            if not ids:
                break
            for post in page:
                pid = post.get("id")
                if isinstance(pid, int) and pid > last and pid not in seen:
                    seen[pid] = post
            lowest = min(ids)
            if lowest <= last + 1:
                break
            if before is None or lowest < before:
                before, repeated = lowest, 0
                continue
            if max(ids) <= before:
                break  # only `before` itself came back: the oldest post
            repeated += 1
            if repeated > MAX_REPEATED_PAGES:
                raise DiscourseError(None, f"the latest-posts feed keeps serving posts above before={before}; "
                                           "stopping without moving the cursor past unread posts")
        return [seen[pid] for pid in sorted(seen)]

    def _record(self, post: JSON) -> SourceRecord:
        category = self._category(post.get("category_id"))
        extra = {
            # Normalised: the description says string, real sites send an integer.
            "reply_to_post_number": _as_int(post.get("reply_to_post_number")),
            "category_slug": category.get("slug") if category else None,
            "category_name": category.get("name") if category else None,
            "url": self.client.url_for(post),
            "is_topic_opener": post.get("post_number") == 1,
            "body_format": "discourse-markdown",  # payload["raw"] is the author's source text
        }
        if self.config.fetch_emails:
            extra["email"] = self._email(str(post.get("username") or ""))
            extra["email_verified"] = extra["email"] is not None
        payload = {**post, "continuum": extra}
        topic_id = post.get("topic_id")
        updated = post.get("updated_at") or post.get("created_at")
        return SourceRecord(
            stream=STREAM,
            object_type="post",
            external_id=str(post["id"]),
            payload=payload,
            version=str(updated) if updated is not None else None,
            parent_id=str(topic_id) if topic_id is not None else None,
        )

    def _email(self, username: str) -> str | None:
        """The author's primary e-mail, once per author per connector; None where it is not ours to see."""
        if not username or username.lower() == self.config.api_username.lower():
            return None
        if username not in self._emails:
            try:
                self._emails[username] = self.client.primary_email(username)
            except DiscourseError as exc:
                if exc.status in (403, 404):
                    self._emails[username] = None  # not an admin key, or a deleted user
                else:
                    raise  # a transient failure: the page is read again next run, not stored without it
        return self._emails[username]

    # -- writing ------------------------------------------------------------
    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        # Discourse has no bulk post endpoint: one call per reply, each failure
        # reported on its own effect so the rest of the batch still goes out.
        return [self._write_one(effect) for effect in effects]

    def _write_one(self, effect: Effect) -> EffectResult:
        try:
            if effect.action != "reply":
                raise ValueError(f"Discourse supports only 'reply', not {effect.action!r}")
            topic_id = _as_int(effect.target_id)
            if topic_id is None:
                raise ValueError(f"target_id must be a topic id, got {effect.target_id!r}")
            raw = effect.fields.get("raw")
            if not isinstance(raw, str) or not raw.strip():
                raise ValueError("fields['raw'] must be non-empty text")
            marker = idempotency_marker(effect.key)
            if effect.maybe_applied:
                existing = self._find_own_post(topic_id, marker)
                if existing is not None:
                    return self._result(effect, existing, found_existing=True)
            reply_to = _as_int(effect.context.get("reply_to_post_number"))
            created = self.client.create_post(topic_id, f"{raw.rstrip()}\n\n{marker}", reply_to)
            return self._result(effect, created)
        except (DiscourseError, ValueError) as exc:
            log.warning("discourse: effect %s failed: %s", effect.key, exc)
            return EffectResult(key=effect.key, ok=False, object_type="post", error=f"effect {effect.key}: {exc}")
        except Exception as exc:  # an odd answer must not lose the results of the rest of the batch
            log.exception("discourse: effect %s failed unexpectedly", effect.key)
            return EffectResult(key=effect.key, ok=False, object_type="post",
                                error=f"effect {effect.key}: unexpected {type(exc).__name__}: {exc}")

    def _result(self, effect: Effect, post: JSON, found_existing: bool = False) -> EffectResult:
        updated = post.get("updated_at") or post.get("created_at")
        return EffectResult(
            key=effect.key,
            ok=True,
            external_id=str(post["id"]),
            object_type="post",
            version=str(updated) if updated is not None else None,
            url=self.client.url_for(post),
            found_existing=found_existing,
        )

    def _find_own_post(self, topic_id: int, marker: str) -> JSON | None:
        """Our post in the topic whose ``raw`` carries the marker, newest first.

        The topic view gives every post id and the first chunk of posts (with
        usernames); further posts come 20 at a time from ``/t/{id}/posts.json``.
        Only our own posts are opened with ``/posts/{id}.json``, because topic
        views serve ``cooked`` only and cooking drops HTML comments.
        """
        topic = self.client.topic(topic_id)
        stream = topic.get("post_stream") or {}
        ids = [pid for pid in stream.get("stream") or [] if isinstance(pid, int)]
        known = {p["id"]: p for p in stream.get("posts") or [] if isinstance(p, dict) and isinstance(p.get("id"), int)}
        own = (self.account or "").lower()
        remaining = list(reversed(ids))  # newest first: a retry follows its first attempt closely
        while remaining:
            chunk, remaining = remaining[:TOPIC_CHUNK], remaining[TOPIC_CHUNK:]
            missing = [pid for pid in chunk if pid not in known]
            if missing:
                for post in self.client.topic_posts(topic_id, missing):
                    if isinstance(post.get("id"), int):
                        known[post["id"]] = post
            for pid in chunk:
                summary = known.get(pid)
                if summary is None or str(summary.get("username", "")).lower() != own:
                    continue
                full = self.client.post(pid)
                if marker in str(full.get("raw", "")):
                    return full
        return None

    # -- markup -------------------------------------------------------------
    def escape_text(self, text: str) -> str:
        return escape_text(text)
