"""How long the shared HTTP layer waits, exactly: declared windows, the unknown-reset guess, Retry-After jitter,
exponential backoff, and what it logs when it stops or retries.

Real loopback HTTP to the window simulator of the kit's tests; the adapter's injectable ``sleep`` records the
waits instead of sleeping, so a test can check every one of them without taking that long.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterator

import pytest
import requests
from tenacity import RetryCallState, Retrying
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from continuum.http import GATES, STATS, RetryPolicy, ThrottledAdapter, new_session
from continuum.kit import RateLimitExhausted, RateLimitHeaders
from continuum.simkit import Simulator
from tests.kit import test_ratelimit_http as kit
from tests.kit.test_ratelimit_http import WindowSim, fast

DECLARED = RateLimitHeaders(remaining="x-rate-limit-remaining", reset="x-rate-limit-reset")
NO_RESET = RateLimitHeaders(remaining="x-rate-limit-remaining")
sim = kit.sim  # the same fixture: a fresh window simulator, gates and counters reset around each test


def policy(**overrides: float) -> RetryPolicy:
    """More attempts and real back-off waits than the kit tests' policy: these tests measure the waits."""
    return fast(**{"max_attempts": 6, "backoff_initial_s": 0.1, "backoff_max_s": 10.0, **overrides})


def session_for(adapter: ThrottledAdapter) -> requests.Session:
    session = requests.Session()
    session.mount("http://", adapter)
    return session


def call_with(sim: WindowSim, headers: dict[str, str], limits: RateLimitHeaders | None = DECLARED,
              status: int = 200, **overrides: float) -> list[float]:
    """One GET answered with ``headers``; returns the waits the adapter asked for."""
    slept: list[float] = []
    sim.answers.append((status, headers))
    session_for(ThrottledAdapter("windows", policy(**overrides), sleep=slept.append, rate_limits=limits)).get(
        f"{sim.base_url}/calls")
    return slept


# -- declared windows -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("remaining", ["1", "n/a"])
def test_a_window_with_calls_left_or_an_unreadable_count_is_not_spent(sim: WindowSim, remaining: str) -> None:
    call_with(sim, {"x-rate-limit-remaining": remaining, "x-rate-limit-reset": "120"})
    assert GATES.spent_for("windows") <= 0 and GATES.remaining("windows") <= 0


def test_a_spent_window_stops_the_system_until_its_declared_reset(sim: WindowSim,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="continuum.http"):
        call_with(sim, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "120"})
    assert 119 < GATES.spent_for("windows") <= 120
    assert "windows: rate-limit window spent, resumes in 120 s" in caplog.messages


@pytest.mark.parametrize("limits", [DECLARED, NO_RESET])
def test_a_spent_window_that_does_not_say_when_it_resets_is_taken_as_just_too_long(
        sim: WindowSim, limits: RateLimitHeaders) -> None:
    call_with(sim, {"x-rate-limit-remaining": "0"}, limits)
    # One second past what the system would wait for: stopped, not hammered, and not longer than that.
    assert 60 < GATES.spent_for("windows") <= 61


def test_a_window_that_resets_exactly_at_the_longest_wait_is_waited_for(sim: WindowSim) -> None:
    call_with(sim, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "60"}, max_total_s=600.0)
    assert GATES.spent_for("windows") <= 0
    assert 59 < GATES.remaining("windows") <= 60


# -- Retry-After and backoff ----------------------------------------------------------------------------------

def test_a_retry_after_is_a_floor_with_at_most_a_tenth_of_a_second_of_jitter(sim: WindowSim) -> None:
    sim.answers.extend([(429, {"Retry-After": "1"})] * 5)
    slept = call_with(sim, {"Retry-After": "1"}, None, status=429, max_total_s=600.0)
    # The retry loop's waits alternate with the gate's (the hold the same Retry-After set): the loop's come first.
    loop_waits = slept[0::2]
    assert len(loop_waits) == 5
    assert all(1.0 <= w <= 1.1 for w in loop_waits), loop_waits


