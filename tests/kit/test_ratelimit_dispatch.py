"""The dispatcher and a spent rate-limit window: the batch stops, and what it did not send comes back Deferred."""

from __future__ import annotations

from collections.abc import Sequence

from continuum.connector import Effect, EffectResult
from continuum.kit import RateLimitExhausted, RateLimitHeaders
from continuum.kit.dispatch import Deferred, EffectDispatcher, succeeded
from continuum.kit.ratelimit import spent_window


def effect(key: str, action: str = "reply") -> Effect:
    return Effect(key=key, action=action, object_type="post", fields={})


class VendorNetworkError(Exception):
    """How a vendor library (Mastodon.py) re-raises whatever its session raised."""


class PrawcoreStyleError(Exception):
    def __init__(self, original_exception: BaseException) -> None:
        super().__init__(str(original_exception))
        self.original_exception = original_exception


def test_a_spent_window_stops_the_batch_and_defers_the_rest() -> None:
    calls: list[str] = []

    def reply(e: Effect) -> EffectResult:
        calls.append(e.key)
        if e.key == "b":
            raise RateLimitExhausted("social", 900.0, method="POST", path="/statuses")
        return succeeded(e, f"id-{e.key}")

    results = EffectDispatcher("social", {"reply": reply}).write([effect("a"), effect("b"), effect("c")])

    assert calls == ["a", "b"]  # "c" was never sent into a spent window
    assert results[0].ok and not isinstance(results[0], Deferred)
    assert all(isinstance(r, Deferred) and not r.ok and not r.held for r in results[1:])
    assert [r.resume_in_s for r in results[1:] if isinstance(r, Deferred)] == [900.0, 900.0]
    assert "not attempted" in str(results[2].error) and "rate-limit window spent" in str(results[2].error)


def test_a_wrapped_window_is_still_a_stop() -> None:
    def reply(e: Effect) -> EffectResult:
        try:
            raise RateLimitExhausted("social", 60.5)
        except RateLimitExhausted as exc:
            raise VendorNetworkError("could not reach the instance") from exc

    results = EffectDispatcher("social", {"reply": reply}).write([effect("a"), effect("b")])
    assert all(isinstance(r, Deferred) for r in results)


def test_a_bulk_handler_in_a_spent_window_defers_its_effects_and_the_rest() -> None:
    singles: list[str] = []

    def bulk(effects: Sequence[Effect]) -> list[EffectResult]:
        raise PrawcoreStyleError(RateLimitExhausted("social", 300.0))

    def reply(e: Effect) -> EffectResult:
        singles.append(e.key)
        return succeeded(e, "x")

    results = EffectDispatcher("social", {"reply": reply}, bulk={"notify": bulk}).write(
        [effect("a", "notify"), effect("b"), effect("c", "notify")])
    assert singles == []
    assert [isinstance(r, Deferred) for r in results] == [True, True, True]


def test_other_errors_are_no_window() -> None:
    assert spent_window(ValueError("nope")) is None
    looped = ValueError("a")
    looped.__context__ = ValueError("b")
    looped.__context__.__context__ = looped  # a cycle must not hang the walk
    assert spent_window(looped) is None
    inner = RateLimitExhausted("social", 5.0)
    assert spent_window(PrawcoreStyleError(inner)) is inner


def test_usage_headers_report_the_worst_spent_window() -> None:
    graph = RateLimitHeaders(usage=("X-App-Usage", "X-Business-Use-Case-Usage"))
    headers = {"X-App-Usage": '{"call_count": 100, "total_time": 3}',
               "X-Business-Use-Case-Usage": '{"1": [{"call_count": 20, "estimated_time_to_regain_access": 0}],'
                                            ' "2": [{"total_time": 104, "estimated_time_to_regain_access": 12}]}'}
    assert graph.spent_usage_minutes(headers) == 12.0
    assert graph.spent_usage_minutes({"X-App-Usage": '{"call_count": 99.5}'}) is None
    assert graph.spent_usage_minutes({"X-App-Usage": "not json"}) is None
