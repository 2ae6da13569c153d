"""How ``apply_effects`` walks the outbox, directly on a SQLite store: batches, record order, one pass per run for
failures and holds, spent windows, the check for hub-made objects before the first create, expiry, and what a
settled effect leaves (its link, its audit event, its resolved letter).

A scripted connector stands in for the system: what is under test is the engine's queue, not a vendor's API.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update

from continuum.connector import Effect, EffectResult
from continuum.engine.apply import UnknownHubObjects, apply_effects, expire_dead_letters, expire_effects, retry_period_s
from continuum.kit.dispatch import deferred
from continuum.store import dead_letters as letters
from continuum.store import outbox
from continuum.store.db import utcnow
from continuum.store.tables import dead_letters, interactions, links
from tests.unit.applykit import (
    Keyed,
    Scripted,
    add_effect,
    add_interaction,
    audits_of,
    bulk,
    ctx_for,
    effect_row,
    letter_of,
    naive,
)


def _failing(e: Effect) -> EffectResult:
    return EffectResult(e.key, False, error="boom")


# -- batches and order ----------------------------------------------------------------------------------------

def test_effects_go_in_batches_of_the_connectors_bulk_size_per_action(sqlite_db: Engine) -> None:
    for n in range(5):
        add_effect(sqlite_db, f"c{n}", record_id=n)
    for n in range(3):
        add_effect(sqlite_db, f"m{n}", "comment", record_id=10 + n)
    connector = Scripted(capabilities=bulk({"create": 2}))
    apply_effects(ctx_for(sqlite_db, connector), "tracker")
    assert connector.batches == [["c0", "c1"], ["c2", "c3"], ["c4"], ["m0", "m1", "m2"]]


def test_a_bulk_size_of_zero_still_sends_one_at_a_time(sqlite_db: Engine) -> None:
    for n in range(2):
        add_effect(sqlite_db, f"c{n}", record_id=n)
    connector = Scripted(capabilities=bulk({"create": 0}))
    apply_effects(ctx_for(sqlite_db, connector), "tracker")
    assert connector.batches == [["c0"], ["c1"]]


def test_a_records_later_effect_goes_once_its_earlier_one_is_done_in_the_same_run(sqlite_db: Engine) -> None:
    add_effect(sqlite_db, "c1", record_id=1)
    add_effect(sqlite_db, "m1", "comment", record_id=1)
    add_effect(sqlite_db, "m2", "comment", record_id=1)
    connector = Scripted()
    stats = apply_effects(ctx_for(sqlite_db, connector), "tracker")
    assert connector.batches == [["c1"], ["m1"], ["m2"]]
    assert "effects_waiting" not in stats.counts


def test_more_effects_than_one_page_are_all_sent(sqlite_db: Engine) -> None:
    with sqlite_db.begin() as conn:
        for n in range(501):
            outbox.add_effect(conn, key=f"k{n:03}", pipeline="p", system="tracker", action="create",
                              object_type="issue", record_type="interaction", record_id=n, fields={},
                              target_id=None, context={})
    connector = Scripted(capabilities=bulk({"create": 1000}))
    apply_effects(ctx_for(sqlite_db, connector), "tracker")
    assert [len(b) for b in connector.batches] == [500, 1]
    assert len({e.key for e in connector.seen}) == 501


def test_a_failure_waits_for_the_next_run_and_holds_back_its_records_later_effects(sqlite_db: Engine) -> None:
    first = add_effect(sqlite_db, "m1", "comment", record_id=1)
    add_effect(sqlite_db, "m2", "comment", record_id=1)  # the same record and ticket: waits behind m1
    add_effect(sqlite_db, "c2", record_id=2)
    connector = Scripted(answer=lambda e: _failing(e) if e.key == "m1" else EffectResult(e.key, True, "X", "issue"))
    ctx = ctx_for(sqlite_db, connector)
    stats = apply_effects(ctx, "tracker")
    assert connector.batches == [["m1"], ["c2"]]
    assert stats.counts["effects_waiting"] == 1
    apply_effects(ctx, "tracker")  # not again within one call; the next call (a later stage or run) retries it
    assert effect_row(sqlite_db, first)["attempts"] == 2
    assert connector.batches[2:] == [["m1"]]


def test_a_held_effect_is_offered_once_per_run_and_again_in_the_next(sqlite_db: Engine) -> None:
    add_effect(sqlite_db, "c1")
    connector = Scripted(answer=lambda e: EffectResult(e.key, False, error="policy", held=True))
    ctx = ctx_for(sqlite_db, connector)
    apply_effects(ctx, "tracker")
    apply_effects(ctx, "tracker")
    assert connector.batches == [["c1"]]
    apply_effects(ctx_for(sqlite_db, connector), "tracker")
    assert connector.batches == [["c1"], ["c1"]]


def test_a_spent_window_stops_the_system_for_the_rest_of_the_run(sqlite_db: Engine) -> None:
    ids = [add_effect(sqlite_db, f"c{n}", record_id=n) for n in range(3)]
    add_effect(sqlite_db, "m1", "comment", record_id=9)
    connector = Scripted(capabilities=bulk({"create": 1}), answer=lambda e: deferred(e, 600))
    ctx = ctx_for(sqlite_db, connector)
    stats = apply_effects(ctx, "tracker")
    assert connector.batches == [["c0"]]
    assert stats.counts["rate_limited"] == 1
    assert [(effect_row(sqlite_db, i)["state"], effect_row(sqlite_db, i)["attempts"]) for i in ids] == \
        [("pending", 0)] * 3
    assert apply_effects(ctx, "tracker").counts == {}  # a later stage of the run sends nothing
    assert connector.batches == [["c0"]]


# -- hub-made objects the store does not know ------------------------------------------------------------------

def test_creates_are_refused_when_the_system_holds_objects_made_under_their_keys(sqlite_db: Engine) -> None:
    for n in range(1, 4):
        add_effect(sqlite_db, f"k{n}", record_id=n)
    connector = Keyed(holds={"k1": {"key": "k1", "id": "X-1"}, "k2": {"id": "X-2"}, "k3": "X-3"})
    with pytest.raises(UnknownHubObjects) as caught:
        apply_effects(ctx_for(sqlite_db, connector), "tracker")
    assert (caught.value.system, caught.value.count) == ("tracker", 3)
    assert "(e.g. k1, X-2, X-3)" in str(caught.value)
    assert connector.seen == []


def test_keys_are_asked_for_in_pages_and_only_for_creates_never_sent(sqlite_db: Engine) -> None:
    keys = [f"k{n:03}" for n in range(150)]
    now = utcnow()
    with sqlite_db.begin() as conn:
        for n, key in enumerate(keys):
            outbox.add_effect(conn, key=key, pipeline="p", system="tracker", action="create", object_type="issue",
                              record_type="interaction", record_id=n, fields={}, target_id=None, context={})
    add_effect(sqlite_db, "comment", "comment", record_id=500)
    add_effect(sqlite_db, "tried", record_id=501, state="failed", attempts=1, retry_since=now)
    connector = Keyed(holds={"elsewhere": {"key": "elsewhere"}})
    apply_effects(ctx_for(sqlite_db, connector), "tracker")
    assert connector.asked == [keys[:100], keys[100:]]
    assert len(connector.seen) == 152


@pytest.mark.parametrize("flag", ["recovering", "force"])
def test_recovering_or_forcing_does_not_ask(sqlite_db: Engine, flag: str) -> None:
    add_effect(sqlite_db, "k1")
    connector = Keyed(holds={"k1": {"key": "k1"}})
    apply_effects(ctx_for(sqlite_db, connector, **{flag: True}), "tracker")
    assert connector.asked == []
    assert [e.key for e in connector.seen] == ["k1"]


def test_a_failed_lookup_makes_each_create_look_for_its_key_itself(sqlite_db: Engine) -> None:
    add_effect(sqlite_db, "k1")
    connector = Keyed(lookup_fails=True)
    ctx = ctx_for(sqlite_db, connector)
    apply_effects(ctx, "tracker")
    assert ctx.unverified == {"tracker"}
    assert [(e.key, e.maybe_applied) for e in connector.seen] == [("k1", True)]


# -- expiry ---------------------------------------------------------------------------------------------------

def test_an_effect_failing_past_the_retry_period_expires_visibly_and_frees_its_queue(
        sqlite_db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTINUUM_RETRY_PERIOD", raising=False)
    old = add_effect(sqlite_db, "c1", record_id=4, state="failed", attempts=2, last_error="boom",
                     retry_since=utcnow() - timedelta(days=8))
    add_effect(sqlite_db, "m1", "comment", record_id=4)
    dead = add_effect(sqlite_db, "c2", record_id=5, state="dead", attempts=5, last_error="gone",
                      retry_since=utcnow() - timedelta(days=9))
    recent = add_effect(sqlite_db, "c3", record_id=6, state="failed", attempts=1, last_error="boom",
                        retry_since=utcnow() - timedelta(days=6))
    connector = Scripted()
    stats = apply_effects(ctx_for(sqlite_db, connector), "tracker")
    assert stats.counts["effects_expired"] == 2
    assert [effect_row(sqlite_db, i)["state"] for i in (old, dead, recent)] == ["expired", "expired", "done"]
    assert [e.key for e in connector.seen] == ["m1", "c3"]
    letter = letter_of(sqlite_db, "c1")
    assert letter["state"] == "expired"
    assert letter["error"] == ("interaction 4 → tracker create: expired: still failing after the retry period of "
                               "7d; last error: boom")
    (event,) = [a for a in audits_of(sqlite_db, "create_expired") if a["changes"]["key"] == "c1"]
    assert (event["record_type"], event["record_id"], event["pipeline"], event["system"]) == \
        ("interaction", 4, "p", "tracker")
    assert event["changes"] == {"system": "tracker", "key": "c1", "last_error": "boom"}


def test_the_configured_retry_period_wins_and_is_told_in_its_unit(
        sqlite_db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_RETRY_PERIOD", "30d")
    add_effect(sqlite_db, "c1", state="failed", attempts=1, last_error="boom",
               retry_since=utcnow() - timedelta(hours=2))
    ctx = ctx_for(sqlite_db, Scripted(), retry_period_s=3600)
    assert retry_period_s(ctx) == 3600.0
    assert expire_effects(ctx, "tracker") == 1
    assert "retry period of 1h;" in letter_of(sqlite_db, "c1")["error"]
    assert expire_effects(ctx, "tracker") == 0


def _map_letter(db: Engine, key: str, pipeline: str, age: timedelta, stage: str = "map") -> None:
    with db.begin() as conn:
        letters.dead_letter(conn, pipeline=pipeline, system="forum", stream="posts", stage=stage, record_key=key,
                            error="field text: bad", payload={})
        conn.execute(update(dead_letters).where(dead_letters.c.record_key == key).values(
            created_at=utcnow() - age))


def _letter_states(db: Engine) -> dict[str, str]:
    with db.connect() as conn:
        return {r.record_key: r.state for r in conn.execute(select(dead_letters))}


def test_old_map_letters_expire_by_pipeline_and_period(sqlite_db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_RETRY_PERIOD", "1d")
    _map_letter(sqlite_db, "old", "p", timedelta(hours=30))
    _map_letter(sqlite_db, "young", "p", timedelta(hours=2))
    _map_letter(sqlite_db, "other", "q", timedelta(hours=30))
    _map_letter(sqlite_db, "apply", "p", timedelta(hours=30), stage="apply")
    assert expire_dead_letters(sqlite_db, "p", period_s=3 * 86400) == 0
    assert expire_dead_letters(sqlite_db, "p") == 1
    assert _letter_states(sqlite_db) == {"old": "expired", "young": "open", "other": "open", "apply": "open"}
    assert expire_dead_letters(sqlite_db, period_s=3600) == 2
    assert _letter_states(sqlite_db)["young"] == "expired"


# -- what a settled effect leaves -----------------------------------------------------------------------------

def test_a_success_links_audits_and_resolves_the_effects_letter(sqlite_db: Engine) -> None:
    asked = add_interaction(sqlite_db, "post:1")
    effect_id = add_effect(sqlite_db, "c1", record_id=asked)
    apply_effects(ctx_for(sqlite_db, Scripted(answer=_failing)), "tracker")
    assert letter_of(sqlite_db, "c1")["state"] == "open"
    connector = Scripted(answer=lambda e: EffectResult(e.key, True, "X-1", "bug", version="v3", url="https://t/X-1"))
    stats = apply_effects(ctx_for(sqlite_db, connector), "tracker")
    assert stats.counts["create_applied"] == 1
    assert letter_of(sqlite_db, "c1")["state"] == "resolved"
    row = effect_row(sqlite_db, effect_id)
    assert (row["state"], row["external_id"], row["last_error"]) == ("done", "X-1", None)
    assert naive(row["updated_at"]) >= naive(connector.written_at[-1])
    with sqlite_db.connect() as conn:
        (link,) = conn.execute(select(links)).mappings().all()
        status = conn.execute(select(interactions.c.status).where(interactions.c.id == asked)).scalar_one()
    assert (link["record_type"], link["record_id"], link["system"], link["object_type"], link["external_id"],
            link["url"], link["external_version"]) == ("interaction", asked, "tracker", "bug", "X-1",
                                                       "https://t/X-1", "v3")
    assert status == "routed"
    (event,) = audits_of(sqlite_db, "create_applied")
    assert (event["record_type"], event["record_id"], event["pipeline"], event["system"]) == \
        ("interaction", asked, "p", "tracker")
    assert event["changes"] == {"system": "tracker", "external_id": "X-1", "found_existing": False}


def test_a_create_found_again_is_counted_as_found(sqlite_db: Engine) -> None:
    add_effect(sqlite_db, "c1")
    stats = apply_effects(ctx_for(sqlite_db, Scripted(answer=lambda e: EffectResult(
        e.key, True, "X-1", found_existing=True))), "tracker")
    assert stats.counts == {"create_found": 1}
    assert audits_of(sqlite_db, "create_applied")[0]["changes"]["found_existing"] is True
    with sqlite_db.connect() as conn:
        assert conn.execute(select(links.c.object_type)).scalar_one() == "issue"  # the effect's own type


def test_a_success_with_nothing_to_link_is_done(sqlite_db: Engine) -> None:
    effect_id = add_effect(sqlite_db, "m1", "comment")
    connector = Scripted(answer=lambda e: EffectResult(e.key, True))
    stats = apply_effects(ctx_for(sqlite_db, connector), "tracker")
    assert stats.counts == {"comment_applied": 1}
    row = effect_row(sqlite_db, effect_id)
    assert row["state"] == "done"
    assert naive(row["updated_at"]) >= naive(connector.written_at[-1])  # stamped when it was settled
    with sqlite_db.connect() as conn:
        assert conn.execute(select(links)).first() is None


@pytest.mark.parametrize(("purpose", "status"), [("route", "routed"), ("alert", "new")])
def test_a_chat_message_routes_only_when_it_routes(sqlite_db: Engine, purpose: str, status: str) -> None:
    asked = add_interaction(sqlite_db, "post:1")
    add_effect(sqlite_db, "n1", "notify", record_id=asked, context={"purpose": purpose})
    apply_effects(ctx_for(sqlite_db, Scripted()), "tracker")
    with sqlite_db.connect() as conn:
        assert conn.execute(select(interactions.c.status)).scalar_one() == status


def test_the_last_attempt_gives_up_until_replay_and_the_letter_names_the_field(sqlite_db: Engine) -> None:
    effect_id = add_effect(sqlite_db, "m1", "comment", record_id=3, state="failed", attempts=1,
                           retry_since=utcnow(), last_error="x")
    ctx = ctx_for(sqlite_db, Scripted(answer=lambda e: EffectResult(e.key, False, error="field 'body' too long")),
                  max_attempts=2)
    stats = apply_effects(ctx, "tracker")
    assert (stats.counts["effects_failed"], stats.counts["effects_dead"]) == (1, 1)
    row = effect_row(sqlite_db, effect_id)
    assert (row["state"], row["attempts"], row["last_error"]) == ("dead", 2, "field 'body' too long")
    letter = letter_of(sqlite_db, "m1")
    assert letter["error"] == ("interaction 3 → tracker comment on T-1: field 'body' too long "
                               "(attempt 2 of 2; given up until replay)")
    assert (letter["field"], letter["stream"], letter["stage"], letter["pipeline"]) == ("body", "comment", "apply", "p")
    assert letter["payload"] == {"outbox_id": effect_id, "record_type": "interaction", "record_id": 3,
                                 "target_id": "T-1", "fields": {"summary": "m1"}}


def test_a_failure_without_a_reason_says_so(sqlite_db: Engine) -> None:
    effect_id = add_effect(sqlite_db, "c1")
    stats = apply_effects(ctx_for(sqlite_db, Scripted(answer=lambda e: EffectResult(e.key, False))), "tracker")
    assert "effects_dead" not in stats.counts
    row = effect_row(sqlite_db, effect_id)
    assert (row["state"], row["last_error"]) == ("failed", "failed without a reason")
    assert letter_of(sqlite_db, "c1")["error"] == ("interaction 1 → tracker create: failed without a reason "
                                                   "(attempt 1 of 5)")
    assert letter_of(sqlite_db, "c1")["field"] is None
