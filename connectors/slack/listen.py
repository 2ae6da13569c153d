"""Slack as a listening channel: the ``messages`` stream, read from ``conversations.history`` and ``.replies``.

Events (``message``, ``app_mention``, ``message_changed``, ``message_deleted``) only wake a run (see
``webhook.py``); the run reads here from the stream's cursor, so an event and the next back-fill store
the same message under the same id, ``<channel>:<ts>``, once.

Slack gives apps outside the Marketplace one history call a minute and 15 messages a page.  So each
channel keeps its own mark in the cursor and every page is committed with it: a walk that the limit
stops (the shared HTTP layer waits out a short ``Retry-After`` and stops the run cleanly on a longer
one) resumes at its page cursor next run.  Each walk re-reads the channel's newest messages (at most
``recheck`` of them, one page): a message among them whose ``edited.ts`` changed is an edit (a new
version), one that is gone was deleted (``SourceRecord(deleted=True)``), one whose ``latest_reply``
moved has new replies in its thread, read with ``conversations.replies``.  The newest threads the hub
started (its expert notices) are read whole each walk: a reaction on a reply (the expert's "this is the
answer") moves nothing in the history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from connectors.slack.client import SlackClient
from continuum.connector import JSON, Page, SourceRecord
from continuum.kit import Stream, StreamCursor
from continuum.kit.pagination import dig

# What people write; joins, topic changes and the like are not interactions.
SPOKEN = frozenset({"", "thread_broadcast", "file_share", "me_message"})


class ChannelMark(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    oldest: str = ""  # the newest ts a finished walk read: the next walk reads from there (re-reading `recent`)
    recent: dict[str, str] = {}  # the newest messages read: ts -> "<edited.ts>|<latest_reply>"
    walk: str = ""  # the page cursor of a walk the rate limit stopped
    top: str = ""  # the newest ts that walk saw
    seen: dict[str, str] = {}  # what that walk read so far of the newest messages (same shape as `recent`)
    watch: list[str] = []  # the newest threads the hub started (expert threads), newest first
    replies: dict[str, str] = {}  # their replies: ts -> "<edited.ts>|<reactions>"


class MessagesCursor(StreamCursor):
    channels: dict[str, ChannelMark] = {}


MESSAGES = Stream(name="messages", object_type="message", cursor=MessagesCursor,
                  description="messages in the listened channels and DMs, thread replies included")


def stamp(message: JSON) -> str:
    return f"{dig(message, 'edited.ts') or ''}|{message.get('latest_reply') or ''}"


def reply_stamp(message: JSON) -> str:
    """A watched reply changes when it is edited or someone reacts to it (the expert's answer gesture)."""
    names = sorted(str(r.get("name")) for r in message.get("reactions") or [] if isinstance(r, dict) and r.get("count"))
    return f"{dig(message, 'edited.ts') or ''}|{','.join(names)}"


class MessageReader:
    def __init__(self, client: SlackClient, page_size: int, recheck: int, is_own: Callable[[JSON], bool],
                 url_for: Callable[[str, str], str | None], watch: int = 3) -> None:
        self.client, self.page_size, self.recheck, self.watch = client, page_size, recheck, watch
        self.is_own, self.url_for = is_own, url_for

    def read(self, channels: list[str], cursor: JSON | None) -> Iterator[Page]:
        marks = dict(MessagesCursor.from_json(cursor).channels)
        for channel in channels:
            for records, mark in self._walk(channel, marks.get(channel) or ChannelMark()):
                marks[channel] = mark
                yield Page(records, MessagesCursor(channels=dict(marks)))

    def _walk(self, channel: str, mark: ChannelMark) -> Iterator[tuple[list[SourceRecord], ChannelMark]]:
        floor = min(mark.recent) if mark.recent else mark.oldest
        params: JSON = {"channel": channel, "limit": self.page_size, "include_all_metadata": "true"}
        if floor:
            params.update(oldest=floor, inclusive="true")
        top, seen, page_cursor = mark.top, dict(mark.seen), mark.walk
        own_threads: list[str] = []
        while True:
            body = self.client.call("conversations.history", params={**params, **(
                {"cursor": page_cursor} if page_cursor else {})})
            records: list[SourceRecord] = []
            for message in body.get("messages") or []:
                ts = str(message.get("ts") or "")
                if not ts:
                    continue
                top = max(top, ts)
                if len(seen) < self.recheck or ts in mark.recent:
                    seen[ts] = stamp(message)
                before = mark.recent.get(ts)
                if self._speaks(message) and (before is None or before.split("|")[0] != stamp(message).split("|")[0]):
                    records.append(self._record(channel, message))
                if int(message.get("reply_count") or 0) and self.is_own(message) and len(own_threads) < self.watch:
                    own_threads.append(ts)  # among the newest the hub started: read whole below (reactions too)
                elif int(message.get("reply_count") or 0) and (before is None or before != stamp(message)):
                    records += self._replies(channel, ts, before.split("|")[1] if before else "")
            page_cursor = str(dig(body, "response_metadata.next_cursor") or "")
            if page_cursor and body.get("has_more") is not False:
                yield records, mark.model_copy(update={"walk": page_cursor, "top": top, "seen": seen})
                continue
            gone = [ts for ts in mark.recent if ts not in seen]  # the walk covered all of `recent`: deleted
            records += [self._deleted(channel, ts) for ts in gone]
            newest = dict(sorted(seen.items(), reverse=True)[:self.recheck])
            watch = list(dict.fromkeys([*own_threads, *mark.watch]))[:self.watch]
            replies: dict[str, str] = {}
            for parent in watch:
                records += self._watched(channel, parent, mark.replies, replies)
            yield records, ChannelMark(oldest=max(top, mark.oldest), recent=newest, watch=watch, replies=replies)
            return

    def _watched(self, channel: str, parent_ts: str, known: dict[str, str], now: dict[str, str]) -> list[SourceRecord]:
        """The replies of a thread the hub started that are new, edited or newly reacted to.

        A reaction changes no ``latest_reply``, so these threads are read whole each walk (``watch_threads`` of
        them: a call each, under the same limit)."""
        found: list[SourceRecord] = []
        params: JSON = {"channel": channel, "ts": parent_ts, "limit": self.page_size}
        for page in self.client.pages("conversations.replies", params):
            for message in page.get("messages") or []:
                ts = str(message.get("ts") or "")
                if not ts or ts == parent_ts or not self._speaks(message):
                    continue
                now[ts] = reply_stamp(message)
                if known.get(ts) != now[ts]:
                    found.append(self._record(channel, message))
        return found

    def _replies(self, channel: str, parent_ts: str, after: str) -> list[SourceRecord]:
        """A thread's replies newer than ``after`` (the parent's last known reply), oldest first."""
        params: JSON = {"channel": channel, "ts": parent_ts, "limit": self.page_size}
        if after:
            params["oldest"] = after
        found: list[SourceRecord] = []
        for page in self.client.pages("conversations.replies", params):
            found += [self._record(channel, m) for m in page.get("messages") or []
                      if m.get("ts") != parent_ts and self._speaks(m) and (not after or str(m.get("ts")) > after)]
        return found

    def _speaks(self, message: JSON) -> bool:
        return str(message.get("subtype") or "") in SPOKEN and not self.is_own(message)

    def _record(self, channel: str, message: JSON) -> SourceRecord:
        ts, thread = str(message["ts"]), str(message.get("thread_ts") or message["ts"])
        extra: dict[str, Any] = {
            "channel": channel, "thread_id": f"{channel}:{thread}", "is_thread_start": thread == ts,
            "parent_id": None if thread == ts else f"{channel}:{thread}", "url": self.url_for(channel, ts),
            "created_at": _iso(ts), "updated_at": _iso(str(dig(message, "edited.ts") or ts)),
        }
        return SourceRecord(stream=MESSAGES.name, object_type=MESSAGES.object_type, external_id=f"{channel}:{ts}",
                            payload={**message, "continuum": extra}, version=str(dig(message, "edited.ts") or "")
                            or None, parent_id=extra["parent_id"])

    def _deleted(self, channel: str, ts: str) -> SourceRecord:
        return SourceRecord(stream=MESSAGES.name, object_type=MESSAGES.object_type, external_id=f"{channel}:{ts}",
                            payload={"ts": ts, "continuum": {"channel": channel}}, deleted=True)


def _iso(ts: str) -> str:
    return datetime.fromtimestamp(float(ts), UTC).isoformat()