def _state(attempt: int) -> RetryCallState:
    state = RetryCallState(Retrying(), None, (), {})
    state.attempt_number = attempt
    return state


@pytest.mark.parametrize(("attempt", "ceiling"), [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (9, 10.0)])
def test_backoff_doubles_per_attempt_up_to_its_cap_with_full_jitter_from_half_the_first_wait(
        attempt: int, ceiling: float) -> None:
    adapter = ThrottledAdapter("windows", policy())
    waits = [adapter._wait(_state(attempt)) for _ in range(3000)]
    low = 0.05  # half the first backoff: never a hot loop
    assert min(waits) >= low and max(waits) <= ceiling
    assert max(waits) > low + 0.9 * (ceiling - low)
    if ceiling > 0.1:
        assert min(waits) < low + 0.1 * (ceiling - low)


def test_each_retry_is_logged_with_its_cause_and_attempt(sim: WindowSim, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="continuum.http"):
        call_with(sim, {}, None, status=503)
    assert "windows: retrying after HTTP 503 (attempt 1)" in caplog.messages
    assert STATS.snapshot()["windows"]["retries"] == 1


def test_the_gate_is_waited_for_from_now(sim: WindowSim) -> None:
    GATES.hold("windows", 0.5)
    slept = call_with(sim, {}, None)
    assert len(slept) == 1 and 0.4 < slept[0] <= 0.5


# -- usage headers (Graph) ------------------------------------------------------------------------------------

GRAPH = RateLimitHeaders(usage=("X-App-Usage",))


@pytest.mark.parametrize(("minutes", "spent_s", "held_s"), [(2, 120, 0), (1, 0, 60), (0, 61, 0)])
def test_a_spent_usage_header_waits_its_estimate_in_minutes(sim: WindowSim, minutes: int, spent_s: float,
                                                            held_s: float) -> None:
    usage = f'{{"call_count": 100, "estimated_time_to_regain_access": {minutes}}}'
    call_with(sim, {"X-App-Usage": usage}, GRAPH, max_total_s=600.0)
    # A minute is exactly the longest wait: waited for.  No estimate: just too long to wait for.
    assert spent_s - 1 < max(GATES.spent_for("windows"), 0) <= spent_s
    assert held_s - 1 < max(GATES.remaining("windows"), 0) <= held_s


# -- what counts as broken JSON -------------------------------------------------------------------------------

class BodySim(Simulator):
    """GET /raw answers with the next (status, content type, body) the test queued."""

    system = "bodies"
    rules = [Rule("/raw", methods=["GET"], endpoint="raw")]

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[int, str, bytes]] = []
        self.served = 0

    def raw(self, request: Request) -> Response:
        self.served += 1
        status, content_type, body = self.answers.pop(0) if self.answers else (200, "application/json", b"{}")
        return Response(body, status, content_type=content_type)


@pytest.fixture
def bodies() -> Iterator[BodySim]:
    simulator = BodySim()
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.mark.parametrize(("status", "content_type", "body", "calls"), [
    (200, "application/json", b'{"ok": true}', 1),       # fine JSON: no retry
    (200, "application/json", b"", 1),                   # no body at all is no broken JSON
    (200, "text/plain", b"{not json", 1),                 # not said to be JSON
    (300, "application/json", b"{not json", 1),          # not a success: handed back as it is
    (299, "application/json", b"{not json", 2),          # a success with broken JSON: retried (GET)
])
def test_only_a_success_said_to_be_json_with_a_broken_body_is_retried(
        bodies: BodySim, status: int, content_type: str, body: bytes, calls: int) -> None:
    bodies.answers.append((status, content_type, body))
    session = session_for(ThrottledAdapter("bodies", policy(backoff_initial_s=0.01, backoff_max_s=0.02)))
    response = session.get(f"{bodies.base_url}/raw")
    assert bodies.served == calls
    assert response.status_code == (200 if calls == 2 else status)


