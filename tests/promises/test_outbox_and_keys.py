"""Direct tests of the small pieces the exactly-once promises stand on: keys, hashes, periods, the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from continuum.engine.apply import _human, parse_period, retry_period_s
from continuum.engine.outbound import effect_key
from continuum.store import outbox
from continuum.store.base import content_hash
from continuum.store.db import utcnow


def test_an_effect_key_is_deterministic_and_names_everything_it_is_about() -> None:
    key = effect_key("community", "jira", "create", "discourse:post:12")
    assert key == effect_key("community", "jira", "create", "discourse:post:12")
    assert key.startswith("ck-") and len(key) == 27
    others = {effect_key(*parts) for parts in (("other", "jira", "create", "discourse:post:12"),
                                               ("community", "slack", "create", "discourse:post:12"),
                                               ("community", "jira", "comment", "discourse:post:12"),
                                               ("community", "jira", "create", "discourse:post:13"))}
    assert key not in others and len(others) == 4


def test_the_content_hash_ignores_order_and_spacing_but_nothing_else() -> None:
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"t": "é 🌙"}) != content_hash({"t": "e 🌙"})
    assert content_hash({"t": "a"}) != content_hash({"t": "a "})
    assert content_hash([1, 2]) != content_hash([2, 1])
    assert len(content_hash({})) == 64


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("30m", 1800), ("12h", 43200),
                                              ("7d", 604800), (" 1.5h ", 5400)])
def test_retry_periods_parse(text: str, seconds: float) -> None:
    assert parse_period(text) == seconds


@pytest.mark.parametrize("text", ["", "7 days", "-1d", "1w", "d"])
def test_a_retry_period_that_is_no_duration_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_period(text)


def test_periods_are_told_in_the_largest_whole_unit(monkeypatch: pytest.MonkeyPatch) -> None:
    assert [_human(s) for s in (604800, 86400, 7200, 5400, 120, 90, 0.5)] == ["7d", "1d", "2h", "90m", "2m",
                                                                               "90s", "0.5s"]
    monkeypatch.delenv("CONTINUUM_RETRY_PERIOD", raising=False)
    assert retry_period_s() == 7 * 86400
    monkeypatch.setenv("CONTINUUM_RETRY_PERIOD", "12h")
    assert retry_period_s() == 43200


def _effect(conn: object, key: str, record_id: int, target: str | None = None) -> None:
    outbox.add_effect(conn, key=key, pipeline="p", system="tracker", action="comment", object_type="comment",
                      record_type="interaction", record_id=record_id, fields={"body": key}, target_id=target,
                      context={})


def test_the_outbox_keeps_one_effect_per_key_and_holds_later_ones_behind_earlier(sqlite_db: Engine) -> None:
    with sqlite_db.begin() as conn:
        for key, record in (("k1", 1), ("k1", 1), ("k2", 1), ("k3", 2)):
            _effect(conn, key, record, "T-1")
        heads = outbox.queue_heads(conn, "tracker", "p", outbox.OPEN_STATES, 0, 10)
        assert [row["idempotency_key"] for row in heads] == ["k1", "k3"]  # k2 waits behind k1 (same record)
        assert outbox.count_held_back(conn, "tracker", "p") == 1
        assert outbox.queue_heads(conn, "tracker", "other", outbox.OPEN_STATES, 0, 10) == []
        assert [r["idempotency_key"] for r in outbox.queue_heads(conn, "tracker", "p", ("pending",),
                                                                  heads[0]["id"], 10)] == ["k3"]
        first = heads[0]["id"]
        outbox.mark_sending(conn, [first])
        assert outbox.state_of(conn, first) == "sending"
        assert outbox.first_attempt_keys(conn, "tracker", "p", "comment") == ["k2", "k3"]
        now = utcnow()
        outbox.mark_failed(conn, first, final=False, error="boom", now=now)
        outbox.mark_failed(conn, first, final=True, error="boom again", now=now + timedelta(hours=1))
        assert outbox.state_of(conn, first) == "dead"
        (dead,) = outbox.failing_since_before(conn, "tracker", "p", now + timedelta(minutes=1))
        assert dead["retry_since"].replace(tzinfo=None) == now.replace(tzinfo=None)  # the clock starts once
        assert dead["attempts"] == 1 and dead["last_error"] == "boom again"
        assert outbox.failing_since_before(conn, "tracker", "p", now) == []
        assert [r["idempotency_key"] for r in outbox.open_effects(conn, "p")] == ["k2", "k3"]
        assert outbox.count_held_back(conn, "tracker", "p") == 1  # a dead effect still holds its record's queue
        assert outbox.reopen(conn, first) == 1 and outbox.state_of(conn, first) == "failed"
        assert outbox.reopen(conn, heads[1]["id"]) == 0  # a pending effect is not reopened
        assert outbox.known_keys(conn, ["k1", "k9"]) == {"k1"} and outbox.known_keys(conn, []) == set()
