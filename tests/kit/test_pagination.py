"""The kit's paginators: every strategy reaches the end, and a loop or a repeating feed fails loudly."""

from __future__ import annotations

from typing import Any

import pytest

from continuum.kit.pagination import (
    BeforeIdPaginator,
    CursorPaginator,
    Fetched,
    LinkHeaderPaginator,
    NextTokenPaginator,
    OffsetPaginator,
    PageLoopError,
    Request,
    next_link,
    walk,
)

ITEMS = list(range(1, 24))  # 23 items, so pages of 5 end on a short page


def token_server(tokens: list[str | None]) -> Any:
    """Pages of ITEMS; page n answers with tokens[n] as its next token."""
    def fetch(request: Request) -> Fetched:
        index = 0 if "nextPageToken" not in request else int(str(request["nextPageToken"]).split("-")[1])
        items = ITEMS[index * 5:(index + 1) * 5]
        return Fetched({"items": items, "nextPageToken": tokens[index] if index < len(tokens) else None})
    return fetch


def items_of(pages: list[Fetched], path: str = "items") -> list[int]:
    return [i for page in pages for i in page.body[path]]


def test_next_token_walks_every_page_once() -> None:
    pages = list(walk(token_server(["p-1", "p-2", "p-3", "p-4", None]), NextTokenPaginator("demo")))
    assert items_of(pages) == ITEMS


def test_a_token_that_comes_back_is_a_loop_not_an_endless_walk() -> None:
    # page 2 sends us back to page 1: a naive loop would serve pages 1-2 forever.
    with pytest.raises(PageLoopError, match="demo: the page token 'p-1' came back 8 times"):
        list(walk(token_server(["p-1", "p-2", "p-1"]), NextTokenPaginator("demo")))


def test_the_last_flag_ends_a_token_walk_even_with_a_token() -> None:
    def fetch(request: Request) -> Fetched:
        return Fetched({"items": [1], "nextPageToken": "again", "isLast": True})
    assert len(list(walk(fetch, NextTokenPaginator("demo", last_path="isLast")))) == 1


def test_cursor_paginator_reads_slack_style_metadata() -> None:
    cursors = {None: "c1", "c1": "c2", "c2": ""}

    def fetch(request: Request) -> Fetched:
        current = request.get("cursor")
        return Fetched({"messages": [current or "first"], "response_metadata": {"next_cursor": cursors[current]}})
    pages = list(walk(fetch, CursorPaginator("slack", params={"channel": "C1"})))
    assert items_of(pages, "messages") == ["first", "c1", "c2"]


def test_offset_paginator_stops_at_the_total_and_on_a_short_page() -> None:
    seen: list[Request] = []

    def fetch(request: Request) -> Fetched:
        seen.append(request)
        start = int(request["startAt"])
        return Fetched({"comments": ITEMS[start:start + 5], "total": len(ITEMS)})
    pages = list(walk(fetch, OffsetPaginator("jira", items_path="comments", size=5)))
    assert items_of(pages, "comments") == ITEMS
    assert [r["startAt"] for r in seen] == [0, 5, 10, 15, 20]

    without_total = list(walk(lambda r: Fetched({"values": ITEMS[int(r["startAt"]):int(r["startAt"]) + 5]}),
                              OffsetPaginator("x", items_path="values", size=5, total_path=None)))
    assert items_of(without_total, "values") == ITEMS


def test_a_repeating_page_fails_after_a_bounded_number_of_repeats() -> None:
    # A server that ignores the offset serves page one forever.
    def fetch(request: Request) -> Fetched:
        return Fetched({"values": ITEMS[:5]})
    with pytest.raises(PageLoopError, match="served only items already read"):
        list(walk(fetch, OffsetPaginator("stuck", items_path="values", size=5, total_path=None),
                  item_ids=lambda body: body["values"], max_repeats=3))


def feed(posts: list[int], early: dict[int, int] | None = None) -> Any:
    """A newest-first feed of 5 a page; ``early[before]`` serves that page a whole page early."""
    served: dict[int, int] = {}

    def fetch(request: Request) -> Fetched:
        before = request.get("before")
        top = max(posts) if before is None else int(before)
        if early and before is not None and served.get(top, 0) < early.get(top, 0):
            served[top] = served.get(top, 0) + 1
            top += 5  # a whole page early: nothing below `before`
        page = sorted((p for p in posts if p <= top), reverse=True)[:5]
        return Fetched({"latest_posts": [{"id": p} for p in page]})
    return fetch


def ids(body: Any) -> list[int]:
    return [p["id"] for p in body["latest_posts"]]


def test_before_id_walks_back_to_the_cursor() -> None:
    posts = list(range(1, 31))
    pages = list(walk(feed(posts), BeforeIdPaginator("discourse", ids=ids, stop_at=12)))
    got = {i for page in pages for i in ids(page.body)}
    assert set(range(13, 31)) <= got
    assert min(got) >= 8  # it stopped near the cursor instead of reading the whole forum


def test_before_id_asks_again_when_a_page_starts_early_and_fails_when_it_keeps_doing_so() -> None:
    posts = list(range(1, 31))
    pages = list(walk(feed(posts, early={22: 2}), BeforeIdPaginator("discourse", ids=ids)))
    assert {i for page in pages for i in ids(page.body)} == set(posts)
    with pytest.raises(PageLoopError, match="keeps serving items above before=22"):
        list(walk(feed(posts, early={22: 99}), BeforeIdPaginator("discourse", ids=ids, max_repeats=4)))


def test_link_header_follows_rel_next_and_refuses_a_link_that_comes_back() -> None:
    assert next_link('<https://api.example/x?page=2>; rel="next", <https://api.example/x?page=9>; rel="last"') \
        == "https://api.example/x?page=2"
    assert next_link('<https://a/1>; rel="prev"') is None and next_link(None) is None

    def fetch(request: Request) -> Fetched:
        page = int(str(request.get("url", "p=1")).rsplit("=", 1)[1])
        link = f'<https://api.example/items?p={page + 1}>; rel="next"' if page < 3 else ""
        return Fetched([page], {"Link": link})
    assert [p.body[0] for p in walk(fetch, LinkHeaderPaginator("github"))] == [1, 2, 3]

    looping = lambda request: Fetched([1], {"link": '<https://api.example/items?p=2>; rel="next"'})  # noqa: E731
    with pytest.raises(PageLoopError, match=r"github: the next link .* came back 8 times"):
        list(walk(looping, LinkHeaderPaginator("github")))