def test_broken_json_to_the_last_attempt_hands_back_the_last_answer(bodies: BodySim) -> None:
    bodies.answers.extend([(200, "application/json", b"{not json")] * 2)
    session = session_for(ThrottledAdapter("bodies", policy(max_attempts=2, backoff_initial_s=0.01,
                                                            backoff_max_s=0.02)))
    response = session.get(f"{bodies.base_url}/raw")
    assert (bodies.served, response.status_code, response.content) == (2, 200, b"{not json")


# -- Retry-After on other answers, and the stop ---------------------------------------------------------------

def test_a_503_retry_after_is_the_retry_loops_floor_too(sim: WindowSim) -> None:
    slept = call_with(sim, {"Retry-After": "1"}, None, status=503, max_total_s=600.0)
    assert sim.served == 2
    assert 1.0 <= slept[0] <= 1.1, slept


def test_a_retry_after_on_a_success_holds_nothing(sim: WindowSim) -> None:
    call_with(sim, {"Retry-After": "30"}, None)
    assert GATES.remaining("windows") <= 0


def test_a_429_asking_for_exactly_the_longest_wait_is_waited_for_not_stopped(sim: WindowSim) -> None:
    slept = call_with(sim, {"Retry-After": "60"}, DECLARED, status=429, max_total_s=600.0)
    assert sim.served == 2 and 60 <= slept[0] <= 60.1
    assert GATES.spent_for("windows") <= 0
    assert STATS.snapshot()["windows"]["throttled"] == 1


def test_a_429_asking_for_longer_stops_and_counts_one_throttle(sim: WindowSim) -> None:
    with pytest.raises(RateLimitExhausted) as stopped:
        call_with(sim, {"Retry-After": "61"}, DECLARED, status=429, max_total_s=600.0)
    assert (stopped.value.method, stopped.value.path) == ("GET", "/calls")
    assert sim.served == 1
    assert STATS.snapshot()["windows"]["throttled"] == 1


def test_a_window_resuming_within_a_second_still_refuses_the_call(sim: WindowSim) -> None:
    GATES.spend("windows", 0.5)
    with pytest.raises(RateLimitExhausted) as stopped:
        call_with(sim, {}, DECLARED)
    assert sim.served == 0 and 0 < stopped.value.resume_in_s <= 0.5


def test_the_layer_is_mounted_for_both_schemes() -> None:
    session = new_session("windows")
    assert isinstance(session.get_adapter("https://example.invalid/x"), ThrottledAdapter)
    assert isinstance(session.get_adapter("http://example.invalid/x"), ThrottledAdapter)


def test_one_call_left_in_the_generic_window_holds_nothing(sim: WindowSim) -> None:
    call_with(sim, {"X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "30"}, None)
    assert GATES.remaining("windows") <= 0


def test_a_429_in_a_spent_declared_window_stops_at_once_without_a_retry(sim: WindowSim) -> None:
    with pytest.raises(RateLimitExhausted):
        call_with(sim, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "900"}, DECLARED, status=429)
    assert sim.served == 1
    assert STATS.snapshot()["windows"]["retries"] == 0


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A port whose listen queue is full: a connect there times out (nothing is ever sent)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for s in [*fillers, server]:
        s.close()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_connect_timeouts_are_retried_for_any_method_then_raised_as_they_were(full_backlog: int,
                                                                              method: str) -> None:
    STATS.reset()
    session = session_for(ThrottledAdapter("backlog", policy(max_attempts=2, connect_timeout_s=0.2,
                                                             backoff_initial_s=0.01, backoff_max_s=0.02)))
    with pytest.raises(requests.exceptions.ConnectTimeout):
        session.request(method, f"http://127.0.0.1:{full_backlog}/calls")
    assert (STATS.snapshot()["backlog"]["calls"], STATS.snapshot()["backlog"]["retries"]) == (2, 1)
