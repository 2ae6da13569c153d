"""X as a Continuum system: read what customers say to the company's account (posts and, when enabled, direct
messages), answer in their thread or conversation."""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine

from connectors.x import dms
from connectors.x.client import XClient, XError
from connectors.x.config import XConfig
from connectors.x.markup import LIMIT, escape_text, weighted_length
from connectors.x.plugin import CAPABILITIES
from continuum.connector import JSON, Effect, EffectResult, Page, SourceRecord
from continuum.kit import EffectDispatcher, NextTokenPaginator, Stream, StreamCursor, split_for_limit, succeeded, walk


class PostsCursor(StreamCursor):
    since_id: str = ""  # the newest post id read from the timelines
    # Posts read within the recheck window: (first id of the edit history, latest version id, created_at).
    recent: tuple[tuple[str, str, str], ...] = ()
    # Direct messages (a cursor stored before they were read has neither: they are read from X's 30 days).
    dm_since: str = ""  # the newest message event id read
    dm_last: tuple[tuple[str, str, str], ...] = ()  # (dm_conversation_id, its latest event id, created_at)


POSTS = Stream(name="posts", object_type="post", cursor=PostsCursor)


def _root(post: JSON) -> str:
    """The first id of the edit history: one interaction however often the author edits."""
    history = post.get("edit_history_post_ids") or [post["id"]]
    return str(history[0])


def _replied_to(post: JSON) -> str | None:
    return next((str(r["id"]) for r in post.get("referenced_posts") or [] if r.get("type") == "replied_to"), None)


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


