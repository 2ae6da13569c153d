"""The listening half of the Slack simulator: threads, edits, deletions, and Slack's read limits.

People's side (no API call, not an effect): :meth:`reply` in a thread, :meth:`edit` (``edited.ts``, as
Slack's ``message_changed``), :meth:`delete` (gone from history, as ``message_deleted``).
``conversations.replies`` serves a thread oldest first, parent first, as Slack does.

Slack's limit since 2025 for apps not in the Marketplace: ``conversations.history`` and
``conversations.replies`` answer once a minute per method and at most 15 messages a page
(https://api.slack.com/changelog/2025-05-terms-rate-limit-update-and-faq).  ``read_limits`` sets it:
a second call inside the minute gets HTTP 429, ``{"ok": false, "error": "ratelimited"}`` and a
``Retry-After`` of the seconds left; ``minute_s`` shortens the minute for tests (still a real wait).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from continuum.simkit import PageTokens, Response, SimRequest, Table, under, window

if TYPE_CHECKING:
    from connectors.slack.simulator import SimChannel

JSON = dict[str, Any]
api = under("/api")
CURSORS = PageTokens(urlsafe=False)


@dataclass
class ReadLimits:
    calls_per_minute: int = 1
    max_messages: int = 15
    minute_s: float = 60.0


class ThreadsMixin:
    channels: Table[str, SimChannel]
    lock: Any
    faults: Any
    limits: ReadLimits | None = None
    _last_read: dict[str, list[float]]

    if TYPE_CHECKING:  # provided by SlackSimulator and Simulator; stubs only for the type checker
        def _channel(self, ref: str) -> SimChannel: ...
        def _ts(self) -> str: ...
        def _error(self, code: str, **extra: Any) -> Response: ...
        def _ok(self, body: JSON) -> Response: ...
        def _visible(self, channel: SimChannel) -> bool: ...
        def _limit(self, params: JSON, most: int) -> int: ...
        def _after(self, params: JSON, kind: str) -> str | None: ...
        def json_response(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response: ...

    def read_limits(self, calls_per_minute: int = 1, max_messages: int = 15, minute_s: float = 60.0) -> None:
        """Slack's non-Marketplace limit on history reads (None: Marketplace apps' tier 3)."""
        self.limits = ReadLimits(calls_per_minute, max_messages, minute_s)
        self._last_read = {}

    def _throttled(self, method: str) -> Response | None:
        """429 with the seconds left when ``method`` was called too often inside the current minute."""
        if self.limits is None:
            return None
        now, minute = time.monotonic(), self.limits.minute_s
        calls = [t for t in self._last_read.get(method, []) if now - t < minute]
        if len(calls) >= self.limits.calls_per_minute:
            wait = max(1, math.ceil(minute - (now - calls[0])))
            return self.json_response({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(wait)})
        self._last_read[method] = [*calls, now]
        return None

    def _most(self, most: int) -> int:
        return min(most, self.limits.max_messages) if self.limits is not None else most

    # -- people's side ----------------------------------------------------------
    def reply(self, channel: str, parent_ts: str, user_id: str, text: str, **extra: Any) -> str:
        """A person answers in the thread of ``parent_ts``; returns the reply's ts."""
        with self.lock:
            target = self._channel(channel)
            parent = self._message(target, parent_ts)
            message = {"type": "message", "text": text, "user": user_id, "ts": self._ts(), "thread_ts": parent_ts,
                       "parent_user_id": parent.get("user") or "", "team": parent.get("team"), **extra}
            target.messages.append(message)
            parent["thread_ts"] = parent_ts
            parent["reply_count"] = int(parent.get("reply_count") or 0) + 1
            parent["latest_reply"] = message["ts"]
            parent["reply_users"] = list(dict.fromkeys([*parent.get("reply_users", []), user_id]))
            parent["reply_users_count"] = len(parent["reply_users"])
            return str(message["ts"])

    def edit(self, channel: str, ts: str, text: str) -> str:
        """The author edits a message (Slack's ``message_changed``); returns the edit's ts."""
        with self.lock:
            message = self._message(self._channel(channel), ts)
            message["text"] = text
            message["edited"] = {"user": message.get("user") or "", "ts": self._ts()}
            return str(message["edited"]["ts"])

    def react(self, channel: str, ts: str, user_id: str, name: str) -> None:
        """A person adds a reaction (Slack's ``reaction_added``); messages show it in ``reactions``."""
        with self.lock:
            message = self._message(self._channel(channel), ts)
            reactions: list[JSON] = message.setdefault("reactions", [])
            found = next((r for r in reactions if r["name"] == name), None)
            if found is None:
                reactions.append({"name": name, "users": [user_id], "count": 1})
            elif user_id not in found["users"]:
                found["users"].append(user_id)
                found["count"] += 1

    def delete(self, channel: str, ts: str) -> None:
        """The author deletes a message (Slack's ``message_deleted``): it is gone from history."""
        with self.lock:
            target = self._channel(channel)
            target.messages.remove(self._message(target, ts))

    @staticmethod
    def _message(channel: SimChannel, ts: str) -> JSON:
        found = next((m for m in channel.messages if m["ts"] == ts), None)
        if found is None:
            raise ValueError(f"no message {ts} in {channel.id}")
        return found

    # -- endpoints ----------------------------------------------------------------
    @api("/conversations.replies", "GET", "POST")
    def replies(self, request: SimRequest) -> Response:
        params = request.params
        channel = self.channels.get(str(params.get("channel") or ""))
        if channel is None or not self._visible(channel):
            return self._error("channel_not_found")
        parent_ts = str(params.get("ts") or "")
        if not any(m["ts"] == parent_ts for m in channel.messages):
            return self._error("thread_not_found")
        if (throttled := self._throttled("conversations.replies")) is not None:
            return throttled
        limit = self._limit(params, self._most(1000))
        oldest = params.get("oldest")

        def listing() -> list[JSON]:  # the parent, then its replies oldest first (oldest bounds the replies)
            thread = sorted((m for m in channel.messages if m["ts"] == parent_ts or m.get("thread_ts") == parent_ts),
                            key=lambda m: m["ts"])
            return [m for m in thread if m["ts"] == parent_ts or not oldest or float(m["ts"]) > float(oldest)]

        after = self._after(params, "replies")
        page = window(self.faults, listing, limit, start=lambda rows: next(
            (n for n, m in enumerate(rows) if m["ts"] >= str(after)), len(rows)) if after else 0,
            resumed=after is not None)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        # The parent as the description shows it (thread fields, even with no reply yet).
        shown = [{**m, **({"thread_ts": m["ts"], "reply_count": m.get("reply_count", 0), "subscribed": False}
                          if m["ts"] == parent_ts else {})} for m in page.items]
        body: JSON = {"messages": [{k: v for k, v in m.items() if with_metadata or k != "metadata"} for m in shown],
                      "has_more": page.more}
        if page.following is not None:
            body["response_metadata"] = {"next_cursor": CURSORS.encode("replies", page.following["ts"])}
        return self._ok(body)
