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
import time

import pytest
import requests

from continuum.http import (
    MIN_RETRY_AFTER_S,
    new_session,
)
from tests.unit.httpkit import ItemsSim, fast, gaps, guarded_session, requests_to, stats

# Clock slack when comparing the simulator's wall-clock arrival times.
SLACK_S = 0.01

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
