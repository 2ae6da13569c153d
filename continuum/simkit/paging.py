"""Paging for simulators' list endpoints, with the paging faults applied in one place.

Every style the vendors use comes down to one step: from the whole ordered
listing, serve the items from some position on.  :func:`window` takes that
step and applies the :class:`~continuum.simkit.faults.FaultPlan`'s paging
faults on next-page requests:

* ``repeat``: the page starts one to three items early (those are served twice);
* ``shift``: the simulator's ``shift`` callback changes the data first, as a
  concurrent edit would (an item already served is edited and moves, or a new
  one arrives), and the listing is taken again.

Where the position comes from is the style's business:

* offset (``startAt`` + ``maxResults`` + ``total``, GitHub's ``page``): a number;
* next-token (Jira's ``nextPageToken``): an offset inside a :class:`PageTokens` token;
* cursor (Slack's ``response_metadata.next_cursor``): a :class:`PageTokens` token
  naming the first item of the next page, found again with :func:`seek`;
* before-id (Discourse's ``/posts.json?before=``, Mastodon's ``max_id``): :func:`seek`
  for the first item below the id;

and RFC 8288 ``Link`` headers (GitHub, Mastodon) are written by :func:`link_header`.
"""

from __future__ import annotations

import base64
import binascii
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

from continuum.simkit.faults import FaultPlan

T = TypeVar("T")
# The concurrent edit of a "shift" fault: it gets the plan's random generator and the items
# already served (before this page), and changes the simulator's state.
Shift = Callable[[random.Random, Sequence[T]], None]


@dataclass(frozen=True)
class Window(Generic[T]):
    """One page of a listing: its items, where it starts, and what follows."""

    items: list[T]
    start: int
    total: int
    following: T | None  # the first item of the next page

    @property
    def more(self) -> bool:
        return self.following is not None

    @property
    def end(self) -> int:
        """Where the next page starts."""
        return self.start + len(self.items)

    def offset_fields(self, max_results: int) -> dict[str, int]:
        """``startAt``, ``maxResults`` and ``total``, as Jira's offset-paged answers carry them."""
        return {"startAt": self.start, "maxResults": max_results, "total": self.total}


def seek(listing: Sequence[T], test: Callable[[T], bool]) -> int:
    """Where the first item passing ``test`` is (the end when none does): a cursor's position."""
    return next((index for index, item in enumerate(listing) if test(item)), len(listing))


def window(faults: FaultPlan, listing: Callable[[], Sequence[T]], size: int | None, *,
           start: int | Callable[[Sequence[T]], int] = 0, resumed: bool = False,
           shift: Shift[T] | None = None) -> Window[T]:
    """The page of ``listing()`` that begins at ``start`` and holds up to ``size`` items (None: all).

    ``start`` is an offset or a function of the listing (a cursor, see
    :func:`seek`).  Paging faults apply only when ``resumed``, i.e. on a
    next-page request: a first page has nothing to repeat or to shift.
    """
    rows = listing()
    begin = start(rows) if callable(start) else start
    servable = ("repeat", "shift") if shift is not None and begin <= len(rows) else ("repeat",)
    mode = faults.paging_fault(servable) if resumed else None
    if mode == "shift" and shift is not None:
        shift(faults.rng, rows[:begin])
        rows = listing()
        begin = start(rows) if callable(start) else start
    elif mode == "repeat":
        begin = max(0, begin - faults.rng.randint(1, 3))
    stop = len(rows) if size is None else begin + size
    items = list(rows[begin:stop])
    return Window(items, begin, len(rows), rows[stop] if stop < len(rows) else None)


@dataclass(frozen=True)
class PageTokens:
    """Opaque page tokens: ``scope:value`` in base64, refused when made for another scope.

    The scope ties a token to what it pages (a query's fingerprint, a kind of
    listing), as the vendors do: a token replayed against another query is an
    error, not a silent wrong page.
    """

    urlsafe: bool = True

    def encode(self, scope: str, value: object) -> str:
        raw = f"{scope}:{value}".encode()
        return (base64.urlsafe_b64encode(raw) if self.urlsafe else base64.b64encode(raw)).decode()

    def decode(self, scope: str, token: str) -> str | None:
        """The value inside ``token``; None when it is garbled or from another scope."""
        try:
            raw = base64.b64decode(token.encode(), altchars=b"-_" if self.urlsafe else None, validate=True)
            mark, _, value = raw.decode().partition(":")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        return value if mark == scope and value else None

    def offset(self, scope: str, token: str | None) -> int | None:
        """The offset a next-page token resumes at (0 without a token); None for a bad token."""
        if not token:
            return 0
        value = self.decode(scope, token)
        return int(value) if value is not None and value.isdigit() else None


def link_header(url: str, args: Mapping[str, str], rels: Mapping[str, Mapping[str, object]]) -> str:
    """An RFC 8288 ``Link`` header: for each rel, ``url`` with the request's ``args`` updated.

    ``rels`` maps a relation ("next", "prev", "first", "last") to the query
    parameters that differ from this request's, e.g. ``{"next": {"page": 3}}``.
    """
    links = []
    for rel, changes in rels.items():
        query = {**args, **{name: str(value) for name, value in changes.items()}}
        links.append(f'<{url}?{urlencode(query)}>; rel="{rel}"')
    return ", ".join(links)


def page_number_links(url: str, args: Mapping[str, str], page: int, per_page: int, total: int) -> str:
    """GitHub's page-number ``Link`` rels: ``prev``/``first`` past page 1, ``next``/``last`` before the end."""
    last = max(1, -(-total // per_page))
    rels: dict[str, dict[str, object]] = {}
    if page < last:
        rels["next"], rels["last"] = {"page": page + 1}, {"page": last}
    if page > 1:
        rels["prev"], rels["first"] = {"page": min(page - 1, last)}, {"page": 1}
    return link_header(url, args, rels)


def id_links(url: str, args: Mapping[str, str], page: Window[T], id_of: Callable[[T], object]) -> str:
    """Mastodon's id ``Link`` rels: ``next`` pages to older items (``max_id``), ``prev`` to newer (``min_id``)."""
    if not page.items:
        return ""
    older = {name: value for name, value in args.items() if name not in ("min_id", "since_id")}
    newer = {name: value for name, value in args.items() if name != "max_id"}
    rels = []
    if page.more:
        rels.append(link_header(url, older, {"next": {"max_id": id_of(page.items[-1])}}))
    rels.append(link_header(url, newer, {"prev": {"min_id": id_of(page.items[0])}}))
    return ", ".join(rels)
