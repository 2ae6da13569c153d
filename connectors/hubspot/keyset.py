"""Incremental reads of a HubSpot search by last-change stamp, each page a fresh search from the high-water mark.

Keyset paging, not ``after`` offsets: an object edited while we page moves to the end instead of shifting the
rest by one (which would skip an object), and the search's cap of 10,000 results a query never bites.  Only a
page that is all one moment follows ``after`` (a fresh search from that moment would serve it again)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from connectors.hubspot.client import HubspotClient
from continuum.connector import JSON
from continuum.kit import PageLoopError

MAX_PAGES = 10000


class Mark(BaseModel):
    """Where a read stopped: the newest stamp read (epoch ms) and the ids read at exactly it (GTE is inclusive)."""

    model_config = ConfigDict(frozen=True)
    modified_ms: int | None = None
    ids: tuple[str, ...] = ()


def stamp_ms(item: JSON, prop: str) -> int | None:
    stamp = (item.get("properties") or {}).get(prop) or item.get("updatedAt")
    if not stamp:
        return None
    text = str(stamp)
    if text.isdigit():
        return int(text)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def keyset_pages(api: HubspotClient, object_type: str, filters: Sequence[JSON], stamp: str,
                 properties: Sequence[str], limit: int, start: Mark,
                 on_page: Callable[[list[JSON]], None] | None = None) -> Iterator[tuple[list[JSON], Mark]]:
    """(objects not read before, the mark after them), page by page, oldest change first."""
    mark, ids = start.modified_ms, set(start.ids)
    query_mark, after = mark, None
    seen_after: set[str] = set()
    for _ in range(MAX_PAGES):
        since = [{"propertyName": stamp, "operator": "GTE", "value": str(query_mark)}] if query_mark else []
        page = api.search(object_type, [*filters, *since], properties=[*properties, stamp], limit=limit,
                          sort=stamp, after=after)
        items = [i for i in page.get("results") or [] if isinstance(i, dict)]
        fresh = [i for i in items if not (stamp_ms(i, stamp) == mark and str(i.get("id")) in ids)]
        newest = max((s for s in (stamp_ms(i, stamp) for i in items) if s is not None), default=mark)
        if newest is not None and newest != mark:
            mark, ids = newest, set()
        ids.update(str(i.get("id")) for i in items if stamp_ms(i, stamp) == mark)
        yield fresh, Mark(modified_ms=mark, ids=tuple(sorted(ids)))
        nxt = ((page.get("paging") or {}).get("next") or {}).get("after")
        if not nxt or not items:
            return
        if any(stamp_ms(i, stamp) != mark for i in items):
            query_mark, after = mark, None  # a fresh search from the new mark
        else:
            if nxt in seen_after:
                raise PageLoopError(f"hubspot: the {object_type} search's page token {nxt!r} came back; stopping")
            seen_after.add(nxt)
            after = nxt
    raise PageLoopError(f"hubspot: the {object_type} search kept paging past {MAX_PAGES} pages; stopping")