class XConnector:
    system = "x"
    capabilities = CAPABILITIES
    escape_text = staticmethod(escape_text)

    def __init__(self, config: XConfig, client: XClient | None = None) -> None:
        self.config, self.client = config, client or XClient(config)
        self.account: str | None = config.account  # replaced by the handle as X spells it once known
        self.dispatch = EffectDispatcher(self.system, {"reply": self._reply})
        self._me: JSON | None = None

    def me(self) -> JSON:
        if self._me is None:
            me = self.client.me()
            if str(me.get("username", "")).lower() != self.config.account.lower():
                raise XError("x", f"the token belongs to @{me.get('username')}, not @{self.config.account}; "
                                  "use the company account's token", status=403)
            self._me, self.account = me, str(me["username"])
        return self._me

    def bind_store(self, db: Engine) -> None:
        """Keep the rotating OAuth tokens (a Connection with a refresh token) in the run's store."""
        if self.client.tokens is not None:
            self.client.tokens.bind_store(db)

    def check(self) -> None:
        self._me = None
        self.me()

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return self.dispatch.write(effects)

    # -- reading --------------------------------------------------------------
    def _timeline(self, which: str, since_id: str, users: dict[str, JSON]) -> list[JSON]:
        params: JSON = {"max_results": self.config.page_size, **({"since_id": since_id} if since_id else {})}
        paginator = NextTokenPaginator(self.system, params=params, token_path="meta.next_token",
                                       param="pagination_token")
        posts: list[JSON] = []
        for page in walk(lambda request: self.client.timeline(which, str(self.me()["id"]), request), paginator,
                         item_ids=lambda body: [p["id"] for p in body.get("data") or []]):
            users.update((u["id"], u) for u in (page.body.get("includes") or {}).get("users") or [])
            posts += page.body.get("data") or []
        return posts

    def _recheck(self, recent: Sequence[tuple[str, str, str]], fresh: set[str],
                 users: dict[str, JSON]) -> tuple[list[str], list[JSON]]:
        """Roots deleted since, and newer versions of edited posts, by bulk lookup (100 ids a call)."""
        stored = {root: version for root, version, _ in recent if root not in fresh}
        asked = {version: root for root, version in stored.items()}  # id looked up -> its root
        gone: list[str] = []
        newer: list[JSON] = []
        ids = list(asked)
        while ids:
            chunk, ids = ids[:100], ids[100:]
            answer = self.client.lookup(chunk)
            users.update((u["id"], u) for u in (answer.get("includes") or {}).get("users") or [])
            gone += [asked[str(e["resource_id"])] for e in answer.get("errors") or []
                     if str(e.get("type", "")).endswith("resource-not-found") and str(e.get("resource_id")) in asked]
            for post in answer.get("data") or []:
                root, current = asked[post["id"]], str((post.get("edit_history_post_ids") or [post["id"]])[-1])
                if current != post["id"] and current not in asked:
                    asked[current] = root  # edited since: look the current version up too
                    ids.append(current)
                elif current == post["id"] != stored[root]:
                    newer.append(post)
        return gone, newer

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        """Posts deleted or edited since ``cursor`` (bulk lookup of the recheck window), new mentions and own
        posts, then new direct messages (``direct_messages: true``), each oldest first.  Both timelines are
        read to the end first: they page newest first."""
        if stream != POSTS.name:
            raise ValueError(f"X has no stream {stream!r}; it has {POSTS.name!r}")
        start = PostsCursor.from_json(cursor)
        steps = list(self._post_steps(start))
        if self.config.direct_messages:
            steps += dms.read(self, steps[-1][1] if steps else start)
        for at in range(0, len(steps), self.config.page_size):
            chunk = steps[at:at + self.config.page_size]
            yield Page([record for record, _ in chunk], chunk[-1][1].to_json())

    def _post_steps(self, start: PostsCursor) -> Iterator[tuple[SourceRecord, PostsCursor]]:
        """Each post record with the cursor that is true once it is stored."""
        users: dict[str, JSON] = {}
        served = self._timeline("mentions", start.since_id, users)
        if self.config.read_own_posts:
            served += self._timeline("tweets", start.since_id, users)
        gone, newer = self._recheck(start.recent, {_root(p) for p in served}, users)
        newest: dict[str, JSON] = {}
        for post in sorted(served + newer, key=lambda p: int(p["id"])):
            newest[_root(post)] = post  # a later version wins
        since, recent = start.since_id, {root: (root, v, at) for root, v, at in start.recent if root not in gone}
        for root in dict.fromkeys(gone):
            yield (SourceRecord(POSTS.name, POSTS.object_type, root, {"id": root}, deleted=True),
                   start.model_copy(update={"recent": self._window(recent)}))
        for post in sorted(newest.values(), key=lambda p: int(p["id"])):
            record = self._record(post, users)
            recent[_root(post)] = (_root(post), str(post["id"]), str(post.get("created_at") or ""))
            since = max(since, str(post["id"]), key=lambda i: int(i or 0))
            yield record, start.model_copy(update={"since_id": since, "recent": self._window(recent)})

    def _window(self, recent: dict[str, tuple[str, str, str]]) -> tuple[tuple[str, str, str], ...]:
        kept = sorted((r for r in recent.values() if r[2]), key=lambda r: int(r[1]))[-self.config.recheck_max:]
        if not kept or not self.config.recheck_max:
            return ()
        horizon = _when(kept[-1][2]) - timedelta(days=self.config.recheck_days)
        return tuple(r for r in kept if _when(r[2]) >= horizon)

    def _record(self, post: JSON, users: dict[str, JSON]) -> SourceRecord:
        author = users.get(str(post.get("author_id")), {})
        root, handle = _root(post), str(author.get("username") or "")
        extra: JSON = {"thread_id": post.get("conversation_id"), "author_id": post.get("author_id"), "kind": "post",
                       "author_handle": handle or None, "author_name": author.get("name"),
                       "parent_id": _replied_to(post), "is_thread_start": post.get("conversation_id") == root,
                       "url": f"https://x.com/{handle or 'i/web'}/status/{post['id']}",
                       "channel": "x/own" if post.get("author_id") == self.me().get("id") else "x/mentions",
                       "text": html.unescape(str(post.get("text") or "")),  # X sends & < > as entities
                       "updated_at": post.get("created_at") if str(post["id"]) != root else None}  # an edit's time
        return SourceRecord(stream=POSTS.name, object_type=POSTS.object_type, external_id=root,
                            payload={**post, "continuum": extra}, version=str(post["id"]),
                            parent_id=_replied_to(post))

    # -- answering --------------------------------------------------------------
    def _ours_since(self, target: str) -> list[JSON]:
        """The company's posts after ``target`` (a reply is always newer than what it answers)."""
        return self._timeline("tweets", target, {})

    def _reply(self, effect: Effect) -> EffectResult:
        target, text = str(effect.target_id or ""), effect.fields.get("text")
        if not (target.isdigit() or dms.is_conversation(target)) or not isinstance(text, str) or not text.strip():
            raise ValueError(f"a reply needs a post id or a dm_conversation_id as target_id (not "
                             f"{effect.target_id!r}) and fields['text']")
        if dms.is_conversation(target):
            return dms.reply(self, effect, target, text)
        # X has no idempotency key: after a maybe-applied attempt, our replies in the thread are matched by text.
        ours = self._ours_since(target) if effect.maybe_applied else None
        parent, first, found_first = target, "", False
        for n, part in enumerate(split_for_limit(text, LIMIT, count=weighted_length)):
            found = self._find(ours, parent, part) if ours is not None else None
            if found is None:
                try:
                    found = self.client.create(part, parent)
                except XError as exc:
                    if exc.code != "duplicate":
                        raise
                    found = self._find(self._ours_since(target), parent, part)  # posted before, unseen
                    if found is None:
                        raise
            elif n == 0:
                found_first = True
            parent = str(found["id"])
            first = first or parent
        return succeeded(effect, first, object_type="post", version=first, found_existing=found_first,
                         url=f"https://x.com/{self.account}/status/{first}")

    @staticmethod
    def _find(ours: list[JSON] | None, parent: str, part: str) -> JSON | None:
        return next((p for p in ours or [] if _replied_to(p) == parent
                     and html.unescape(str(p.get("text") or "")) == part), None)
