"""The simkit paging helpers, served by a small feed simulator over real loopback HTTP.

One simulator serves the same items in every paging style the vendors use;
a plain ``requests`` client pages through each style the way a connector
would, so the tests see what a connector sees: every item exactly once on a
clean run, repeats under the "repeat" fault, a changed list under "shift".
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import requests
from werkzeug.wrappers import Response

from continuum.simkit import Clock, FaultPlan, PageTokens, SimRequest, Simulator, Table, Window, route, seek, window
from continuum.simkit.paging import id_links, link_header, page_number_links

TOKENS = PageTokens()


@dataclass
class Item:
    id: int
    text: str
    updated: datetime


class FeedSim(Simulator):
    system = "feed"

    def __init__(self) -> None:
        super().__init__()
        self.items: Table[int, Item] = Table("item", first_id=101)
        self.clock = Clock(datetime(2026, 1, 1, tzinfo=UTC), timedelta(minutes=1))

    def add(self, count: int) -> None:
        with self.lock:
            for _ in range(count):
                self.items.add(Item(self.items.next_id(), "an item", self.clock.now()))

    # -- listings and concurrent edits ----------------------------------------
    def by_updated(self) -> list[Item]:
        return sorted(self.items.values(), key=lambda i: i.updated)

    def edit_served(self, rng: random.Random, served: Sequence[Item]) -> None:
        """Someone edits an item already served: ordered by update, it jumps to the end."""
        served[rng.randrange(len(served))].updated = self.clock.now()

    def add_one(self, rng: random.Random, served: Sequence[Item]) -> None:
        self.items.add(Item(self.items.next_id(), "arrived while paging", self.clock.now()))

    # -- one route per style ---------------------------------------------------------
    @route("/offset")
    def offset(self, request: SimRequest) -> Response:
        start, size = int(request.args.get("startAt", 0)), int(request.args.get("maxResults", 4))
        page = window(self.faults, self.by_updated, size, start=start, resumed=start > 0, shift=self.edit_served)
        return self.json_response({**page.offset_fields(size), "items": [i.id for i in page.items]})

    @route("/token")
    def token(self, request: SimRequest) -> Response:
        scope = request.args.get("q", "all")
        start = TOKENS.offset(scope, request.args.get("pageToken"))
        if start is None:
            self.reject(self.json_response({"error": "bad token"}, 400))
        page = window(self.faults, self.by_updated, 4, start=start, resumed=start > 0, shift=self.edit_served)
        body = {"items": [i.id for i in page.items]}
        return self.json_response({**body, "nextPageToken": TOKENS.encode(scope, page.end)} if page.more else body)

    @route("/cursor")
    def cursor(self, request: SimRequest) -> Response:
        cursor = request.args.get("cursor")
        after = TOKENS.decode("id", cursor) if cursor else None
        if cursor and after is None:
            return self.json_response({"ok": False, "error": "invalid_cursor"})
        page = window(self.faults, lambda: self.items.where(), 4, resumed=after is not None, shift=self.add_one,
                      start=lambda rows: seek(rows, lambda i: i.id >= int(after)) if after else 0)
        following = TOKENS.encode("id", page.following.id) if page.following else ""
        return self.json_response({"ok": True, "items": [i.id for i in page.items],
                                   "response_metadata": {"next_cursor": following}})

    @route("/before")
    def before(self, request: SimRequest) -> Response:
        below = request.args.get("before", type=int)
        page = window(self.faults, lambda: self.items.where(newest_first=True), 4, resumed=below is not None,
                      start=lambda rows: seek(rows, lambda i: i.id < below) if below else 0, shift=self.add_one)
        return self.json_response({"items": [i.id for i in page.items]})

    @route("/pages")
    def pages(self, request: SimRequest) -> Response:
        number, per_page = request.args.get("page", 1, type=int), request.args.get("per_page", 4, type=int)
        page = window(self.faults, lambda: self.items.where(), per_page, start=(number - 1) * per_page,
                      resumed=number > 1)
        links = page_number_links(f"{self.base_url}/pages", request.args, number, per_page, page.total)
        return self.json_response([i.id for i in page.items], headers={"Link": links} if links else None)

    @route("/ids")
    def ids(self, request: SimRequest) -> Response:
        max_id = request.args.get("max_id", type=int)
        page = window(self.faults, lambda: self.items.where(newest_first=True), 4, resumed=max_id is not None,
                      start=lambda rows: seek(rows, lambda i: i.id < max_id) if max_id else 0)
        links = id_links(f"{self.base_url}/ids", request.args, page, lambda i: i.id)
        return self.json_response([i.id for i in page.items], headers={"Link": links} if links else None)


# -- clients: how a connector walks each style -------------------------------------------

def walk_offset(http: requests.Session, base: str) -> list[int]:
    seen: list[int] = []
    start = 0
    while True:
        body = http.get(f"{base}/offset", params={"startAt": start, "maxResults": 4}, timeout=5).json()
        seen += body["items"]
        start = body["startAt"] + len(body["items"])  # where this page really began, not what was asked
        if not body["items"] or start >= body["total"]:
            return seen


def walk_token(http: requests.Session, base: str) -> list[int]:
    seen: list[int] = []
    token = None
    while True:
        body = http.get(f"{base}/token", params={"pageToken": token} if token else {}, timeout=5).json()
        seen += body["items"]
        token = body.get("nextPageToken")
        if not token:
            return seen


def walk_cursor(http: requests.Session, base: str) -> list[int]:
    seen: list[int] = []
    cursor = ""
    while True:
        body = http.get(f"{base}/cursor", params={"cursor": cursor} if cursor else {}, timeout=5).json()
        seen += body["items"]
        cursor = body["response_metadata"]["next_cursor"]
        if not cursor:
            return seen


def walk_before(http: requests.Session, base: str) -> list[int]:
    seen: list[int] = []
    while True:
        params = {"before": min(seen)} if seen else {}
        items = http.get(f"{base}/before", params=params, timeout=5).json()["items"]
        if not set(items) - set(seen):  # the end; under "repeat" it is a page of old items, not an empty one
            return seen
        seen += items


def walk_links(path: str) -> Callable[[requests.Session, str], list[int]]:
    def walk(http: requests.Session, base: str) -> list[int]:
        seen: list[int] = []
        url: str | None = f"{base}{path}"
        while url:
            answer = http.get(url, timeout=5)
            seen += answer.json()
            url = answer.links.get("next", {}).get("url")  # requests parses RFC 8288 itself
        return seen
    return walk


STYLES = {"offset": walk_offset, "token": walk_token, "cursor": walk_cursor, "before": walk_before,
          "pages": walk_links("/pages"), "ids": walk_links("/ids")}
NEWEST_FIRST = ("before", "ids")


@pytest.fixture
def sim() -> Iterator[FeedSim]:
    with FeedSim() as simulator:
        simulator.add(17)
        yield simulator


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def expected(sim: FeedSim, style: str) -> list[int]:
    ids = list(sim.items)
    return ids[::-1] if style in NEWEST_FIRST else ids


@pytest.mark.parametrize("style", STYLES)
def test_a_clean_walk_sees_every_item_once_in_order(sim: FeedSim, http: requests.Session, style: str) -> None:
    assert STYLES[style](http, sim.base_url) == expected(sim, style)
    assert not sim.faults.injected


@pytest.mark.parametrize("style", STYLES)
def test_repeat_serves_items_twice_but_loses_none(sim: FeedSim, http: requests.Session, style: str) -> None:
    sim.set_paging_faults("repeat", rate=1.0)

    seen = STYLES[style](http, sim.base_url)

    assert set(seen) == set(sim.items)
    assert len(seen) > len(set(seen)), "no item came twice"
    assert sim.faults.injected["paging_repeat"] >= 4  # every next page of the walk, never the first


@pytest.mark.parametrize("style", STYLES)
def test_first_pages_are_never_faulted(sim: FeedSim, http: requests.Session, style: str) -> None:
    sim.set_paging_faults("repeat", rate=1.0)
    path = {"offset": "/offset", "token": "/token", "cursor": "/cursor", "before": "/before", "pages": "/pages",
            "ids": "/ids"}[style]
    first = http.get(sim.base_url + path, timeout=5).json()
    again = http.get(sim.base_url + path, timeout=5).json()
    assert first == again and sim.faults.injected["paging_repeat"] == 0


@pytest.mark.parametrize("style", ["offset", "token"])
def test_shift_on_offset_paging_moves_an_unseen_item_past_the_reader(sim: FeedSim, http: requests.Session,
                                                                     style: str) -> None:
    sim.set_paging_faults("shift", rate=1.0)

    seen = STYLES[style](http, sim.base_url)

    # Each edit moved an already-read item to the end, and the items behind it up one place.
    assert set(sim.items) - set(seen), "the edits lost nothing: the fault did not shift the list"
    assert sim.faults.injected["paging_shift"] >= 3


@pytest.mark.parametrize("style", ["cursor", "before"])
def test_shift_on_keyset_paging_adds_items_and_loses_none(sim: FeedSim, http: requests.Session, style: str) -> None:
    before = set(sim.items)
    sim.set_paging_faults("shift", rate=1.0)

    seen = STYLES[style](http, sim.base_url)

    assert before <= set(seen)
    assert len(sim.items) > len(before) and sim.faults.injected["paging_shift"] == len(sim.items) - len(before)


def test_a_listing_without_a_shift_serves_no_shift_fault(sim: FeedSim, http: requests.Session) -> None:
    sim.set_paging_faults("shift", rate=1.0)
    assert walk_links("/pages")(http, sim.base_url) == expected(sim, "pages")  # /pages declares no shift
    assert sim.faults.injected["paging_shift"] == 0


def test_paging_faults_follow_the_seed(http: requests.Session) -> None:
    def walk(seed: int) -> list[int]:
        with FeedSim() as sim:
            sim.add(40)
            sim.set_fault_rates({}, seed=seed)
            sim.set_paging_faults("repeat", rate=0.5)
            return walk_token(http, sim.base_url)

    assert walk(3) == walk(3)
    assert walk(3) != walk(4)


def test_a_token_made_for_another_query_is_refused(sim: FeedSim, http: requests.Session) -> None:
    token = http.get(f"{sim.base_url}/token", params={"q": "mine"}, timeout=5).json()["nextPageToken"]
    assert http.get(f"{sim.base_url}/token", params={"q": "mine", "pageToken": token}, timeout=5).status_code == 200
    other = http.get(f"{sim.base_url}/token", params={"q": "other", "pageToken": token}, timeout=5)
    assert other.status_code == 400 and other.json() == {"error": "bad token"}
    assert http.get(f"{sim.base_url}/token", params={"pageToken": "%%%"}, timeout=5).status_code == 400


def test_page_number_links_name_first_prev_next_last(sim: FeedSim, http: requests.Session) -> None:
    first = http.get(f"{sim.base_url}/pages", params={"per_page": 5, "sort": "id"}, timeout=5)
    assert set(first.links) == {"next", "last"}
    assert first.links["next"]["url"] == f"{sim.base_url}/pages?per_page=5&sort=id&page=2"
    assert first.links["last"]["url"].endswith("page=4")  # 17 items, 5 a page
    middle = http.get(f"{sim.base_url}/pages", params={"per_page": 5, "page": 2}, timeout=5)
    assert set(middle.links) == {"next", "last", "prev", "first"}
    last = http.get(middle.links["last"]["url"], timeout=5)
    assert set(last.links) == {"prev", "first"} and len(last.json()) == 2


def test_id_links_page_older_with_max_id_and_newer_with_min_id(sim: FeedSim, http: requests.Session) -> None:
    answer = http.get(f"{sim.base_url}/ids", timeout=5)
    newest = answer.json()
    assert answer.links["next"]["url"] == f"{sim.base_url}/ids?max_id={newest[-1]}"
    assert answer.links["prev"]["url"] == f"{sim.base_url}/ids?min_id={newest[0]}"
    oldest = http.get(f"{sim.base_url}/ids", params={"max_id": min(sim.items) + 2}, timeout=5)
    assert "next" not in oldest.links and oldest.json() == [min(sim.items) + 1, min(sim.items)]
    empty = http.get(f"{sim.base_url}/ids", params={"max_id": min(sim.items)}, timeout=5)
    assert empty.json() == [] and "Link" not in empty.headers


# -- the helpers on their own ---------------------------------------------------------------

def test_page_tokens_round_trip_in_either_alphabet() -> None:
    for codec in (PageTokens(urlsafe=True), PageTokens(urlsafe=False)):
        token = codec.encode("scope", "value:with?odd/chars")
        assert codec.decode("scope", token) == "value:with?odd/chars"
        assert codec.decode("other", token) is None
        assert codec.decode("scope", "not base64!") is None
        assert codec.decode("scope", codec.encode("scope", "")) is None
    assert PageTokens().offset("q", None) == 0
    assert PageTokens().offset("q", PageTokens().encode("q", 12)) == 12
    assert PageTokens().offset("q", PageTokens().encode("q", "-1")) is None


def test_seek_finds_the_first_match_or_the_end() -> None:
    assert seek([5, 4, 3, 2], lambda n: n <= 3) == 2
    assert seek([5, 4], lambda n: n <= 1) == 2


def test_window_reports_where_the_next_page_starts() -> None:
    rows = list(range(10))
    page: Window[int] = window(FaultPlan(), lambda: rows, 4, start=8)
    assert (page.items, page.start, page.end, page.total, page.more, page.following) == ([8, 9], 8, 10, 10, False,
                                                                                       None)
    assert window(FaultPlan(), lambda: rows, 4, start=2).following == 6
    assert window(FaultPlan(), lambda: rows, None, start=3).items == rows[3:]
    assert page.offset_fields(4) == {"startAt": 8, "maxResults": 4, "total": 10}


def test_link_header_keeps_the_request_arguments() -> None:
    header = link_header("https://api.example/items", {"state": "open", "page": "1"},
                         {"next": {"page": 2}, "last": {"page": 9}})
    assert header == ('<https://api.example/items?state=open&page=2>; rel="next", '
                      '<https://api.example/items?state=open&page=9>; rel="last"')
