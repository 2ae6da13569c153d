"""The effect dispatcher: one result per effect, in order; one failure never sinks the batch; auth stops it."""

from __future__ import annotations

from collections.abc import Sequence

from continuum.connector import Effect, EffectResult
from continuum.kit.dispatch import EffectDispatcher, failed, succeeded
from continuum.kit.errors import ClientError


def effect(key: str, action: str = "reply", **fields: object) -> Effect:
    return Effect(key=key, action=action, object_type="post", fields=dict(fields))


def test_results_come_one_per_effect_in_order_and_a_raising_handler_fails_only_its_effect() -> None:
    def reply(e: Effect) -> EffectResult:
        if e.fields.get("boom"):
            raise ValueError("field 'raw' must be non-empty text")
        return succeeded(e, f"id-{e.key}")

    dispatch = EffectDispatcher("forum", {"reply": reply})
    results = dispatch.write([effect("a"), effect("b", boom=True), effect("c", "vanish"), effect("d")])
    assert [r.key for r in results] == ["a", "b", "c", "d"]
    assert [r.ok for r in results] == [True, False, False, True]
    assert results[1].error == "effect b (reply post): field 'raw' must be non-empty text"
    assert "forum cannot 'vanish' (it supports: reply)" in str(results[2].error)
    assert results[3].external_id == "id-d"


def test_an_auth_error_stops_the_batch_with_one_clear_line() -> None:
    calls: list[str] = []

    def reply(e: Effect) -> EffectResult:
        calls.append(e.key)
        raise ClientError("forum", "invalid API key", status=403, method="POST", path="/posts.json")

    results = EffectDispatcher("forum", {"reply": reply}).write([effect("a"), effect("b"), effect("c")])
    assert calls == ["a"], "the bad credentials were sent again for every effect"
    assert not any(r.ok for r in results)
    assert "forum refused the credentials" in str(results[0].error)
    assert str(results[2].error).startswith("effect c (reply post): not attempted: forum refused the credentials")


def test_a_short_bulk_answer_fails_the_missing_effects_instead_of_misattributing() -> None:
    def create(batch: Sequence[Effect]) -> list[EffectResult]:
        return [succeeded(e, f"ISSUE-{n}") for n, e in enumerate(batch[:2])]  # the third got lost

    dispatch = EffectDispatcher("tracker", {}, bulk={"create": create})
    results = dispatch.write([effect(k, "create") for k in ("a", "b", "c")])
    assert [r.ok for r in results] == [True, True, False]
    assert "answered the bulk create without this effect" in str(results[2].error)


def test_a_bulk_call_that_raises_fails_its_effects_and_the_rest_still_go() -> None:
    def create(batch: Sequence[Effect]) -> list[EffectResult]:
        raise ConnectionError("reset by peer")

    def comment(e: Effect) -> EffectResult:
        return succeeded(e, "c-1")

    results = EffectDispatcher("tracker", {"comment": comment}, bulk={"create": create}).write(
        [effect("a", "create"), effect("b", "comment")])
    assert [r.ok for r in results] == [False, True]
    assert "bulk create failed: reset by peer" in str(results[0].error)
    assert failed(effect("z"), "effect z (reply post): x").error == "effect z (reply post): x"
