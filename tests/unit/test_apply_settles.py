"""What ``apply_effects`` hands a connector and what it records of the answer, directly on a SQLite store.

Each test here guards a line that mutants of :mod:`continuum.engine.apply` changed without any test noticing:
the ``maybe_applied`` flag, the effect's context, the error a failed batch leaves, the dead letter's retry clock,
the reply that stops the SLA clock, and what a held effect records.  The connector is a small scripted one:
what is under test is the engine's bookkeeping, not a vendor's API.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from continuum.connector import EffectResult
from continuum.engine.apply import UnknownHubObjects, apply_effects
from continuum.kit.dispatch import deferred
from continuum.store.db import utcnow
from continuum.store.tables import interactions
from tests.unit.applykit import (
    Scripted,
    add_effect,
    add_interaction,
    audits_of,
    ctx_for,
    effect_row,
    letter_of,
    naive,
)

# -- what the connector is handed -----------------------------------------------------------------------------

@pytest.mark.parametrize(("action", "attempts", "flags", "unverified", "maybe"), [
    ("create", 0, {}, set(), False),                   # never sent, the system checked: a plain create
    ("create", 1, {"state": "failed"}, set(), True),   # an earlier attempt may have reached the system
    ("create", 0, {}, {"tracker"}, True),              # the check for hub-made objects failed: look first
    ("comment", 0, {}, {"tracker"}, False),            # ... but only creates look for their key
    ("create", 0, {}, {"elsewhere"}, False),           # ... and only on the system whose check failed
])
def test_maybe_applied_is_set_exactly_when_an_earlier_send_may_have_landed(
        sqlite_db: Engine, action: str, attempts: int, flags: dict[str, Any], unverified: set[str],
        maybe: bool) -> None:
    add_effect(sqlite_db, "k1", action, attempts=attempts, **flags)
    connector = Scripted()
    ctx = ctx_for(sqlite_db, connector, unverified=set(unverified))
    apply_effects(ctx, "tracker")
    assert [(e.key, e.maybe_applied) for e in connector.seen] == [("k1", maybe)]


def test_recovering_marks_every_effect_maybe_applied(sqlite_db: Engine) -> None:
    add_effect(sqlite_db, "k1", "comment")
    connector = Scripted()
    apply_effects(ctx_for(sqlite_db, connector, recovering=True), "tracker")
    assert [e.maybe_applied for e in connector.seen] == [True]


def test_the_connector_gets_the_effects_context(sqlite_db: Engine) -> None:
    add_effect(sqlite_db, "k1", "notify", context={"purpose": "alert", "channel": "#support"})
    connector = Scripted()
    apply_effects(ctx_for(sqlite_db, connector), "tracker")
    assert connector.seen[0].context == {"purpose": "alert", "channel": "#support"}


# -- what a failure leaves ------------------------------------------------------------------------------------

def test_a_batch_that_raises_fails_each_effect_with_the_exception_named(sqlite_db: Engine) -> None:
    first, second = add_effect(sqlite_db, "k1"), add_effect(sqlite_db, "k2", record_id=2)
    stats = apply_effects(ctx_for(sqlite_db, Scripted(raises=ConnectionError("tracker is down"))), "tracker")
    for effect_id in (first, second):
        row = effect_row(sqlite_db, effect_id)
        assert (row["state"], row["attempts"], row["last_error"]) == ("failed", 1, "ConnectionError: tracker is down")
    assert stats.counts["effects_failed"] == 2
    assert letter_of(sqlite_db, "k1")["error"].endswith("ConnectionError: tracker is down (attempt 1 of 5)")


def test_an_effect_the_connector_says_nothing_about_fails_with_that_reason(sqlite_db: Engine) -> None:
    answered, forgotten = add_effect(sqlite_db, "k1"), add_effect(sqlite_db, "k2", record_id=2)
    apply_effects(ctx_for(sqlite_db, Scripted(answer=lambda e: EffectResult(e.key, True, "X-1", "issue")
                                           if e.key == "k1" else None)), "tracker")
    assert effect_row(sqlite_db, answered)["state"] == "done"
    row = effect_row(sqlite_db, forgotten)
    assert (row["state"], row["last_error"]) == ("failed", "the connector returned no result for this effect")


def test_the_dead_letter_keeps_the_moment_the_effect_started_failing(sqlite_db: Engine) -> None:
    since = utcnow() - timedelta(days=2)
    failing = add_effect(sqlite_db, "k1", state="failed", attempts=1, retry_since=since, last_error="old")
    fresh = add_effect(sqlite_db, "k2", record_id=2)
    apply_effects(ctx_for(sqlite_db, Scripted(answer=lambda e: EffectResult(e.key, False, error="no"))), "tracker")
    letter = letter_of(sqlite_db, "k1")
    assert abs(naive(letter["retry_since"]) - naive(since)) < timedelta(seconds=1)
    assert naive(effect_row(sqlite_db, failing)["retry_since"]) == naive(letter["retry_since"])
    # A first failure starts both clocks at the same moment.
    assert naive(letter_of(sqlite_db, "k2")["retry_since"]) == naive(effect_row(sqlite_db, fresh)["retry_since"])


# -- what success changes -------------------------------------------------------------------------------------

def test_a_reply_for_one_interaction_stops_its_sla_clock(sqlite_db: Engine) -> None:
    asked, other = add_interaction(sqlite_db, "post:1"), add_interaction(sqlite_db, "post:2")
    add_effect(sqlite_db, "k1", "reply", record_id=asked, context={"answers_interaction_id": asked})
    apply_effects(ctx_for(sqlite_db, Scripted()), "tracker")
    with sqlite_db.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(interactions))}
    assert rows[asked].status == "answered" and rows[asked].answered_at is not None
    assert rows[other].status == "new" and rows[other].answered_at is None


# -- held effects ---------------------------------------------------------------------------------------------

def test_a_held_effect_without_a_reason_is_held_by_the_connector_and_audited_once_per_reason(
        sqlite_db: Engine) -> None:
    effect_id = add_effect(sqlite_db, "k1", record_id=7)
    reasons: list[str | None] = [None, None, "outside the 24-hour window"]
    for reason in reasons:
        connector = Scripted(answer=lambda e, why=reason: EffectResult(e.key, False, error=why, held=True))
        stats = apply_effects(ctx_for(sqlite_db, connector), "tracker")
        assert stats.counts["effects_held"] == 1
        row = effect_row(sqlite_db, effect_id)
        assert (row["state"], row["attempts"]) == ("held", 0)
        assert row["last_error"] == (reason or "held by the connector")
        # Stamped when the hold was recorded, after the connector answered: not when the send began.
        assert naive(row["updated_at"]) >= naive(connector.written_at[-1])
    held = audits_of(sqlite_db, "create_held")
    assert [a["changes"]["reason"] for a in held] == ["held by the connector", "outside the 24-hour window"]
    assert all((a["record_type"], a["record_id"], a["pipeline"], a["system"]) == ("interaction", 7, "p", "tracker")
               for a in held)
    assert held[0]["changes"] == {"system": "tracker", "key": "k1", "reason": "held by the connector"}


def test_unknown_hub_objects_without_examples_say_so_plainly() -> None:
    message = str(UnknownHubObjects("tracker", 2, []))
    assert message.startswith("tracker holds 2 object(s) the hub made that this store does not know: writing now")
    assert "(e.g." not in message
    assert "(e.g. a, b, c)" in str(UnknownHubObjects("tracker", 4, ["a", "b", "c", "d"]))


# -- progress and spent windows -------------------------------------------------------------------------------

def test_progress_counts_the_effects_of_each_batch(sqlite_db: Engine) -> None:
    for n in range(3):
        add_effect(sqlite_db, f"k{n}", record_id=n)
    ticks: list[tuple[str, int]] = []
    ctx = ctx_for(sqlite_db, Scripted())
    ctx.progress = lambda what, n: ticks.append((what, n))
    apply_effects(ctx, "tracker")
    assert ticks == [("apply tracker", 3)]


def test_a_deferred_effect_waits_as_it_was_and_the_run_says_why(sqlite_db: Engine) -> None:
    effect_id = add_effect(sqlite_db, "k1")
    stats = apply_effects(ctx_for(sqlite_db, Scripted(answer=lambda e: deferred(e, 120))), "tracker")
    row = effect_row(sqlite_db, effect_id)
    assert (row["state"], row["attempts"], row["last_error"]) == ("pending", 0, None)
    assert stats.counts["effects_deferred"] == 1
    assert stats.notes == {"rate_limited:tracker": "tracker: rate-limit window spent, resumes in 120 s; "
                                                   "its effects wait, pending, for the next run"}
