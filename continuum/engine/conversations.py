"""Which of a thread's customer messages a reply the company wrote on the channel answers.

A thread a customer started (a forum topic, a tweet at the company, a direct message) is one conversation:
the company's reply in it answers every earlier open message there.  A thread the company started (its own
post on a Page, a network or a subreddit, with many customers commenting under it) holds one conversation
per top-level comment: a reply answers only the branch it was written in, so answering one commenter does
not stop the others' SLA clocks.

Where the structure is unknown (the thread's start was never read, or a parent id is not one of the
thread's messages, as with a forum's reply-to post numbers) the whole thread is answered, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection

from continuum.engine.read import external_id
from continuum.store import interactions


class ThreadMember(NamedTuple):
    id: int
    source_id: str
    parent_id: str | None
    direction: str
    is_thread_start: bool


WHOLE_THREAD = None


def answered_by(thread_id: str, members: Sequence[ThreadMember], reply_id: int) -> list[int] | None:
    """The inbound messages before ``reply_id`` in its branch, or ``WHOLE_THREAD`` when the thread is one
    conversation (or its shape is not known)."""
    root = next((m for m in members if m.is_thread_start or m.source_id == thread_id), None)
    reply = next((m for m in members if m.id == reply_id), None)
    if root is None or reply is None or root.direction != "outbound":
        return WHOLE_THREAD
    by_source = {m.source_id: m for m in members}
    top = _top_level(reply, root, by_source)
    if top is None:
        return WHOLE_THREAD
    return [m.id for m in members if m.direction == "inbound" and m.id < reply_id
            and m is not root and _top_level(m, root, by_source) is top]


def member_of(row: Any) -> ThreadMember:
    """A stored interaction as a thread member: its source id is ``object_type:external_id``, while thread
    and parent ids are the platform's own, so the member is known by the external part."""
    parent = None if row["parent_id"] is None else str(row["parent_id"])
    return ThreadMember(row["id"], external_id(str(row["source_id"])), parent, row["direction"],
                        bool(row["is_thread_start"]))


def branches(thread_id: str, rows: Sequence[Any]) -> dict[int, int]:
    """In a thread the company started, each customer message's branch: id → the id of the comment
    directly under the company's post that it hangs from (a top-level comment is its own branch).
    Empty for a thread a customer started: it is one conversation."""
    members = [member_of(r) for r in rows]
    root = next((m for m in members if m.is_thread_start or m.source_id == thread_id), None)
    if root is None or root.direction != "outbound":
        return {}
    by_source = {m.source_id: m for m in members}
    found = {}
    for m in members:
        top = None if m is root else _top_level(m, root, by_source)
        if top is not None and top.direction == "inbound":
            found[m.id] = top.id
    return found


def branch_starts(thread_id: str, rows: Sequence[Any]) -> dict[int, int]:
    """Replies only: reply id → the customer's comment that starts its branch (its root for triage)."""
    return {reply: top for reply, top in branches(thread_id, rows).items() if reply != top}


def conversations(conn: Connection, rows: Sequence[Any]) -> dict[int, str]:
    """Each row's conversation: its thread, or under the company's own post, the thread and its branch
    (so an answer or a notice goes to each commenter's branch, not only to the first one's)."""
    wanted = {(r["source_system"], str(r["thread_id"])) for r in rows if r["thread_id"] is not None}
    tops: dict[int, int] = {}
    for (_system, thread), members in interactions.thread_rows(conn, wanted).items():
        tops.update(branches(thread, members))
    return {r["id"]: str(r["thread_id"] or r["source_id"]) + (f"#{tops[r['id']]}" if r["id"] in tops else "")
            for r in rows}


def _top_level(member: ThreadMember, root: ThreadMember,
               by_source: dict[str, ThreadMember]) -> ThreadMember | None:
    """The comment directly under the thread's start that ``member`` hangs from (itself if it is one);
    None if a parent on the way up is not in the thread."""
    node, seen = member, {member.source_id}
    while node.parent_id not in (None, root.source_id):
        parent = by_source.get(str(node.parent_id))
        if parent is None or parent.source_id in seen:  # unknown, or a loop in bad data
            return None
        node = parent
        seen.add(node.source_id)
    return node
