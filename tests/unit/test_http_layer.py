"""The shared HTTP layer, exercised over real loopback HTTP against a tiny simulator.

No mocks: every test talks to a :class:`Simulator` subclass through a real
socket, and counts effects on the simulator's side (``sim.exchanges``, with
the time each request arrived) as well as in ``continuum.http.STATS``.
Waits are kept short (Retry-After of 1 s at most, tiny backoffs) so the whole
file runs in a few seconds.
"""

from __future__ import annotations

import email.utils
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone

import pytest
import requests
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from continuum.http import (
    MIN_RETRY_AFTER_S,
    STATS,
    RetryPolicy,
    ThrottledAdapter,
    mount,
    new_session,
    parse_rate_limit_reset,
    parse_retry_after,
)
from continuum.simkit import Exchange, Simulator

# Clock slack when comparing the simulator's wall-clock arrival times.
SLACK_S = 0.01


class ItemsSim(Simulator):
    """GET/POST /items, and /limited whose rate-limit headers the test chooses."""

    system = "items"
    rules = [
        Rule("/items", methods=["GET"], endpoint="list_items"),
        Rule("/items", methods=["POST"], endpoint="create_item"),
        Rule("/limited", methods=["GET"], endpoint="limited"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[dict[str, object]] = []
        # Called at request time, so values such as "reset in 0.6 s" are fresh.
        self.limit_headers: Callable[[], dict[str, str]] = dict

    def list_items(self, request: Request) -> Response:
        return self.json_response({"items": self.items})

    def create_item(self, request: Request) -> Response:
        item = {"id": len(self.items) + 1, **(request.get_json() or {})}
        self.items.append(item)
        return self.json_response(item, 201)

    def limited(self, request: Request) -> Response:
        return self.json_response({"ok": True}, headers=self.limit_headers())


def fast(**overrides: float) -> RetryPolicy:
    """A policy with tiny backoffs so tests stay fast."""
    values: dict[str, float] = dict(
        max_attempts=5, max_total_s=10.0, backoff_initial_s=0.01, backoff_max_s=0.05,
        connect_timeout_s=2.0, read_timeout_s=5.0,
    )
    values.update(overrides)
    return RetryPolicy(**values)  # type: ignore[arg-type]


def guarded_session(system: str, policy: RetryPolicy, limit_s: float) -> requests.Session:
    """A session whose adapter sleeps for real, but fails the test instead of sleeping past ``limit_s``.

    A broken cap would otherwise hang the test (for an hour) rather than fail it.
    """
    started = time.monotonic()

    def sleep(seconds: float) -> None:
        if time.monotonic() - started + seconds > limit_s:
            raise AssertionError(f"asked to sleep {seconds:.2f}s, past the {limit_s}s this test allows")
        time.sleep(seconds)

    session = requests.Session()
    adapter = ThrottledAdapter(system, policy, sleep=sleep)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@pytest.fixture(autouse=True)
def clean_stats() -> Iterator[None]:
    STATS.reset()
    yield
    STATS.reset()


@pytest.fixture
def sim() -> Iterator[ItemsSim]:
    simulator = ItemsSim()
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    s = new_session("items", fast())
    yield s
    s.close()


def stats(system: str = "items") -> dict[str, float]:
    return STATS.snapshot().get(system, {})


def requests_to(sim: Simulator, method: str, path: str = "/items") -> list[Exchange]:
    """Every request that reached the simulator, faults included, in arrival order."""
    with sim.lock:
        return sorted((x for x in sim.exchanges if x.method == method and x.path == path), key=lambda x: x.at)


def wait_for_exchanges(sim: Simulator, method: str, count: int, timeout_s: float = 3.0) -> list[Exchange]:
    """Requests whose answer was delayed are recorded when the answer is ready: wait for them."""
    deadline = time.monotonic() + timeout_s
    while True:
        seen = requests_to(sim, method)
        if len(seen) >= count or time.monotonic() > deadline:
            return seen
        time.sleep(0.02)


def gaps(exchanges: list[Exchange]) -> list[float]:
    return [b.at - a.at for a, b in zip(exchanges, exchanges[1:])]


# ---------------------------------------------------------------------------
# Retry-After
# ---------------------------------------------------------------------------

def test_retry_after_seconds_is_honoured(sim: ItemsSim, session: requests.Session) -> None:
    sim.inject("429", times=2, path_contains="/items", method="GET", retry_after="1")

    response = session.get(f"{sim.base_url}/items")

    assert response.status_code == 200
    assert response.json() == {"items": []}
    gets = requests_to(sim, "GET")
    assert [x.status for x in gets] == [429, 429, 200]
    # No request left before the server's Retry-After had run out.
    assert all(gap >= 1.0 - SLACK_S for gap in gaps(gets)), gaps(gets)
    s = stats()
    assert (s["calls"], s["retries"], s["throttled"], s["transient_errors"]) == (3, 2, 2, 0)


def test_retry_after_http_date_is_honoured(sim: ItemsSim, session: requests.Session) -> None:
    # HTTP dates have whole-second resolution: pick a whole second 0.2-1.2 s ahead.
    not_before = math.ceil(time.time() + 0.2)
    sim.inject("429", times=1, path_contains="/items", retry_after=email.utils.formatdate(not_before, usegmt=True))

    response = session.get(f"{sim.base_url}/items")

    assert response.status_code == 200
    first, second = requests_to(sim, "GET")
    assert first.status == 429 and second.status == 200
    assert second.at >= not_before - SLACK_S, second.at - not_before
    assert stats()["throttled"] == 1 and stats()["retries"] == 1


def test_retry_after_zero_gets_a_floor_not_a_hot_loop(sim: ItemsSim) -> None:
    assert MIN_RETRY_AFTER_S >= 0.01  # a real floor, not zero
    session = new_session("items", fast(max_attempts=4))
    sim.inject("429", times=100, path_contains="/items", retry_after="0")

    started = time.monotonic()
    response = session.get(f"{sim.base_url}/items")
    elapsed = time.monotonic() - started

    assert response.status_code == 429
    gets = requests_to(sim, "GET")
    assert len(gets) == 4  # max_attempts, not hundreds
    assert all(gap >= MIN_RETRY_AFTER_S - SLACK_S for gap in gaps(gets)), gaps(gets)
    assert elapsed >= 3 * MIN_RETRY_AFTER_S


def test_503_with_retry_after_on_get_is_retried(sim: ItemsSim, session: requests.Session) -> None:
    sim.inject("503", times=1, path_contains="/items", method="GET", retry_after="1")

    response = session.get(f"{sim.base_url}/items")

    assert response.status_code == 200
    first, second = requests_to(sim, "GET")
    assert first.status == 503 and first.response_headers.get("Retry-After") == "1"
    assert second.at - first.at >= 1.0 - SLACK_S
    s = stats()
    assert (s["retries"], s["transient_errors"], s["throttled"]) == (1, 1, 0)


@pytest.mark.parametrize("kind", ["500", "502"])
def test_5xx_without_retry_after_on_get_is_retried_with_backoff(
    sim: ItemsSim, session: requests.Session, kind: str
) -> None:
    sim.inject(kind, times=2, path_contains="/items", method="GET")

    response = session.get(f"{sim.base_url}/items")

    assert response.status_code == 200
    assert [x.status for x in requests_to(sim, "GET")] == [int(kind), int(kind), 200]
    assert stats()["transient_errors"] == 2 and stats()["retries"] == 2


# ---------------------------------------------------------------------------
# Which methods are retried
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["500", "502", "503"])
def test_5xx_on_post_is_not_retried(sim: ItemsSim, session: requests.Session, kind: str) -> None:
    """A POST that got a 5xx may have been applied before the server failed.

    Sending it again could create a duplicate, so the layer hands the error
    to the caller; the engine's outbox then recovers the write by its
    idempotency key (look it up, and only re-send if it is not there).
    """
    sim.inject(kind, times=1, path_contains="/items", method="POST", retry_after="0")

    response = session.post(f"{sim.base_url}/items", json={"name": "a"})

    assert response.status_code == int(kind)
    assert len(requests_to(sim, "POST")) == 1  # exactly one POST reached the server
    s = stats()
    assert (s["calls"], s["retries"], s["transient_errors"]) == (1, 0, 1)


def test_429_on_post_is_retried(sim: ItemsSim, session: requests.Session) -> None:
    """A 429 means the server refused without acting, so a POST is safe to send again."""
    sim.inject("429", times=2, path_contains="/items", method="POST", retry_after="0")

    response = session.post(f"{sim.base_url}/items", json={"name": "a"})

    assert response.status_code == 201
    posts = requests_to(sim, "POST")
    assert [x.status for x in posts] == [429, 429, 201]
    assert len({x.request_body for x in posts}) == 1  # the same body every time
    assert sim.items == [{"id": 1, "name": "a"}]  # created exactly once
    assert stats()["throttled"] == 2 and stats()["retries"] == 2


def test_connection_reset_on_get_is_retried(sim: ItemsSim, session: requests.Session) -> None:
    sim.inject("reset", times=1, path_contains="/items", method="GET")

    response = session.get(f"{sim.base_url}/items")

    assert response.status_code == 200
    assert [x.fault for x in requests_to(sim, "GET")] == ["reset", None]
    assert stats()["retries"] == 1


def test_connection_reset_on_post_is_not_retried(sim: ItemsSim, session: requests.Session) -> None:
    """The request was sent; whether it was applied is unknown, so it is the outbox's call."""
    sim.inject("reset", times=1, path_contains="/items", method="POST")

    with pytest.raises(requests.exceptions.ConnectionError):
        session.post(f"{sim.base_url}/items", json={"name": "a"})

    assert len(requests_to(sim, "POST")) == 1
    assert stats()["retries"] == 0


def test_connection_refused_on_post_is_retried() -> None:
    """Nothing left the client when the connection was refused, so even a POST is retried."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The port is closed again: connecting to it is refused.
    session = new_session("items", fast(max_attempts=3))

    with pytest.raises(requests.exceptions.ConnectionError):
        session.post(f"http://127.0.0.1:{port}/items", json={"name": "a"})

    s = stats()
    assert (s["calls"], s["retries"]) == (3, 2)


def test_malformed_json_on_get_is_retried(sim: ItemsSim, session: requests.Session) -> None:
    sim.items.append({"id": 1, "name": "existing"})
    sim.inject("malformed", times=1, path_contains="/items", method="GET")

    response = session.get(f"{sim.base_url}/items")

    assert response.json() == {"items": [{"id": 1, "name": "existing"}]}
    gets = requests_to(sim, "GET")
    assert [x.fault for x in gets] == ["malformed", None]
    assert stats()["transient_errors"] == 1 and stats()["retries"] == 1


def test_malformed_json_on_post_is_not_retried(sim: ItemsSim, session: requests.Session) -> None:
    """Here the simulator did create the item: sending the POST again would duplicate it."""
    sim.inject("malformed", times=1, path_contains="/items", method="POST")

    response = session.post(f"{sim.base_url}/items", json={"name": "a"})

    assert response.status_code == 201
    with pytest.raises(ValueError):
        response.json()
    assert len(requests_to(sim, "POST")) == 1
    assert sim.items == [{"id": 1, "name": "a"}]


# ---------------------------------------------------------------------------
# Caps: attempts and total time
# ---------------------------------------------------------------------------

def test_retries_are_capped_and_the_last_response_is_returned(sim: ItemsSim) -> None:
    session = new_session("items", fast(max_attempts=3))
    sim.inject("429", times=10, path_contains="/items", retry_after="0")

    response = session.get(f"{sim.base_url}/items")

    assert response.status_code == 429  # a response, not an exception
    assert response.json() == {"errorMessages": ["injected 429"]}
    assert len(requests_to(sim, "GET")) == 3
    s = stats()
    assert (s["calls"], s["throttled"], s["retries"]) == (3, 3, 2)


def test_exhausted_connection_errors_raise_the_last_error(sim: ItemsSim) -> None:
    session = new_session("items", fast(max_attempts=2))
    sim.inject("reset", times=10, path_contains="/items", method="GET")

    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(f"{sim.base_url}/items")

    assert len(requests_to(sim, "GET")) == 2


def test_total_time_is_capped(sim: ItemsSim) -> None:
    policy = fast(max_attempts=1000, max_total_s=0.5, backoff_initial_s=0.05, backoff_max_s=0.1)
    session = guarded_session("items", policy, limit_s=2.0)
    sim.inject("429", times=1000, path_contains="/items", retry_after="0")

    started = time.monotonic()
    response = session.get(f"{sim.base_url}/items")
    elapsed = time.monotonic() - started

    assert response.status_code == 429
    assert elapsed < 0.9, elapsed
    assert 2 <= len(requests_to(sim, "GET")) < 20


def test_retry_after_longer_than_the_time_left_is_not_slept(sim: ItemsSim) -> None:
    """Sleeping past the budget only to give up afterwards would hold the worker for nothing."""
    session = guarded_session("items", fast(max_total_s=0.3), limit_s=2.0)
    sim.inject("429", times=10, path_contains="/items", retry_after="1")

    started = time.monotonic()
    response = session.get(f"{sim.base_url}/items")
    elapsed = time.monotonic() - started

    assert response.status_code == 429
    assert elapsed < 0.5, elapsed
    assert len(requests_to(sim, "GET")) == 1


# ---------------------------------------------------------------------------
# Timeouts
# ---------------------------------------------------------------------------

def test_default_timeout_applies_when_caller_gives_none(sim: ItemsSim) -> None:
    session = new_session("items", fast(read_timeout_s=0.15))
    sim.inject("latency", times=1, path_contains="/items", method="GET", latency_s=0.6)

    started = time.monotonic()
    response = session.get(f"{sim.base_url}/items")  # no timeout= here
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert elapsed < 0.5, elapsed  # the slow answer was not waited for
    s = stats()
    assert (s["calls"], s["retries"]) == (2, 1)
    assert len(wait_for_exchanges(sim, "GET", 2)) == 2


def test_timeouts_on_every_attempt_raise_timeout(sim: ItemsSim) -> None:
    session = new_session("items", fast(max_attempts=2, read_timeout_s=0.15))
    sim.inject("latency", times=2, path_contains="/items", method="GET", latency_s=0.6)

    with pytest.raises(requests.exceptions.Timeout):
        session.get(f"{sim.base_url}/items")

    assert stats()["calls"] == 2
    assert len(wait_for_exchanges(sim, "GET", 2)) == 2


def test_timeout_on_post_is_not_retried(sim: ItemsSim) -> None:
    session = new_session("items", fast(read_timeout_s=0.15))
    sim.inject("latency", times=1, path_contains="/items", method="POST", latency_s=0.5)

    with pytest.raises(requests.exceptions.ReadTimeout):
        session.post(f"{sim.base_url}/items", json={"name": "slow"})

    assert stats()["calls"] == 1 and stats()["retries"] == 0
    # The slow POST was still applied by the server: exactly once.
    assert len(wait_for_exchanges(sim, "POST", 1)) == 1
    time.sleep(0.1)
    assert len(requests_to(sim, "POST")) == 1
    assert sim.items == [{"id": 1, "name": "slow"}]


def test_caller_timeout_wins_over_the_default(sim: ItemsSim) -> None:
    session = new_session("items", fast(read_timeout_s=0.1))
    sim.inject("latency", times=1, path_contains="/items", method="GET", latency_s=0.3)

    response = session.get(f"{sim.base_url}/items", timeout=3)

    assert response.status_code == 200
    assert stats()["calls"] == 1 and stats()["retries"] == 0


# ---------------------------------------------------------------------------
# X-RateLimit-Remaining / X-RateLimit-Reset
# ---------------------------------------------------------------------------

def _reset_value(fmt: str, now: float) -> tuple[str, float]:
    """An X-RateLimit-Reset value in one vendor format, and the moment it names."""
    if fmt == "epoch":  # GitHub-style epoch seconds (fractional: keeps the test short)
        target = now + 0.6
        return f"{target:.3f}", target
    if fmt == "epoch_int":  # whole epoch seconds, as most vendors send
        target = float(math.ceil(now + 0.2))
        return str(int(target)), target
    if fmt == "delta":  # seconds from now
        return "1", now + 1
    if fmt == "iso":  # ISO-8601 with an offset
        target = now + 0.6
        return datetime.fromtimestamp(target, timezone.utc).isoformat(), target
    if fmt == "iso_z":  # ISO-8601 in UTC with a trailing Z (Jira)
        target = now + 0.6
        return datetime.fromtimestamp(target, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), target
    raise AssertionError(fmt)


@pytest.mark.parametrize("fmt", ["epoch", "epoch_int", "delta", "iso", "iso_z"])
def test_exhausted_rate_limit_holds_the_next_call_until_reset(
    sim: ItemsSim, session: requests.Session, fmt: str
) -> None:
    targets: list[float] = []

    def headers() -> dict[str, str]:
        value, target = _reset_value(fmt, time.time())
        targets.append(target)
        return {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": value}

    sim.limit_headers = headers

    assert session.get(f"{sim.base_url}/limited").status_code == 200
    assert session.get(f"{sim.base_url}/items").status_code == 200

    (get_items,) = requests_to(sim, "GET", "/items")
    assert get_items.at >= targets[0] - SLACK_S, get_items.at - targets[0]
    assert stats()["waited_s"] > 0
    assert stats()["retries"] == 0


def test_remaining_calls_left_do_not_hold(sim: ItemsSim, session: requests.Session) -> None:
    sim.limit_headers = lambda: {"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "1"}

    session.get(f"{sim.base_url}/limited")
    started = time.monotonic()
    session.get(f"{sim.base_url}/items")

    assert time.monotonic() - started < 0.5
    assert stats()["waited_s"] == 0


def test_rate_limit_hold_is_capped_by_the_time_budget(sim: ItemsSim) -> None:
    session = guarded_session("items", fast(max_total_s=0.3), limit_s=2.0)
    sim.limit_headers = lambda: {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "3600"}

    session.get(f"{sim.base_url}/limited")
    started = time.monotonic()
    response = session.get(f"{sim.base_url}/items")
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert 0.25 <= elapsed < 0.8, elapsed


# ---------------------------------------------------------------------------
# Header parsing
# ---------------------------------------------------------------------------

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("3", 3.0),
        (" 2 ", 2.0),
        ("1.5", 1.5),
        ("0", MIN_RETRY_AFTER_S),
        ("-4", MIN_RETRY_AFTER_S),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        (email.utils.formatdate(NOW + 30, usegmt=True), 30.0),
        ("Tue, 14 Nov 2023 22:13:50 GMT", 30.0),
        ("Tue, 14 Nov 2023 23:13:50 +0100", 30.0),
        ("Tue, 14 Nov 2023 22:13:50 -0000", 30.0),  # no zone known: taken as UTC
        ("Tue, 14 Nov 2023 22:00:00 GMT", MIN_RETRY_AFTER_S),  # in the past
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_never_says_zero() -> None:
    for value in ("0", "0.0", "-1", "Thu, 01 Jan 1970 00:00:00 GMT"):
        assert parse_retry_after(value) == MIN_RETRY_AFTER_S > 0


def test_parse_retry_after_uses_the_clock_by_default() -> None:
    later = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 58 <= parse_retry_after(later) <= 60  # type: ignore[operator]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("later", None),
        ("nan", None),
        (str(int(NOW) + 30), 30.0),  # epoch seconds
        (f"{NOW + 2.5:.1f}", 2.5),  # fractional epoch seconds
        (str(int(NOW) - 30), 0.0),  # an epoch in the past
        ("30", 30.0),  # seconds from now
        ("-5", 0.0),
        ("0", 0.0),
        ("2023-11-14T22:13:50Z", 30.0),
        ("2023-11-14T22:13:50.500Z", 30.5),
        ("2023-11-14T22:13:50+00:00", 30.0),
        ("2023-11-14T23:13:50+01:00", 30.0),
        ("2023-11-14T22:13:50", 30.0),  # no offset: taken as UTC
        ("2023-11-14T22:00:00Z", 0.0),  # in the past
    ],
)
def test_parse_rate_limit_reset(value: str | None, expected: float | None) -> None:
    assert parse_rate_limit_reset(value, now=NOW) == expected


@pytest.fixture
def local_zone_not_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run with a local time zone five hours behind UTC (a POSIX TZ string: no tzdata needed)."""
    monkeypatch.setenv("TZ", "EST+5")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("local_zone_not_utc")
def test_timestamps_without_an_offset_are_utc_whatever_the_local_zone() -> None:
    assert time.timezone == 5 * 3600  # the fixture took effect
    assert parse_rate_limit_reset("2023-11-14T22:13:50", now=NOW) == 30.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:50 -0000", now=NOW) == 30.0


def test_parse_rate_limit_reset_uses_the_clock_by_default() -> None:
    result = parse_rate_limit_reset(str(int(time.time()) + 60))
    assert result is not None and 58 <= result <= 60


# ---------------------------------------------------------------------------
# Counters and sessions
# ---------------------------------------------------------------------------

def test_counters_are_kept_per_system(sim: ItemsSim) -> None:
    alpha = new_session("alpha", fast())
    alpha_again = new_session("alpha", fast())  # a second session of the same system
    beta = new_session("beta", fast())
    sim.inject("429", times=1, path_contains="/items", method="GET", retry_after="0")

    assert alpha.get(f"{sim.base_url}/items").status_code == 200
    assert beta.get(f"{sim.base_url}/items").status_code == 200
    assert beta.get(f"{sim.base_url}/items").status_code == 200
    assert alpha_again.get(f"{sim.base_url}/items").status_code == 200

    snapshot = STATS.snapshot()
    assert set(snapshot) == {"alpha", "beta"}
    assert (snapshot["alpha"]["calls"], snapshot["alpha"]["throttled"], snapshot["alpha"]["retries"]) == (3, 1, 1)
    assert (snapshot["beta"]["calls"], snapshot["beta"]["throttled"], snapshot["beta"]["retries"]) == (2, 0, 0)

    STATS.reset()
    assert STATS.snapshot() == {}


def test_counters_are_thread_safe(sim: ItemsSim) -> None:
    session = new_session("items", fast())
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(10):
                session.get(f"{sim.base_url}/items").raise_for_status()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert stats()["calls"] == 60
    assert len(requests_to(sim, "GET")) == 60


def test_new_session_identifies_the_hub(sim: ItemsSim, session: requests.Session) -> None:
    session.get(f"{sim.base_url}/items")
    (exchange,) = requests_to(sim, "GET")
    assert exchange.request_headers["User-Agent"] == "continuum-hub/0.1"


def test_mount_works_on_a_foreign_session(sim: ItemsSim) -> None:
    """Client libraries (jira, atlassian-python-api) build their own session; we mount under it."""
    foreign = requests.Session()
    foreign.headers["X-Client"] = "some-library/1.0"
    foreign.auth = ("bot", "secret")

    returned = mount(foreign, "foreign", fast())

    assert returned is foreign
    assert isinstance(foreign.get_adapter(f"{sim.base_url}/items"), ThrottledAdapter)
    assert isinstance(foreign.get_adapter("https://example.invalid/rest"), ThrottledAdapter)

    sim.inject("429", times=1, path_contains="/items", retry_after="0")
    response = foreign.get(f"{sim.base_url}/items")

    assert response.status_code == 200
    first, second = requests_to(sim, "GET")
    assert first.status == 429 and second.status == 200
    # The library's own headers and auth still go out, on the retry too.
    for exchange in (first, second):
        assert exchange.request_headers["X-Client"] == "some-library/1.0"
        assert exchange.request_headers["Authorization"].startswith("Basic ")
    s = stats("foreign")
    assert (s["calls"], s["throttled"], s["retries"]) == (2, 1, 1)
    assert "items" not in STATS.snapshot()


def test_mount_replaces_a_previously_mounted_adapter(sim: ItemsSim) -> None:
    foreign = requests.Session()
    mount(foreign, "first", fast())
    mount(foreign, "second", fast())

    foreign.get(f"{sim.base_url}/items")

    assert set(STATS.snapshot()) == {"second"}
