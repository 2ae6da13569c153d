"""X direct messages: read the company's one-to-one conversations, answer in them.

``GET /2/dm_events`` has no ``since_id``: it lists the last 30 days newest first, so a read pages back until
it meets the newest event id it read before.  A conversation's thread is its ``dm_conversation_id``; the
parent of a message is the one before it in that conversation, which the cursor remembers per conversation
(for as long as X keeps the previous message).  Group conversations are not read: their ids look like post
ids, so an answer could not tell them from a reply on the timeline.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from continuum.connector import JSON, Effect, EffectResult, SourceRecord
from continuum.kit import NextTokenPaginator, split_for_limit, succeeded, walk

if TYPE_CHECKING:
    from connectors.x.connector import PostsCursor, XConnector

DM_LIMIT = 10_000  # characters in one direct message (X's documented limit)
KEPT = timedelta(days=30)  # X serves the last 30 days of events; an older previous message is gone anyway
MAX_CONVERSATIONS = 1000  # conversations remembered in the cursor (their latest event), newest first
# A one-to-one conversation id: the two participants' user ids, the smaller first.
ONE_TO_ONE = re.compile(r"^\d+-\d+$")
OBJECT = "dm_event"  # distinct from "post": a record's source id is object type and id


class Latest(NamedTuple):
    event_id: str
    created_at: str


def is_conversation(target: str) -> bool:
    return bool(ONE_TO_ONE.match(target))


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _newer(event: JSON, since: str) -> bool:
    return not since or int(event["id"]) > int(since)


def _fetch(connector: XConnector, since: str, users: dict[str, JSON],
           conversation: str | None = None) -> tuple[list[JSON], list[JSON]]:
    """Message events newer than ``since`` and the older ones the last page held too, both oldest first."""
    paginator = NextTokenPaginator(connector.system, params={"max_results": connector.config.page_size},
                                   token_path="meta.next_token", param="pagination_token")
    fresh: list[JSON] = []
    older: list[JSON] = []
    for page in walk(lambda request: connector.client.dm_events(request, conversation), paginator,
                     item_ids=lambda body: [e["id"] for e in body.get("data") or []]):
        users.update((u["id"], u) for u in (page.body.get("includes") or {}).get("users") or [])
        for event in page.body.get("data") or []:
            if is_conversation(str(event.get("dm_conversation_id") or "")):
                (fresh if _newer(event, since) else older).append(event)
        if older:  # reached what the last run read: the rest is older still
            break
    return sorted(fresh, key=lambda e: int(e["id"])), sorted(older, key=lambda e: int(e["id"]))


def read(connector: XConnector, start: PostsCursor) -> Iterator[tuple[SourceRecord, PostsCursor]]:
    """New messages, oldest first, each with the cursor that is true once it is stored."""
    users: dict[str, JSON] = {}
    fresh, older = _fetch(connector, start.dm_since, users)
    latest = {conversation: Latest(event, at) for conversation, event, at in start.dm_last}
    latest.update((str(e["dm_conversation_id"]), Latest(str(e["id"]), str(e.get("created_at") or ""))) for e in older)
    since = start.dm_since
    for event in fresh:
        conversation = str(event["dm_conversation_id"])
        parent = latest[conversation].event_id if conversation in latest else None
        latest[conversation] = Latest(str(event["id"]), str(event.get("created_at") or ""))
        since = str(event["id"])
        yield _record(connector, event, parent, users), start.model_copy(
            update={"dm_since": since, "dm_last": _bounded(latest)})


def _bounded(latest: dict[str, Latest]) -> tuple[tuple[str, str, str], ...]:
    kept = sorted(((c, *v) for c, v in latest.items() if v.created_at), key=lambda r: int(r[1]))[-MAX_CONVERSATIONS:]
    if not kept:
        return ()
    horizon = _when(kept[-1][2]) - KEPT
    return tuple(r for r in kept if _when(r[2]) >= horizon)


def _record(connector: XConnector, event: JSON, parent: str | None, users: dict[str, JSON]) -> SourceRecord:
    sender = str(event.get("sender_id") or "")
    if not sender.isdigit():
        raise ValueError(f"x dm_event {event.get('id')}: field sender_id: missing or not a user id ({sender!r})")
    person = users.get(sender, {})
    conversation = str(event["dm_conversation_id"])
    extra: JSON = {"thread_id": conversation, "parent_id": parent, "is_thread_start": parent is None,
                   "kind": "message", "channel": "x/dm", "author_id": sender,
                   "author_handle": person.get("username") or None, "author_name": person.get("name"),
                   "text": str(event.get("text") or ""),  # DMs come as typed: no HTML entities to decode
                   "url": f"https://x.com/messages/{conversation}", "updated_at": None}
    return SourceRecord(stream="posts", object_type=OBJECT, external_id=str(event["id"]),
                        payload={**event, "continuum": extra}, version=str(event["id"]), parent_id=parent)


# -- answering --------------------------------------------------------------------------
def reply(connector: XConnector, effect: Effect, conversation: str, text: str) -> EffectResult:
    """The answer as messages in the conversation, 10,000 characters each.  X has no idempotency key: after
    a maybe-applied attempt, the company's recent messages there with the same text count as sent."""
    answered = str(effect.context.get("in_reply_to") or "")
    ours = _ours(connector, conversation, answered if answered.isdigit() else "") if effect.maybe_applied else {}
    ids: list[str] = []
    found_first = False
    for n, part in enumerate(split_for_limit(text, DM_LIMIT)):
        if part in ours:
            found_first = found_first or n == 0
            ids.append(ours.pop(part))
        else:
            ids.append(connector.client.send_dm(conversation, part))
    return succeeded(effect, ids[0], object_type=OBJECT, version=ids[0], found_existing=found_first,
                     url=f"https://x.com/messages/{conversation}")


def _ours(connector: XConnector, conversation: str, answered: str) -> dict[str, str]:
    """The company's latest messages in the conversation (one page of 100), after the message answered
    when the effect names it: text -> event id (the oldest of equal texts)."""
    page = connector.client.dm_events({"max_results": 100}, conversation).body.get("data") or []
    me, found = str(connector.me()["id"]), {}
    for event in page:  # newest first
        if answered and int(event["id"]) <= int(answered):
            break  # an answer is newer than what it answers; older look-alikes answered something else
        if str(event.get("sender_id")) == me:
            found[str(event.get("text") or "")] = str(event["id"])
    return found
