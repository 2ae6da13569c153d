"""Facebook Pages as a Continuum system: the Page's feed, its comment threads and Messenger, answered in place."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

from pydantic import ConfigDict, Field

from connectors.facebook.client import GraphClient, GraphError
from connectors.facebook.config import FacebookConfig
from connectors.facebook.markup import escape_text
from connectors.facebook.plugin import CAPABILITIES
from continuum.connector import JSON, Effect, EffectResult, Page, SourceRecord
from continuum.kit import EffectDispatcher, Stream, StreamCursor, held, split_for_limit, succeeded

POST_FIELDS = "id,message,created_time,updated_time,from,permalink_url"
COMMENT_FIELDS = "id,message,created_time,from,parent,permalink_url"
THREAD_FIELDS, MESSAGE_FIELDS = "id,updated_time,link", "id,message,created_time,from,to"
COMMENT_LIMIT, MESSAGE_LIMIT = 8000, 2000
WINDOW = timedelta(hours=24)  # Messenger's standard messaging window after the customer's last message
OUTSIDE_WINDOW = 2018278  # Graph's subcode for a message sent outside it


class FeedCursor(StreamCursor):
    activity: dict[str, str] = Field(default_factory=dict)  # post id -> updated_time once its comments were read
    comments: dict[str, str] = Field(default_factory=dict)  # post id -> created_time of the newest comment read
    seen: dict[str, str] = Field(default_factory=dict)  # id -> version: rechecked for edits and deletions
    dm: str = ""  # created_time of the newest Messenger message read
    dm_ids: list[str] = Field(default_factory=list)  # the messages of that second (Graph's times are whole seconds)


class _State(FeedCursor):
    """The cursor while a read moves it (a stored cursor is frozen)."""

    model_config = ConfigDict(frozen=False)


POSTS = Stream(name="posts", object_type="post", cursor=FeedCursor)


def _time(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z")


def _version(node: JSON) -> str:
    """Graph has no edit stamp on comments (and a post's updated_time moves with each comment): the text's digest."""
    digest = hashlib.sha256(str(node.get("message") or "").encode()).hexdigest()[:12]
    return f"{node.get('created_time', '')}#{digest}"


class FacebookConnector:
    system = "facebook"
    capabilities = CAPABILITIES
    escape_text = staticmethod(escape_text)

    def __init__(self, config: FacebookConfig, client: GraphClient | None = None) -> None:
        self.config, self.client = config, client or GraphClient(config)
        self.account: str | None = config.page_id  # from.id of the Page's own posts, comments and messages
        self.dispatch = EffectDispatcher(self.system, {"reply": self._reply})

    def check(self) -> None:
        self.client.call("GET", f"/{self.config.page_id}", {"fields": "id,name"})

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return self.dispatch.write(effects)

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        """New and edited posts, new comments of active posts, recheck of recent ids, then Messenger."""
        if stream != POSTS.name:
            raise ValueError(f"Facebook has no stream {stream!r}; it has {POSTS.name!r}")
        state, batch = _State.from_json(cursor), []
        for record in self._steps(state):  # each step has updated `state` for the record it yields
            batch += [record] if record is not None else []
            if len(batch) >= self.config.page_size:
                yield Page(batch, state.to_json())
                batch = []
        yield Page(batch, state.to_json())

    def _steps(self, state: _State) -> Iterator[SourceRecord | None]:
        feed = self._feed()
        start = (_time(feed[0]["created_time"]) - timedelta(days=self.config.recheck_days)) if feed else None
        served = {p["id"] for p in feed}
        for post in reversed(feed):
            if state.seen.get(post["id"]) != (version := _version(post)):
                state.seen[post["id"]] = version
                yield self._record(post, post["id"], None)
        for post in reversed(feed):
            pid, since = post["id"], state.comments.get(post["id"])
            # Graph moves a post's updated_time on each new comment: an unmoved one has nothing new to read.
            if state.activity.get(pid, post.get("created_time")) == post.get("updated_time"):
                state.activity[pid] = str(post.get("updated_time"))
                continue
            params = {"filter": "stream", "order": "chronological", "fields": COMMENT_FIELDS}
            for page in self.client.pages(f"/{pid}/comments", {**params, **({"since": _unix(since)} if since else {})}):
                for comment in page:
                    served.add(comment["id"])
                    state.comments[pid] = max(state.comments.get(pid, ""), str(comment.get("created_time")))
                    if state.seen.get(comment["id"]) != (version := _version(comment)):
                        state.seen[comment["id"]] = version
                        yield self._record(comment, pid, (comment.get("parent") or {}).get("id") or pid)
            state.activity[pid] = str(post.get("updated_time"))
            yield None
        yield from self._recheck(state, [i for i in state.seen if i not in served])
        self._prune(state, start, served)
        yield None
        if self.config.messenger:
            yield from self._messages(state)

    def _feed(self) -> list[JSON]:
        """The feed, newest first, back to ``recheck_days`` before its newest post (at most ``max_posts``)."""
        posts: dict[str, JSON] = {}
        for page in self.client.pages(f"/{self.config.page_id}/feed", {"fields": POST_FIELDS}):
            for post in page:
                first = next(iter(posts.values()), post)
                too_old = _time(first["created_time"]) - _time(post["created_time"])
                if len(posts) >= self.config.max_posts or too_old > timedelta(days=self.config.recheck_days):
                    return list(posts.values())
                posts.setdefault(post["id"], post)
        return list(posts.values())

    def _recheck(self, state: _State, ids: list[str]) -> Iterator[SourceRecord | None]:
        """Recent ids looked up again in bulk: gone means deleted, another text means edited."""
        prefix = f"{self.config.page_id}_"
        for kind, fields in (("post", POST_FIELDS), ("comment", COMMENT_FIELDS)):
            wanted = [i for i in ids if i.startswith(prefix) == (kind == "post")]
            for node_id, node in self.client.lookup(wanted, fields).items():
                post_id = node_id if kind == "post" else prefix + node_id.split("_")[0]  # POSTID_COMMENTID
                if node is None:
                    del state.seen[node_id]
                    yield SourceRecord(POSTS.name, POSTS.object_type, node_id, {"id": node_id}, deleted=True,
                                       parent_id=post_id)
                elif state.seen.get(node_id) != (version := _version(node)):
                    state.seen[node_id] = version
                    yield self._record(node, post_id, (node.get("parent") or {}).get("id") or
                                       (None if kind == "post" else post_id))

    def _prune(self, state: _State, start: datetime | None, served: set[str]) -> None:
        """Keep the cursor bounded: posts of the feed's window, and the newest ``recheck_max`` ids."""
        keep = sorted((v, i) for i, v in state.seen.items() if start is None or _time(v.split("#")[0]) >= start)
        state.seen = {i: v for v, i in keep[-self.config.recheck_max:]} if self.config.recheck_max else {}
        state.activity = {p: s for p, s in state.activity.items() if p in served}
        state.comments = {p: s for p, s in state.comments.items() if p in served}

    def _messages(self, state: _State) -> Iterator[SourceRecord | None]:
        """Messenger conversations active since the last read, and their new messages, oldest first."""
        after, known, fresh = state.dm, set(state.dm_ids), []
        params = {"platform": "messenger", "fields": THREAD_FIELDS}
        for page in self.client.pages(f"/{self.config.page_id}/conversations", params, limit=25):
            active = [c for c in page if not after or str(c.get("updated_time")) >= after]
            fresh += active
            if len(active) < len(page):
                break
        for conversation in reversed(fresh):
            messages: list[JSON] = []
            for page in self.client.pages(f"/{conversation['id']}/messages", {"fields": MESSAGE_FIELDS}):
                messages += [m for m in page if not after or str(m.get("created_time")) >= after]
                if after and any(str(m.get("created_time")) < after for m in page):
                    break
            for message in reversed(messages):
                if message["id"] not in known:
                    stamp = str(message.get("created_time"))
                    state.dm_ids = [*(state.dm_ids if stamp == state.dm else []), message["id"]]
                    state.dm = max(state.dm, stamp)
                    yield self._record(message, conversation["id"], None, link=conversation.get("link"))

    def _record(self, node: JSON, thread: str, parent: str | None, link: object = None) -> SourceRecord:
        created, kind = str(node.get("created_time") or ""), "message" if thread.startswith("t_") else "comment"
        kind, updated = "post" if node["id"] == thread else kind, node.get("updated_time")
        url = node.get("permalink_url") or (f"https://www.facebook.com{link}" if isinstance(link, str) else None)
        extra: JSON = {"kind": kind, "thread_id": thread, "parent_id": parent, "is_thread_start": kind == "post",
                       "text": str(node.get("message") or ""), "url": url, "created_at": _time(created).isoformat(),
                       "updated_at": _time(updated).isoformat() if isinstance(updated, str) else None,
                       "channel": "facebook/messenger" if kind == "message" else "facebook/page"}
        return SourceRecord(POSTS.name, POSTS.object_type, str(node["id"]), {**node, "continuum": extra},
                            version=_version(node) if kind != "message" else created, parent_id=thread)

    # -- answers ----------------------------------------------------------------------------------------------
    def _reply(self, effect: Effect) -> EffectResult:
        text, thread = effect.fields.get("message"), effect.target_id or ""
        if not isinstance(text, str) or not text.strip() or not thread:
            raise ValueError(f"a reply needs a thread (post or t_ conversation) id as target_id (not {thread!r}) "
                             "and fields['message']")
        if thread.startswith("t_"):
            return self._send_message(effect, thread, text)
        on = str(effect.context.get("in_reply_to") or thread)
        if not on.startswith(f"{self.config.page_id}_"):  # a comment: replies go under its top-level comment
            on = (self.client.call("GET", f"/{on}", {"fields": "id,parent"}).get("parent") or {}).get("id") or on
        ours: dict[object, str] = {}
        if effect.maybe_applied:  # Graph has no idempotency key: the Page's own comments with the same text
            for page in self.client.pages(f"/{on}/comments", {"filter": "stream", "fields": COMMENT_FIELDS}):
                ours.update({c.get("message"): c["id"] for c in page if _author(c) == self.account})
        ids = [ours.get(part) or self.client.call("POST", f"/{on}/comments", body={"message": part})["id"]
               for part in split_for_limit(text, COMMENT_LIMIT)]
        return succeeded(effect, str(ids[0]), object_type="post", found_existing=ids[0] in ours.values())

    def _send_message(self, effect: Effect, conversation: str, text: str) -> EffectResult:
        messages = next(self.client.pages(f"/{conversation}/messages", {"fields": MESSAGE_FIELDS}, limit=25), [])
        theirs = [m for m in messages if _author(m) != self.account]
        if not theirs or datetime.now(UTC) - _time(theirs[0]["created_time"]) > WINDOW:
            return held(effect, "outside Messenger's 24-hour window (the customer last wrote "
                                f"{theirs[0]['created_time'] if theirs else 'never'}); answer on another channel, "
                                "or when they write again")
        sent = {m.get("message"): m["id"] for m in messages if m not in theirs} if effect.maybe_applied else {}
        body: JSON = {"recipient": {"id": theirs[0]["from"]["id"]}, "messaging_type": "RESPONSE"}
        ids = []
        for part in split_for_limit(text, MESSAGE_LIMIT):
            try:
                ids.append(sent.get(part) or self.client.call(
                    "POST", f"/{self.config.page_id}/messages", body={**body, "message": {"text": part}})["message_id"])
            except GraphError as exc:
                if exc.subcode != OUTSIDE_WINDOW:
                    raise
                return held(effect, f"outside Messenger's 24-hour window ({exc.message})")
        return succeeded(effect, str(ids[0]), object_type="post", found_existing=ids[0] in sent.values())


def _author(node: JSON) -> object:
    return (node.get("from") or {}).get("id")


def _unix(stamp: str) -> int:
    return int(_time(stamp).timestamp())
