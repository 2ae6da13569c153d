"""Reddit as a Continuum system: the company's subreddit (posts, comments) and its account's inbox, answered
with comments as the company's account."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from connectors.reddit.client import RedditClient
from connectors.reddit.config import RedditConfig
from connectors.reddit.markup import escape_text
from connectors.reddit.plugin import CAPABILITIES
from continuum.connector import JSON, Effect, EffectResult, Page, SourceRecord
from continuum.kit import EffectDispatcher, Stream, StreamCursor, split_for_limit, succeeded

COMMENT_LIMIT = 10_000  # characters of a comment's Markdown
GONE = ("[deleted]", "[removed]")


class Anchor(StreamCursor):
    name: str = ""  # the newest fullname read from one listing
    created: float = 0.0  # its created_utc: where to stop walking back if it vanished (a `before` on it finds nothing)


class PostsCursor(StreamCursor):
    listings: dict[str, Anchor] = Field(default_factory=dict)
    # Fullnames read lately, with created_utc and the version read: re-looked up for edits and deletions.
    recent: dict[str, tuple[float, str]] = Field(default_factory=dict)


POSTS = Stream(name="posts", object_type="post", cursor=PostsCursor)


def _iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat().replace("+00:00", "Z")


def _version(thing: Any) -> str:
    edited = thing.__dict__.get("edited") or 0  # a timestamp, or false; messages have none
    return str(int(edited or thing.created_utc))


def _gone(thing: Any) -> bool:
    text = thing.__dict__.get("body", thing.__dict__.get("selftext"))
    return thing.author is None and text in GONE


class RedditConnector:
    system = "reddit"
    capabilities = CAPABILITIES
    escape_text = staticmethod(escape_text)

    def __init__(self, config: RedditConfig, client: RedditClient | None = None) -> None:
        self.config, self.client = config, client or RedditClient(config)
        self.account: str | None = config.username
        self.dispatch = EffectDispatcher(self.system, {"reply": self._reply})
        sub = config.subreddit
        # Posts before comments, so a thread's start comes before its replies; the inbox holds replies to the
        # company and u/ mentions anywhere, and private messages.
        self.listings = {"submissions": f"/r/{sub}/new", "comments": f"/r/{sub}/comments", "inbox": "/message/inbox"}

    def check(self) -> None:
        self.client.me()

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return self.dispatch.write(effects)

    # -- reading ----------------------------------------------------------------
    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        """Edits and deletions among recent ids first, then each listing's new things, oldest first."""
        if stream != POSTS.name:
            raise ValueError(f"Reddit has no stream {stream!r}; it has {POSTS.name!r}")
        state = PostsCursor.from_json(cursor)
        listings, recent = dict(state.listings), dict(state.recent)
        changed = self._recheck(recent)
        if changed:
            yield Page(changed, PostsCursor(listings=listings, recent=recent).to_json())
        for key, path in self.listings.items():
            for chunk in self._walk(path, listings.get(key) or Anchor()):
                newest = chunk[-1]
                listings[key] = Anchor(name=newest.fullname, created=float(newest.created_utc))
                records = [self._record(t) for t in chunk if self._wanted(key, t)]
                self._remember(recent, [t for t in chunk if t.fullname[:3] in ("t1_", "t3_")])
                yield Page(records, PostsCursor(listings=listings, recent=recent).to_json())

    def _walk(self, path: str, anchor: Anchor) -> Iterator[list[Any]]:
        """Chunks of things newer than ``anchor``, oldest first, each safe to commit before the next call."""
        top = self.client.listing(path)
        names = [t.fullname for t in top.children]
        if anchor.name in names:  # the usual run: one call
            if fresh := top.children[:names.index(anchor.name)]:
                yield fresh[::-1]
            return
        if anchor.name and top.children:  # more than a page behind: forward from the anchor with `before`
            before, moved = anchor.name, False
            while batch := self.client.listing(path, before=before).children:
                fresh = [t for t in batch if t.created_utc >= anchor.created and t.fullname != anchor.name]
                if fresh:
                    yield fresh[::-1]
                    moved = True
                before = batch[0].fullname  # the newest of the page
                if len(batch) < self.config.page_size:
                    break
            if moved:
                return
        # First run, or the anchor vanished (deleted, removed): walk back with `after` down to its time.
        found: list[Any] = []
        page, seen, afters = top, set[str](), set[str]()
        while True:
            older = [t for t in page.children if t.created_utc < anchor.created or t.fullname == anchor.name]
            found += [t for t in page.children if t not in older and t.fullname not in seen]
            seen.update(t.fullname for t in page.children)
            if older or not page.after or page.after in afters:  # a token that comes back would loop
                break
            afters.add(page.after)
            page = self.client.listing(path, after=page.after)
        found.reverse()
        for start in range(0, len(found), self.config.page_size):
            yield found[start:start + self.config.page_size]

    def _wanted(self, listing: str, thing: Any) -> bool:
        # A reply in the company's subreddit is in its inbox too: read once, from the subreddit's comments.
        sub = str(thing.__dict__.get("subreddit") or "")
        return not (listing == "inbox" and thing.fullname.startswith("t1_")
                    and sub.lower() == self.config.subreddit.lower())

    def _remember(self, recent: dict[str, tuple[float, str]], things: Sequence[Any]) -> None:
        for thing in things:
            recent[thing.fullname] = (float(thing.created_utc), _version(thing))
        newest = max((created for created, _ in recent.values()), default=0.0)
        keep = sorted((c, n) for n, (c, _) in recent.items() if c >= newest - self.config.recheck_days * 86400)
        wanted = {n for _, n in keep[-self.config.recheck_max:]} if self.config.recheck_max else set()
        for name in set(recent) - wanted:
            del recent[name]

    def _recheck(self, recent: dict[str, tuple[float, str]]) -> list[SourceRecord]:
        """Recent things edited (a new version) or deleted since read: 100 ids a call, as /api/info takes them."""
        now = {t.fullname: t for t in self.client.info(sorted(recent))}
        records: list[SourceRecord] = []
        for name in sorted(recent, key=lambda n: recent[n][0]):
            thing = now.get(name)
            if thing is None or _gone(thing):
                del recent[name]
                records.append(SourceRecord(stream=POSTS.name, object_type=POSTS.object_type, external_id=name,
                                            payload={"name": name}, parent_id=None, deleted=True))
            elif _version(thing) != recent[name][1]:
                recent[name] = (recent[name][0], _version(thing))
                records.append(self._record(thing))
        return records

    def _record(self, thing: Any) -> SourceRecord:
        data, name = thing.__dict__, thing.fullname
        kind = {"t1_": "comment", "t3_": "submission", "t4_": "message"}.get(name[:3], "unknown")
        if kind == "message":
            thread, parent = str(data.get("first_message_name") or name), data.get("parent_id")
        elif kind == "submission":
            thread, parent = name, None
        else:  # inbox items carry no link_id: their context path names the submission
            context = str(data.get("context") or "").split("/")
            link = data.get("link_id") or (f"t3_{context[4]}" if len(context) > 4 else None)
            thread, parent = str(link or name), data.get("parent_id")
        author, permalink = thing.author, data.get("permalink") or data.get("context")
        payload: JSON = {
            "id": thing.id, "name": name, "kind": kind, "author": str(author) if author else None,
            "author_fullname": data.get("author_fullname"), "subreddit": str(data.get("subreddit") or "") or None,
            # A comment's link_title is the post it sits under (often the company's): not what it asks.
            "title": data.get("title") or data.get("subject"), "thread_title": data.get("link_title"),
            "text": data.get("body", data.get("selftext")) or "", "created_utc": thing.created_utc,
            "edited": data.get("edited") or False,
            "continuum": {"thread_id": thread, "parent_id": parent, "is_thread_start": parent is None,
                          "url": f"https://www.reddit.com{permalink}" if permalink else None,
                          "created_at": _iso(thing.created_utc),
                          "updated_at": _iso(float(data.get("edited") or thing.created_utc)),
                          "channel": f"reddit/r/{data.get('subreddit')}" if data.get("subreddit") else "reddit/inbox"},
        }
        return SourceRecord(stream=POSTS.name, object_type=POSTS.object_type, external_id=name, payload=payload,
                            version=_version(thing), parent_id=thread)

    # -- answering --------------------------------------------------------------
    def _reply(self, effect: Effect) -> EffectResult:
        """The answer under the customer's post (parts past 10,000 characters each under the previous part)."""
        text, target = effect.fields.get("text"), str(effect.context.get("in_reply_to") or effect.target_id or "")
        if not isinstance(text, str) or not text.strip() or target[:3] not in ("t1_", "t3_", "t4_"):
            raise ValueError(f"a reply needs a fullname to answer (not {target!r}) and fields['text']")
        parts = split_for_limit(text, COMMENT_LIMIT)
        made = self._find_chain(target, parts) if effect.maybe_applied else []
        found = bool(made)
        parent = made[-1].fullname if made else target
        for part in parts[len(made):]:
            made.append(self.client.post_comment(parent, part))
            parent = made[-1].fullname
        first = made[0]
        link = first.__dict__.get("permalink")
        return succeeded(effect, first.fullname, object_type=POSTS.object_type, version=_version(first),
                         url=f"https://www.reddit.com{link}" if link else None, found_existing=found)

    def _find_chain(self, parent: str, parts: Sequence[str]) -> list[Any]:
        """The parts an earlier attempt posted, in order: the company's newest 100 comments (or sent messages)
        with that parent and exactly that text.  Reddit has no idempotency key and Markdown hides nothing."""
        path = "/message/sent" if parent.startswith("t4_") else f"/user/{self.config.username}/comments"
        mine = self.client.listing(path, sort="new").children
        chain: list[Any] = []
        for part in parts:
            match = next((t for t in mine if t.__dict__.get("parent_id") == parent
                          and t.__dict__.get("body") == part), None)
            if match is None:
                break
            chain.append(match)
            parent = match.fullname
        return chain
