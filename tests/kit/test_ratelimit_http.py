"""Declared rate-limit windows in the shared HTTP layer: wait for a short one, stop cleanly on a long one.

Real HTTP over loopback to a tiny werkzeug simulator whose answers the test chooses per call.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from continuum.http import GATES, STATS, RetryPolicy, new_session
from continuum.kit import RateLimitExhausted, RateLimitHeaders
from continuum.simkit import Simulator

# Header names as a platform spells them; the layer must match them in any case.
X_STYLE = RateLimitHeaders(remaining="x-rate-limit-remaining", reset="x-rate-limit-reset")
GRAPH = RateLimitHeaders(usage=("X-App-Usage", "X-Business-Use-Case-Usage"))


class WindowSim(Simulator):
    """GET /calls answers with the next (status, headers) the test queued, then 200 without headers."""

    system = "windows"
    rules = [Rule("/calls", methods=["GET", "POST"], endpoint="answer")]

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.served = 0

    def answer(self, request: Request) -> Response:
        self.served += 1
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        return self.json_response({"n": self.served}, status, headers)


def fast(**overrides: float) -> RetryPolicy:
    values: dict[str, float] = dict(max_attempts=4, max_total_s=5.0, backoff_initial_s=0.01, backoff_max_s=0.02,
                                    connect_timeout_s=2.0, read_timeout_s=5.0, max_window_wait_s=60.0)
    values.update(overrides)
    return RetryPolicy(**values)  # type: ignore[arg-type]


@pytest.fixture
def sim() -> Iterator[WindowSim]:
    GATES.reset()
    STATS.reset()
    simulator = WindowSim()
    simulator.start()
    yield simulator
    simulator.stop()
    GATES.reset()
    STATS.reset()


def url(sim: WindowSim) -> str:
    return f"{sim.base_url}/calls"


# The epoch form is computed in the test: a time in the parameter's id would differ between xdist workers.
@pytest.mark.parametrize("reset", ["3600", "epoch in an hour", "2099-01-01T00:00:00Z"])
def test_a_long_window_returns_the_answer_then_stops_the_next_call_before_sending(sim: WindowSim,
                                                                                  reset: str) -> None:
    if reset == "epoch in an hour":
        reset = f"{time.time() + 3600:.0f}"
    session = new_session("windows", fast(), rate_limits=X_STYLE)
    sim.answers.append((200, {"X-Rate-Limit-Remaining": "0", "X-RATE-LIMIT-RESET": reset}))

    first = session.get(url(sim))
    assert first.status_code == 200 and first.json() == {"n": 1}  # the answer already received is kept
    with pytest.raises(RateLimitExhausted) as stopped:
        session.get(url(sim))

    assert sim.served == 1  # the refused call never left
    assert stopped.value.system == "windows"
    assert stopped.value.resume_in_s > 60
    assert STATS.snapshot()["windows"]["calls"] == 1


def test_another_session_of_the_system_is_stopped_too(sim: WindowSim) -> None:
    new_session("windows", fast(), rate_limits=X_STYLE)
    sim.answers.append((200, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "900"}))
    new_session("windows", fast(), rate_limits=X_STYLE).get(url(sim))

    with pytest.raises(RateLimitExhausted):
        new_session("windows", fast(), rate_limits=X_STYLE).post(url(sim), json={})
    assert sim.served == 1
    # Another system is not affected.
    assert new_session("elsewhere", fast()).get(url(sim)).status_code == 200


def test_a_short_window_is_waited_for(sim: WindowSim) -> None:
    session = new_session("windows", fast(max_window_wait_s=1.0), rate_limits=X_STYLE)
    sim.answers.append((200, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "0.4"}))

    session.get(url(sim))
    started = time.monotonic()
    assert session.get(url(sim)).status_code == 200
    assert time.monotonic() - started >= 0.35
    assert sim.served == 2
    assert STATS.snapshot()["windows"]["waited_s"] > 0


def test_calls_left_neither_wait_nor_stop(sim: WindowSim) -> None:
    session = new_session("windows", fast(), rate_limits=X_STYLE)
    sim.answers.append((200, {"x-rate-limit-remaining": "3", "x-rate-limit-reset": "3600"}))

    session.get(url(sim))
    started = time.monotonic()
    assert session.get(url(sim)).status_code == 200
    assert time.monotonic() - started < 0.3


def test_without_declared_headers_a_long_reset_is_waited_for_as_before(sim: WindowSim) -> None:
    # The generic X-RateLimit-* behaviour: held until reset, capped by the time budget; never a stop.
    session = new_session("windows", fast(max_total_s=0.3))
    sim.answers.append((200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "3600"}))

    session.get(url(sim))
    started = time.monotonic()
    assert session.get(url(sim)).status_code == 200
    assert 0.25 <= time.monotonic() - started < 1.0


def test_a_429_with_a_long_retry_after_stops_instead_of_sleeping(sim: WindowSim) -> None:
    session = new_session("windows", fast(max_total_s=600.0), rate_limits=X_STYLE)
    sim.answers.append((429, {"Retry-After": "900"}))

    started = time.monotonic()
    with pytest.raises(RateLimitExhausted) as stopped:
        session.get(url(sim))
    assert time.monotonic() - started < 1.0
    assert 890 <= stopped.value.resume_in_s <= 900
    assert sim.served == 1


def test_a_429_whose_reset_header_is_far_stops(sim: WindowSim) -> None:
    session = new_session("windows", fast(max_total_s=600.0), rate_limits=X_STYLE)
    sim.answers.append((429, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "1800"}))

    with pytest.raises(RateLimitExhausted):
        session.post(url(sim), json={"text": "hello"})
    assert sim.served == 1


def test_a_429_with_a_short_retry_after_is_retried(sim: WindowSim) -> None:
    session = new_session("windows", fast(), rate_limits=X_STYLE)
    sim.answers.append((429, {"Retry-After": "0.1"}))

    assert session.get(url(sim)).status_code == 200
    assert sim.served == 2


@pytest.mark.parametrize(("header", "value"), [
    ("x-app-usage", {"call_count": 100, "total_time": 20, "total_cputime": 5}),
    ("X-Business-Use-Case-Usage", {"123": [{"type": "pages", "call_count": 40, "total_time": 100,
                                            "estimated_time_to_regain_access": 30}]}),
])
def test_a_spent_usage_header_stops_the_next_call(sim: WindowSim, header: str, value: object) -> None:
    session = new_session("windows", fast(), rate_limits=GRAPH)
    sim.answers.append((200, {header: json.dumps(value)}))

    session.get(url(sim))
    with pytest.raises(RateLimitExhausted):
        session.get(url(sim))
    assert sim.served == 1


def test_usage_below_the_limit_goes_on(sim: WindowSim) -> None:
    session = new_session("windows", fast(), rate_limits=GRAPH)
    sim.answers.append((200, {"X-App-Usage": json.dumps({"call_count": 99, "total_time": 10})}))

    session.get(url(sim))
    assert session.get(url(sim)).status_code == 200


def test_the_error_names_no_query_string(sim: WindowSim) -> None:
    session = new_session("windows", fast(), rate_limits=GRAPH)
    sim.answers.append((200, {"X-App-Usage": json.dumps({"call_count": 100})}))
    session.get(url(sim), params={"access_token": "sekrit-token"})

    with pytest.raises(RateLimitExhausted) as stopped:
        session.get(url(sim), params={"access_token": "sekrit-token"})
    assert "sekrit" not in str(stopped.value)
    assert "/calls" in str(stopped.value)


def test_a_spent_window_resumes_when_it_resets(sim: WindowSim) -> None:
    session = new_session("windows", fast(max_window_wait_s=0.1), rate_limits=X_STYLE)
    sim.answers.append((200, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "0.5"}))
    session.get(url(sim))
    with pytest.raises(RateLimitExhausted):
        session.get(url(sim))

    time.sleep(0.55)
    assert session.get(url(sim)).status_code == 200


# -- statuses a platform declares as throttles (GitHub's 403) -------------------------------------------
THROTTLING_403 = RateLimitHeaders(remaining="x-left", reset="x-reset", throttle_statuses=(403,),
                                  throttle_phrases=("slow down",), throttle_wait_s=120.0)


def test_a_declared_403_with_retry_after_is_waited_for_and_sent_again(sim: WindowSim) -> None:
    sim.answers = [(403, {"Retry-After": "1"})]
    session = new_session("windows", fast(), rate_limits=THROTTLING_403)
    started = time.monotonic()
    response = session.post(f"{sim.base_url}/calls")  # a POST too: a throttled call was never acted on
    assert response.status_code == 200 and sim.served == 2 and time.monotonic() - started >= 0.95
    assert STATS.snapshot()["windows"]["throttled"] == 1


def test_an_undeclared_or_plain_403_stays_a_refusal(sim: WindowSim) -> None:
    sim.answers = [(403, {"Retry-After": "1"}), (403, {})]
    assert new_session("windows", fast(), rate_limits=X_STYLE).get(f"{sim.base_url}/calls").status_code == 403
    assert new_session("windows", fast(), rate_limits=THROTTLING_403).get(f"{sim.base_url}/calls").status_code == 403
    assert sim.served == 2  # neither was sent again


def test_a_throttle_naming_no_wait_takes_the_declared_one(sim: WindowSim) -> None:
    sim.answers = [(429, {})]
    session = new_session("windows", fast(), rate_limits=THROTTLING_403)
    with pytest.raises(RateLimitExhausted) as caught:  # 120 s is longer than a run waits: a clean stop
        session.get(f"{sim.base_url}/calls")
    assert 119 <= caught.value.resume_in_s <= 120 and sim.served == 1
