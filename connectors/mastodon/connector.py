"""Mastodon as a Continuum system: read what customers say to the company (mentions, replies, direct
messages), answer in their thread as the company's account."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from urllib.parse import urlsplit

from connectors.mastodon.client import MastodonClient
from connectors.mastodon.config import MastodonConfig
from connectors.mastodon.markup import escape_text, html_to_text, status_length, without_leading_mentions
from connectors.mastodon.plugin import CAPABILITIES
from continuum.connector import JSON, Effect, EffectResult, Page, SourceRecord
from continuum.kit import EffectDispatcher, Stream, StreamCursor, split_for_limit, succeeded

VISIBILITIES = ("public", "unlisted", "private", "direct")  # widest first
Recent = tuple[str, str, float, str]  # (status id, version, created at in epoch seconds, thread root id)


class PostsCursor(StreamCursor):
    last_id: str = ""  # the newest mention notification read
    recent: tuple[Recent, ...] = ()  # statuses re-looked up for edits and deletions


POSTS = Stream(name="posts", object_type="status", cursor=PostsCursor,
               description="statuses that mention the company (replies and direct messages included)")


def _version(status: JSON) -> str:
    return str(status.get("edited_at") or status.get("created_at") or "")


def _epoch(stamp: object) -> float:
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


class MastodonConnector:
    system = "mastodon"
    capabilities = CAPABILITIES
    escape_text = staticmethod(escape_text)

    def __init__(self, config: MastodonConfig, client: MastodonClient | None = None) -> None:
        self.config, self.client = config, client or MastodonClient(config)
        self.account: str | None = config.handle  # authors are keyed by full handle: this one is the company
        self.dispatch = EffectDispatcher(self.system, {"reply": self._reply})
        self._roots: dict[str, str] = {}  # status id -> its thread's root

    def check(self) -> None:
        """Prove the token works (401 otherwise) and is the configured account's."""
        if (owner := self.handle_of(self.client.me())) != self.config.handle:
            raise ValueError(f"mastodon: the token is {owner}'s, not {self.config.handle}'s; fix the connection")

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return self.dispatch.write(effects)

    def handle_of(self, account: JSON) -> str:
        """``name@server`` for any account (``acct`` is bare for the server's own users)."""
        acct = str(account.get("acct") or "").lower()
        return acct if "@" in acct else f"{acct}@{urlsplit(str(account.get('url'))).hostname or self.config.domain}"

    # -- reading ---------------------------------------------------------------
    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        """Recent statuses edited or deleted since (one bulk re-lookup), then new mentions oldest first, a Page
        per call; each Page's cursor covers it and everything before."""
        if stream != POSTS.name:
            raise ValueError(f"Mastodon has no stream {stream!r}; it has {POSTS.name!r}")
        start = PostsCursor.from_json(cursor)
        horizon = time.time() - self.config.recheck_days * 86400
        recent = {r[0]: r for r in start.recent if r[2] >= horizon}
        self._roots.update({r[0]: r[3] for r in recent.values()})
        if (changed := self._rechecked(recent)) or len(recent) < len(start.recent):
            yield Page(changed, self._cursor(start.last_id, recent))
        last = start.last_id
        for notifications in self.client.mentions(last, self.config.page_size):
            if not (fresh := [n for n in notifications if int(n["id"]) > int(last or 0)]):
                break  # nothing newer: the end (a page served from a little early is no news)
            batch: list[SourceRecord] = []
            for status in (n["status"] for n in fresh if isinstance(n.get("status"), dict)):
                batch += self._thread_records(status, recent)
                batch.append(self._record(status, root := self._roots[status["id"]]))
                recent[status["id"]] = (status["id"], _version(status), _epoch(status.get("created_at")), root)
            last = fresh[-1]["id"]
            yield Page(batch, self._cursor(last, recent))

    def _cursor(self, last_id: str, recent: dict[str, Recent]) -> JSON:
        kept = sorted(recent.values(), key=lambda r: int(r[0]))[len(recent) - self.config.recheck_max:]  # newest
        return PostsCursor(last_id=last_id, recent=tuple(kept)).to_json()

    def _rechecked(self, recent: dict[str, Recent]) -> list[SourceRecord]:
        """Edited statuses as updated records, vanished ones as deleted records (``recent`` follows suit)."""
        found = {s["id"]: s for s in self.client.statuses(sorted(recent, key=int))} if recent else {}
        records: list[SourceRecord] = []
        for sid, (_, version, created, root) in list(recent.items()):
            if (status := found.get(sid)) is None:
                del recent[sid]
                records.append(SourceRecord(stream=POSTS.name, object_type=POSTS.object_type, external_id=sid,
                                            payload={"id": sid, "continuum": {"thread_id": root}}, parent_id=root,
                                            deleted=True))
            elif _version(status) != version:
                recent[sid] = (sid, _version(status), created, root)
                records.append(self._record(status, root))
        return records

    def _thread_records(self, status: JSON, recent: dict[str, Recent]) -> list[SourceRecord]:
        """Learn the thread's root (a context call only for a chain new to us); the company's own statuses
        above this one are read too, as the company's voice in the thread."""
        parent = status.get("in_reply_to_id")
        if not parent or parent in self._roots:
            self._roots[status["id"]] = self._roots[parent] if parent else status["id"]
            return []
        ancestors = [a for a in self.client.context(status["id"]).get("ancestors") or [] if isinstance(a, dict)]
        root = ancestors[0]["id"] if ancestors else str(parent)  # a root we may not see still names the thread
        self._roots.update({a["id"]: root for a in ancestors} | {status["id"]: root})
        return [self._record(a, root) for a in ancestors
                if self.handle_of(a.get("account") or {}) == self.config.handle and a["id"] not in recent]

    def _record(self, status: JSON, root: str) -> SourceRecord:
        extra = {"text": html_to_text(str(status.get("content") or "")), "thread_id": root,
                 "is_thread_start": status["id"] == root, "acct": self.handle_of(status.get("account") or {})}
        return SourceRecord(stream=POSTS.name, object_type=POSTS.object_type, external_id=status["id"],
                            payload={**status, "continuum": extra}, version=_version(status) or None, parent_id=root)

    # -- answering -------------------------------------------------------------
    def _reply(self, effect: Effect) -> EffectResult:
        """The answer under the customer's status, addressed to them first, as visible as it and no more; past
        the server's limit a numbered chain, each part under the previous one."""
        text = effect.fields.get("status")
        target = str(effect.context.get("in_reply_to") or effect.target_id or "").rpartition(":")[2]
        if not isinstance(text, str) or not text.strip() or not target.isdigit():
            raise ValueError(f"a reply needs a status id to answer (not {target!r}) and fields['status']")
        if (parent := self.client.status(target)) is None:
            raise LookupError(f"mastodon: status {target} is gone (deleted, or not visible to the company)")
        author = parent.get("account") or {}
        ours = self.handle_of(author) == self.config.handle
        prefix = "" if ours or not author.get("acct") else f"@{author['acct']} "  # the company addressing them
        visibility = parent.get("visibility") if parent.get("visibility") in VISIBILITIES else "direct"
        parts = split_for_limit(text, self.client.max_characters - status_length(prefix), count=status_length)
        # A retry looks in the thread first: the server keeps an Idempotency-Key for an hour only.
        earlier = [s for s in self.client.context(target).get("descendants") or []
                   if self.handle_of(s.get("account") or {}) == self.config.handle] if effect.maybe_applied else []
        made: list[tuple[JSON, bool]] = []
        for n, part in enumerate(parts):
            above = made[-1][0]["id"] if made else target
            match = next((s for s in earlier if s.get("in_reply_to_id") == above and without_leading_mentions(
                html_to_text(str(s.get("content") or ""))) == without_leading_mentions(prefix + part)), None)
            key = effect.key if n == 0 else f"{effect.key}/{n + 1}"
            made.append((match or self.client.post(prefix + part, above, str(visibility), key), match is not None))
        (first, found) = made[0]
        return succeeded(effect, first["id"], object_type=POSTS.object_type, version=_version(first) or None,
                         url=first.get("url"), found_existing=found)
