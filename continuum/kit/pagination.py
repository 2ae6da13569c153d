"""Paginators: how to ask for the next page, and the guard against a feed that repeats itself.

A client hands :func:`walk` a ``fetch(request) -> Fetched`` function and one
paginator; ``walk`` yields each page's body in order.  Every strategy keeps
what it has seen, so that:

* a page token (or next URL, or offset) that comes back is a loop: the walk
  fails loudly with :class:`PageLoopError` instead of serving the same
  pages forever;
* a page whose items were all served already is a repeat (a cache, or a list
  that shifted under us): it is asked again a bounded number of times and
  then fails, never stops early, because a cursor saved after a silent stop
  would skip every record the walk did not reach.

The caller commits each page with its cursor; failing keeps the saved cursor
where it was, so nothing is lost, only retried on the next run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

Request = dict[str, Any]

MAX_REPEATS = 8  # pages in a row that bring nothing new before a walk gives up


class PageLoopError(RuntimeError):
    """The system served a page token or page we had already seen: following it would loop or skip."""


@dataclass(frozen=True)
class Fetched:
    """One page as the system answered it: the decoded body and the response headers."""

    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


def dig(body: Any, path: str) -> Any:
    """``a.b.c`` looked up in nested dicts; None where any part is missing."""
    value = body
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


class Paginator(Protocol):
    def first(self) -> Request:
        """The parameters of the first request."""

    def next(self, page: Fetched) -> Request | None:
        """The parameters of the request after ``page``, or None when it was the last."""


@dataclass
class _Tokens:
    """Counts how often each token was followed: one that keeps coming back is a loop.

    A token may come back once or twice honestly: a server that served a page
    starting a few items early hands out the token we just used.  Following it
    again re-reads a little (the engine drops what it already has); following
    it ``max_repeats`` times is a loop, and the walk fails rather than spin.
    """

    system: str
    max_repeats: int = MAX_REPEATS
    seen: dict[str, int] = field(default_factory=dict)

    def follow(self, token: str, what: str) -> None:
        self.seen[token] = self.seen.get(token, 0) + 1
        if self.seen[token] > self.max_repeats:
            raise PageLoopError(f"{self.system}: the {what} {token[:80]!r} came back {self.max_repeats} times; "
                                "stopping rather than reading the same pages again")


@dataclass
class _Followed:
    """A paginator that follows what the system hands out (a token, a URL) and counts each one."""

    system: str
    params: Request = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._tokens = _Tokens(self.system)

    def first(self) -> Request:
        return dict(self.params)


@dataclass
class NextTokenPaginator(_Followed):
    """A token in the body names the next page (Jira's ``nextPageToken``, X's ``meta.next_token``)."""

    token_path: str = "nextPageToken"
    param: str = "nextPageToken"
    last_path: str | None = None  # a body flag that says "no more pages" (Jira's ``isLast``)

    def next(self, page: Fetched) -> Request | None:
        token = dig(page.body, self.token_path)
        if not token or (self.last_path and dig(page.body, self.last_path) is True):
            return None
        self._tokens.follow(str(token), "page token")
        return {**self.params, self.param: str(token)}


@dataclass
class CursorPaginator(NextTokenPaginator):
    """An opaque cursor in the body (Slack's ``response_metadata.next_cursor``); same guard as a token."""

    token_path: str = "response_metadata.next_cursor"
    param: str = "cursor"


@dataclass
class OffsetPaginator:
    """``startAt``/``maxResults`` style: the next offset is this one plus the items served."""

    system: str
    items_path: str
    offset_param: str = "startAt"
    size_param: str = "maxResults"
    size: int = 100
    total_path: str | None = "total"
    params: Request = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._offset = 0

    def first(self) -> Request:
        return {**self.params, self.offset_param: 0, self.size_param: self.size}

    def next(self, page: Fetched) -> Request | None:
        items = dig(page.body, self.items_path) or []
        if not items:
            return None
        self._offset += len(items)
        total = dig(page.body, self.total_path) if self.total_path else None
        if isinstance(total, int) and self._offset >= total:
            return None
        if not isinstance(total, int) and len(items) < self.size:
            return None
        return {**self.params, self.offset_param: self._offset, self.size_param: self.size}


@dataclass
class BeforeIdPaginator:
    """A newest-first feed paged with ``before=<lowest id served>`` (Discourse's ``/posts.json``).

    Stops once the walk reached ``stop_at`` (the cursor's last id) or the
    feed ran out.  A page that brings nothing below ``before`` is not the end
    when it still holds ids above it: a server or a cache served it from a
    few posts early.  That page is asked for again, up to ``max_repeats``
    times, then the walk fails rather than guess.  ``before`` is treated as
    inclusive or exclusive alike: ids already seen are the caller's to drop.
    """

    system: str
    ids: Callable[[Any], Sequence[int]]
    stop_at: int = 0
    param: str = "before"
    max_repeats: int = MAX_REPEATS
    params: Request = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._before: int | None = None
        self._repeats = 0

    def first(self) -> Request:
        return dict(self.params)

    def next(self, page: Fetched) -> Request | None:
        ids = list(self.ids(page.body))
        if not ids:
            return None
        lowest = min(ids)
        if lowest <= self.stop_at + 1:
            return None
        if self._before is None or lowest < self._before:
            self._before, self._repeats = lowest, 0
            return {**self.params, self.param: lowest}
        if max(ids) <= self._before:
            return None  # only `before` itself came back: the oldest item
        self._repeats += 1
        if self._repeats > self.max_repeats:
            raise PageLoopError(f"{self.system}: the feed keeps serving items above {self.param}={self._before}; "
                                "stopping without moving the cursor past unread items")
        return {**self.params, self.param: self._before}


_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([^";]+)"?')


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` URL of an RFC 8288 ``Link`` header (GitHub, Mastodon)."""
    for url, rels in _LINK.findall(header or ""):
        if "next" in rels.split():
            return str(url)
    return None


@dataclass
class LinkHeaderPaginator(_Followed):
    """The ``Link: <…>; rel="next"`` header names the next page as a whole URL (``{"url": …}``)."""

    def next(self, page: Fetched) -> Request | None:
        headers = {k.lower(): v for k, v in page.headers.items()}
        url = next_link(headers.get("link"))
        if not url:
            return None
        self._tokens.follow(url, "next link")
        return {"url": url}


def walk(fetch: Callable[[Request], Fetched], paginator: Paginator, *,
         item_ids: Callable[[Any], Sequence[Any]] | None = None,
         max_repeats: int = MAX_REPEATS) -> Iterator[Fetched]:
    """Yield every page in order, guarding against loops and repeats.

    With ``item_ids``, a non-empty page whose ids were all served before
    counts as a repeat; ``max_repeats`` of them in a row raise
    :class:`PageLoopError`.  (The paginators' own guards catch tokens and
    offsets that come back.)
    """
    seen: set[Any] = set()
    repeats = 0
    request: Request | None = paginator.first()
    while request is not None:
        page = fetch(request)
        if item_ids is not None:
            ids = list(item_ids(page.body))
            fresh = [i for i in ids if i not in seen]
            seen.update(ids)
            if ids and not fresh:
                repeats += 1
                if repeats > max_repeats:
                    raise PageLoopError(f"{getattr(paginator, 'system', 'a system')}: {repeats} pages in a row "
                                        "served only items already read; stopping")
            else:
                repeats = 0
        yield page
        request = paginator.next(page)
