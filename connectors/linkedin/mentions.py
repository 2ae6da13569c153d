"""Members' own posts that mention the company page (the ``mentions: true`` option).

LinkedIn tells a page about them only through the Organization Social Action Notifications: one
``SHARE_MENTION`` notification per post, served (for 60 days) by the criteria finder
``GET /rest/organizationalEntityNotifications?q=criteria``.  Its ``generatedActivity`` is the member's post
(``urn:li:share:…`` or ``urn:li:ugcPost:…``) and ``sourcePost`` that post's activity URN, which the Posts API
does not take; ``GET /rest/posts/<urn>`` then gives the text and the author.  A mention inside a comment has no
documented action, so it is not read.  Each mention is a thread of its own, started by the member; the
comments under the newest ones are read as on the page's own posts (the connector's comment reading).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from connectors.linkedin.client import iso_ms
from connectors.linkedin.markup import readable
from continuum.connector import JSON, SourceRecord
from continuum.kit import ClientError

if TYPE_CHECKING:
    from connectors.linkedin.connector import LinkedInConnector

log = logging.getLogger(__name__)
ACTIONS = ["SHARE_MENTION"]
# Each run asks again from a little before the newest notification read: one LinkedIn files late is still
# found, and the cursor's ``seen`` (what was read within this overlap) keeps it from being read twice.
OVERLAP_MS = 15 * 60_000
_POST_PREFIXES = ("urn:li:share:", "urn:li:ugcPost:")


def _ms(value: object) -> int:
    return value if isinstance(value, int) else 0


def mentioning_post(notification: JSON) -> str | None:
    """The member's post a ``SHARE_MENTION`` notification is about (a URN the Posts API takes), if any."""
    decorated = notification.get("decoratedSourcePost")
    for value in (notification.get("generatedActivity"), notification.get("sourcePost"),
                  decorated.get("entity") if isinstance(decorated, dict) else None):
        if isinstance(value, str) and value.startswith(_POST_PREFIXES):
            return value
    return None


def unread(connector: LinkedInConnector, newest: int, seen: dict[str, int]) -> list[tuple[int, str]]:
    """(time, post URN) of every mention notification not read yet, oldest first; the finder is paged with
    ``start``/``count`` to a short page (it serves no total), a post named twice counts once."""
    found: dict[str, int] = {}
    start, size = 0, connector.config.page_size
    since, until = max(0, newest - OVERLAP_MS), int(time.time() * 1000) + 1
    while True:
        answer = connector.client.notifications(connector.config.organization, ACTIONS, since, until, start, size)
        items = [n for n in answer.get("elements") or [] if isinstance(n, dict)]
        for n in items:
            post = mentioning_post(n) if n.get("action") == "SHARE_MENTION" else None
            if post is not None and post not in seen:
                found[post] = max(found.get(post, 0), _ms(n.get("lastModifiedAt")))
        served_from = (answer.get("paging") or {}).get("start")
        start = (served_from if isinstance(served_from, int) else start) + len(items)  # where this page began
        if not items or len(items) < size:
            return sorted((at, post) for post, at in found.items())


def read(connector: LinkedInConnector, newest: int, seen: dict[str, int]) -> Iterator[tuple[SourceRecord | None,
                                                                                              int, dict[str, int]]]:
    """Each mention not read yet as a record (None where the post is gone or is the page's own), oldest first,
    with the (newest, seen) mark that is true once it is stored."""
    seen = dict(seen)
    for at, urn in unread(connector, newest, seen):
        try:
            post = connector.client.post(urn)
        except ClientError as exc:
            # Deleted since (404), or not visible to the page (403: its author narrowed who sees it); a token
            # without the permission would have failed at the finder already.
            if exc.status not in (403, 404):
                raise
            log.warning("linkedin: the post %s that mentions the page is not readable (%s); skipped", urn, exc.status)
            post = {}
        newest = max(newest, at)
        seen[urn] = at
        seen = {k: v for k, v in seen.items() if v >= newest - OVERLAP_MS}
        author = post.get("author")
        ours = author == connector.config.organization  # the company's own posts are never a customer's
        yield (None if ours or not isinstance(author, str) else record(connector, post, urn)), newest, seen


def watch(mentioned: dict[str, int], found: SourceRecord, most: int) -> dict[str, int]:
    """The newest ``most`` mentions (post URN -> createdAt) once ``found`` is among them."""
    mentioned = {**mentioned, found.external_id: _ms(found.payload.get("createdAt"))}
    return dict(sorted(mentioned.items(), key=lambda kv: kv[1])[-most:])


def record(connector: LinkedInConnector, post: JSON, urn: str) -> SourceRecord:
    created, modified = _ms(post.get("createdAt")), _ms(post.get("lastModifiedAt"))
    return connector._record({**post, "id": urn}, urn, urn, {
        "kind": "mention", "parent_id": None, "is_thread_start": True, "author": post.get("author"),
        "text": readable(str(post.get("commentary") or "")), "created_at": iso_ms(created),
        "updated_at": iso_ms(modified or created)}, modified or created)
