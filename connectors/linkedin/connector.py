"""LinkedIn as a Continuum system: the company page's posts and the comments on them, members' posts that
mention the page (``mentions: true``, see :mod:`connectors.linkedin.mentions`), answered as the page."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from pydantic import Field

from connectors.linkedin import mentions
from connectors.linkedin.client import LinkedInClient, iso_ms
from connectors.linkedin.config import LinkedInConfig
from connectors.linkedin.markup import escape_text, unescape
from connectors.linkedin.plugin import CAPABILITIES
from continuum.connector import JSON, Effect, EffectResult, Page, SourceRecord
from continuum.kit import ClientError, EffectDispatcher, Stream, StreamCursor, split_for_limit, succeeded

COMMENT_LIMIT = 1250  # characters of a comment's text
_COMMENT = re.compile(r"^urn:li:comment:\((urn:li:[a-zA-Z]+:\d+),(\d+)\)$")
_NUMBERING = re.compile(r" \((\d+)/(\d+)\)$")


class PostsCursor(StreamCursor):
    posts: dict[str, int] = Field(default_factory=dict)  # watched post URN -> lastModifiedAt read
    # Post or top-level comment URN -> (newest created.time read under it, replies seen on a comment).
    threads: dict[str, tuple[int, int]] = Field(default_factory=dict)
    # Comments read lately: URN -> (listed under, comment id, created.time, lastModified.time), re-looked up.
    recent: dict[str, tuple[str, str, int, int]] = Field(default_factory=dict)
    # Mentions (``mentions: true``): the newest notification time read, and the posts read in the overlap.
    mention_newest: int = 0
    mention_seen: dict[str, int] = Field(default_factory=dict)
    # The newest mentions (post URN -> createdAt, at most ``posts_watched``) whose comments are read too.
    mention_posts: dict[str, int] = Field(default_factory=dict)


POSTS = Stream(name="posts", object_type="post", cursor=PostsCursor)


def _time(item: JSON, field: str) -> int:
    value = item.get(field)
    value = value.get("time") if isinstance(value, dict) else value  # comments: {"actor", "time"}; posts: ms
    return int(value) if isinstance(value, int) else 0


class LinkedInConnector:
    system = "linkedin"
    capabilities = CAPABILITIES
    escape_text = staticmethod(escape_text)

    def __init__(self, config: LinkedInConfig, client: LinkedInClient | None = None) -> None:
        self.config, self.client = config, client or LinkedInClient(config)
        self.account: str | None = config.organization  # the author/actor URN of the company's voice
        self.dispatch = EffectDispatcher(self.system, {"reply": self._reply})

    def check(self) -> None:
        self.client.whoami(self.config.organization)

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return self.dispatch.write(effects)

    # -- reading ----------------------------------------------------------------
    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        """Edits and deletions among recent comments, then new mentions of the page (``mentions: true``), the
        page's newest posts, then the new comments and replies on each of those and of the newest mentions,
        oldest first; every Page's cursor covers what came before it."""
        if stream != POSTS.name:
            raise ValueError(f"LinkedIn has no stream {stream!r}; it has {POSTS.name!r}")
        state = PostsCursor.from_json(cursor)
        posts, threads, recent = dict(state.posts), dict(state.threads), dict(state.recent)
        newest, seen, mentioned = state.mention_newest, dict(state.mention_seen), dict(state.mention_posts)

        def mark() -> JSON:
            return PostsCursor(posts=posts, threads=threads, recent=recent, mention_newest=newest,
                               mention_seen=seen, mention_posts=mentioned).to_json()

        if changed := self._recheck(recent):
            yield Page(changed, mark())
        if self.config.mentions:
            batch: list[SourceRecord] = []
            for found, at, read in mentions.read(self, newest, seen):
                newest, seen = at, read  # mark() reads them
                if found:
                    batch.append(found)
                    mentioned = mentions.watch(mentioned, found, self.config.posts_watched)
                if len(batch) == self.config.page_size:
                    yield Page(batch, mark())
                    batch = []
            if batch or (newest, seen) != (state.mention_newest, state.mention_seen):
                yield Page(batch, mark())
        answer = self.client.organization_posts(self.config.organization, 0, self.config.posts_watched)
        watched = [p for p in answer.get("elements") or [] if isinstance(p, dict) and isinstance(p.get("id"), str)]
        watched.sort(key=lambda p: _time(p, "createdAt"))
        fresh = [p for p in watched if posts.get(p["id"]) != _time(p, "lastModifiedAt")]
        posts = {p["id"]: _time(p, "lastModifiedAt") for p in watched}
        if fresh:
            yield Page([self._post(p) for p in fresh], mark())
        kept = set(posts) | set(mentioned)  # thread marks are kept for watched posts and the comments on them
        threaded = watched + [{"id": urn} for urn, _ in sorted(mentioned.items(), key=lambda kv: kv[1])]
        last = threaded[-1] if threaded else None
        for post in threaded:
            try:
                listed = self._listing(post["id"])
            except ClientError as exc:  # a member's post that mentioned the page can be deleted since
                if exc.status != 404 or post["id"] not in mentioned:
                    raise
                mentioned = {k: v for k, v in mentioned.items() if k != post["id"]}
                kept.discard(post["id"])
                listed = []
            kept.update(c["commentUrn"] for c in listed)
            pending: dict[str, tuple[int, int]] = {}
            comments = self._unread(post["id"], listed, threads, recent, pending)
            for top in listed:  # replies are listed under their comment: only where the count moved
                count = int((top.get("commentsSummary") or {}).get("aggregatedTotalComments") or 0)
                if count and threads.get(top["commentUrn"], (0, 0))[1] != count:
                    comments += self._unread(top["commentUrn"], self._listing(top["commentUrn"]), threads, recent,
                                             pending, count)
            comments.sort(key=lambda c: _time(c, "created"))
            chunks = [comments[i:i + self.config.page_size] for i in range(0, len(comments), self.config.page_size)]
            moved = any(threads.get(k) != v for k, v in pending.items())
            for n, chunk in enumerate(chunks or [[]], 1):
                for c in chunk:
                    under = c.get("parentComment") or post["id"]
                    recent[c["commentUrn"]] = (under, str(c["id"]), _time(c, "created"), _time(c, "lastModified"))
                self._prune(recent)
                if n == len(chunks or [[]]):  # marks move only with the post's last chunk: a crash re-reads the rest
                    threads = {**threads, **pending}
                    if post is last:
                        threads = {k: v for k, v in threads.items() if k in kept}
                if chunk or moved or post is last:
                    yield Page([self._comment(c, post["id"]) for c in chunk], mark())

    def _listing(self, target: str) -> list[JSON]:
        """Every comment under ``target`` (a post, or a comment for its replies), paged with ``start``/``count``
        until ``paging.total`` or a short page; a comment served twice (the list moved) counts once."""
        listed: dict[str, JSON] = {}
        start = 0
        while True:
            answer = self.client.comments(target, start, self.config.page_size)
            items = [c for c in answer.get("elements") or []
                     if isinstance(c, dict) and isinstance(c.get("commentUrn"), str)]
            listed.update((c["commentUrn"], c) for c in items)
            total = (answer.get("paging") or {}).get("total")
            start += len(items)
            if not items or len(items) < self.config.page_size or (isinstance(total, int) and start >= total):
                return list(listed.values())

    @staticmethod
    def _unread(target: str, listed: list[JSON], threads: dict[str, tuple[int, int]],
                recent: dict[str, tuple[str, str, int, int]], pending: dict[str, tuple[int, int]],
                count: int = 0) -> list[JSON]:
        """What ``listed`` holds that was not read yet; the thread's new watermark (its newest comment) goes
        to ``pending``, stored once all of it is committed."""
        mark = threads.get(target, (0, 0))[0]
        pending[target] = (max([mark, *(_time(c, "created") for c in listed)]), count)
        return [c for c in listed if c["commentUrn"] not in recent and _time(c, "created") >= mark]

    def _prune(self, recent: dict[str, tuple[str, str, int, int]]) -> None:
        newest = max((v[2] for v in recent.values()), default=0)
        keep = sorted((v[2], k) for k, v in recent.items() if v[2] >= newest - self.config.recheck_days * 86_400_000)
        wanted = {k for _, k in keep[-self.config.recheck_max:]} if self.config.recheck_max else set()
        for key in set(recent) - wanted:
            del recent[key]

    def _recheck(self, recent: dict[str, tuple[str, str, int, int]]) -> list[SourceRecord]:
        """Recent comments edited (a new lastModified.time) or gone: one batch GET per post or thread, 50 ids."""
        records: list[SourceRecord] = []
        by_target: dict[str, list[str]] = {}
        for key, (target, _, _, _) in sorted(recent.items(), key=lambda kv: kv[1][2]):
            by_target.setdefault(target, []).append(key)
        for target, keys in by_target.items():
            for start in range(0, len(keys), 50):
                chunk = keys[start:start + 50]
                now = self.client.batch_comments(target, [recent[k][1] for k in chunk])
                for key in chunk:
                    found = now.get(recent[key][1])
                    if found is None:
                        del recent[key]
                        records.append(SourceRecord(stream=POSTS.name, object_type=POSTS.object_type, external_id=key,
                                                    payload={"commentUrn": key}, deleted=True))
                    elif _time(found, "lastModified") != recent[key][3]:
                        recent[key] = (*recent[key][:3], _time(found, "lastModified"))
                        records.append(self._comment(found, _post_of(found, target)))
        return records

    def _record(self, item: JSON, urn: str, thread: str, extra: JSON, version: int) -> SourceRecord:
        base = {"thread_id": thread, "url": f"https://www.linkedin.com/feed/update/{thread}/",
                "channel": f"linkedin/{self.config.organization.rpartition(':')[2]}"}
        return SourceRecord(stream=POSTS.name, object_type=POSTS.object_type, external_id=urn,
                            payload={**item, "continuum": {**base, **extra}}, version=str(version), parent_id=thread)

    def _post(self, post: JSON) -> SourceRecord:
        created, modified = _time(post, "createdAt"), _time(post, "lastModifiedAt")
        return self._record(post, post["id"], post["id"], {
            "kind": "post", "parent_id": None, "is_thread_start": True, "author": post.get("author"),
            "text": unescape(str(post.get("commentary") or "")), "created_at": iso_ms(created),
            "updated_at": iso_ms(modified or created)}, modified or created)

    def _comment(self, comment: JSON, post: str) -> SourceRecord:
        created, modified = _time(comment, "created"), _time(comment, "lastModified")
        return self._record(comment, comment["commentUrn"], post, {
            "kind": "comment", "parent_id": comment.get("parentComment") or post, "is_thread_start": False,
            "author": comment.get("actor"), "text": str((comment.get("message") or {}).get("text") or ""),
            "created_at": iso_ms(created), "updated_at": iso_ms(modified or created)}, modified or created)

    # -- answering --------------------------------------------------------------
    def _reply(self, effect: Effect) -> EffectResult:
        """The answer in the customer's thread as the page: under their top-level comment (LinkedIn nests one
        level), or on the post; past 1,250 characters a numbered chain, each part after the previous one."""
        text, post = effect.fields.get("text"), str(effect.target_id or "")
        answered = str(effect.context.get("in_reply_to") or post)
        if not isinstance(text, str) or not text.strip() or not post.startswith(("urn:li:share:", "urn:li:ugcPost:")):
            raise ValueError(f"a reply needs the post URN as target_id (not {post!r}) and fields['text']")
        parts = split_for_limit(text, COMMENT_LIMIT - 4)  # room to escape the numbering's parentheses
        parts = [_NUMBERING.sub(r" \\(\1/\2\\)", p) for p in parts] if len(parts) > 1 else parts
        top: str | None = None
        if found := _COMMENT.match(answered):
            top = self.client.comment(post, found.group(2)).get("parentComment") or answered
        made: list[JSON] = []
        first_found, looking = False, effect.maybe_applied
        for n, part in enumerate(parts):
            under = top or (made[0]["commentUrn"] if made else None)
            existing = self._find(under or post, part) if looking else None
            looking = existing is not None  # parts go out in order: after the first missing one, none exists
            body: JSON = {"actor": self.config.organization, "object": post, "message": {"text": part}}
            made.append(existing or self.client.create_comment(under or post, {**body, **(
                {"parentComment": under} if under else {})}))
            first_found = first_found or (n == 0 and existing is not None)
        first = made[0]
        return succeeded(effect, first["commentUrn"], object_type=POSTS.object_type,
                         version=str(_time(first, "lastModified")),
                         url=f"https://www.linkedin.com/feed/update/{post}/", found_existing=first_found)

    def _find(self, target: str, text: str) -> JSON | None:
        """The page's newest comment under ``target`` whose text is ``text`` (LinkedIn has no idempotency key)."""
        ours = [c for c in self._listing(target) if c.get("actor") == self.config.organization
                and (c.get("message") or {}).get("text") == text]
        return max(ours, key=lambda c: _time(c, "created")) if ours else None


def _post_of(comment: JSON, fallback: str) -> str:
    obj = comment.get("object")
    return obj if isinstance(obj, str) and obj.startswith(("urn:li:share:", "urn:li:ugcPost:")) else fallback
