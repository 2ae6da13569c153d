"""The HTTP layer: rate-limit headers, Retry-After parsing, counters, and mounting on foreign sessions."""

from __future__ import annotations

import email.utils
import math
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from continuum.http import (
    MIN_RETRY_AFTER_S,
    STATS,
    ThrottledAdapter,
    mount,
    new_session,
    parse_rate_limit_reset,
    parse_retry_after,
)
from tests.unit.httpkit import ItemsSim, fast, guarded_session, requests_to, stats, wait_for_exchanges

# Clock slack when comparing the simulator's wall-clock arrival times.
SLACK_S = 0.01

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
        return datetime.fromtimestamp(target, UTC).isoformat(), target
    if fmt == "iso_z":  # ISO-8601 in UTC with a trailing Z (Jira)
        target = now + 0.6
        return datetime.fromtimestamp(target, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), target
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
