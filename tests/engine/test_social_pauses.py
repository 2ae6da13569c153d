"""Stops that are not failures: a spent rate-limit window (read and write), and effects the platform holds."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, func, select

from continuum.connector import JSON, Effect, EffectResult, Page
from continuum.engine.context import SyncContext
from continuum.engine.run import DEAD_LETTERED, run_pipeline
from continuum.kit import RateLimitExhausted, held
from continuum.store.status import counts
from continuum.store.tables import audit_events, cursors, dead_letters, interactions, outbox
from tests.engine.fakes import FakeForum, FakeTracker
from tests.engine.test_engine import hub


@dataclass
class LimitedForum(FakeForum):
    """Raises like the HTTP layer does when its window is spent, after ``pages_left`` more pages."""

    pages_left: int | None = None

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        for page in super().read_changes(stream, cursor):
            if self.pages_left is not None:
                if self.pages_left == 0:
                    raise RateLimitExhausted(self.system, 840.0, method="GET", path="/posts")
                self.pages_left -= 1
            yield page


@dataclass
class LimitedTracker(FakeTracker):
    """Answers ``batches_left`` more write calls, then its window is spent; or holds creates while ``closed``."""

    batches_left: int | None = None
    closed: str | None = None
    offered: list[str] = field(default_factory=list)

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        self.offered += [e.key for e in effects]
        if self.batches_left is not None:
            if self.batches_left == 0:
                raise RuntimeError("tracker call failed") from RateLimitExhausted(self.system, 120.0)
            self.batches_left -= 1
        if self.closed:
            return [held(e, self.closed) for e in effects]
        return super().write(effects)


World = tuple[SyncContext, "LimitedForum", "LimitedTracker"]


@pytest.fixture
def world(sqlite_db: Engine) -> tuple[SyncContext, LimitedForum, LimitedTracker]:
    forum, tracker = LimitedForum(), LimitedTracker()
    ctx = SyncContext(db=sqlite_db, hub=hub(), pipeline_name="p", connectors={"forum": forum, "tracker": tracker})
    return ctx, forum, tracker


def count(db: Engine, table: object, *where: object) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())  # type: ignore


def stored_cursor(db: Engine) -> JSON:
    with db.connect() as conn:
        return dict(conn.execute(select(cursors.c.value).where(cursors.c.system == "forum")).scalar_one())


def test_a_spent_window_while_reading_keeps_what_was_committed_and_the_next_run_reads_on(world: World) -> None:
    ctx, forum, tracker = world
    for n in range(1, 10):  # three pages of three
        forum.post(f"user{n}", n, f"idea {n}")
    forum.pages_left = 2

    stats = run_pipeline(ctx)

    assert stats.counts["rate_limited"] == 1
    assert stats.counts["pages"] == 2
    assert DEAD_LETTERED not in stats.counts
    assert stats.notes == {"rate_limited:forum": "forum: rate-limit window spent, resumes in 840 s; "
                                                 "the next run continues from the saved cursor"}
    assert count(ctx.db, interactions) == 6
    assert stored_cursor(ctx.db) == {"last": 6}  # page 2's cursor
    assert tracker.created == 6  # the other stages went on

    forum.pages_left = None
    again = run_pipeline(ctx)

    assert again.counts["interactions_created"] == 3  # page 3 only: nothing read twice
    assert "rate_limited" not in again.counts
    assert count(ctx.db, interactions) == 9
    assert count(ctx.db, audit_events, audit_events.c.record_type == "interaction",
                 audit_events.c.action == "created") == 9
    assert stored_cursor(ctx.db) == {"last": 9}
    assert tracker.created == 9


def test_a_spent_window_while_writing_leaves_the_rest_pending_without_an_attempt(world: World) -> None:
    ctx, forum, tracker = world
    for n in range(1, 6):
        forum.post(f"user{n}", n, f"idea {n}")
    tracker.batches_left = 1  # the tracker takes creates two at a time: one batch, then the window is spent

    stats = run_pipeline(ctx)

    assert tracker.created == 2
    assert stats.counts["rate_limited"] >= 1
    assert stats.counts["effects_deferred"] == 2  # the second batch; the third was not even offered
    assert "effects_failed" not in stats.counts and DEAD_LETTERED not in stats.counts
    assert len(tracker.offered) == 4
    assert "tracker: rate-limit window spent, resumes in 120 s" in stats.notes["rate_limited:tracker"]
    with ctx.db.connect() as conn:
        rows = conn.execute(select(outbox.c.state, outbox.c.attempts).order_by(outbox.c.id)).all()
    assert [tuple(r) for r in rows] == [("done", 1), ("done", 1), ("pending", 0), ("pending", 0), ("pending", 0)]
    assert count(ctx.db, dead_letters) == 0

    tracker.batches_left = None
    run_pipeline(ctx)

    assert tracker.created == 5 and len(tracker.issues) == 5
    assert count(ctx.db, outbox, outbox.c.state == "done") == 5


def test_a_held_effect_waits_with_its_reason_and_is_offered_again_on_every_run(world: World) -> None:
    ctx, forum, tracker = world
    forum.post("ann", 1, "Please add dark mode")
    tracker.closed = "outside the 24-hour messaging window; a human agent tag is needed"

    first = run_pipeline(ctx)
    second = run_pipeline(ctx)

    assert tracker.created == 0
    assert first.counts["effects_held"] == 1 and second.counts["effects_held"] == 1
    for stats in (first, second):
        assert DEAD_LETTERED not in stats.counts and "effects_failed" not in stats.counts
    assert tracker.offered.count(tracker.offered[0]) == 2  # the connector decided again
    with ctx.db.connect() as conn:
        state, attempts, error = conn.execute(select(outbox.c.state, outbox.c.attempts, outbox.c.last_error)).one()
        status = counts(conn)
    assert (state, attempts) == ("held", 0)
    assert "24-hour messaging window" in error
    assert status["outbox_held"] == 1
    assert status["outbox_held_reasons"] == {tracker.closed: 1}
    assert status["outbox_pending"] == 0 and status["outbox_dead"] == 0
    assert count(ctx.db, dead_letters) == 0
    assert count(ctx.db, audit_events, audit_events.c.action == "create_held") == 1  # audited once

    tracker.closed = None
    run_pipeline(ctx)

    assert tracker.created == 1
    with ctx.db.connect() as conn:
        assert conn.execute(select(outbox.c.state)).scalar_one() == "done"



def test_an_effect_held_past_the_retry_period_expires_as_a_dead_letter_saying_why(world: World) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from continuum.store.db import utcnow

    ctx, forum, tracker = world
    ctx.retry_period_s = 3600.0
    forum.post("ann", 1, "Please add dark mode")
    tracker.closed = "outside the 24-hour messaging window"
    run_pipeline(ctx)
    run_pipeline(ctx)  # held again: the clock runs from the first hold
    with ctx.db.begin() as conn:
        since = conn.execute(select(outbox.c.retry_since)).scalar_one()
        assert since is not None
        conn.execute(update(outbox).values(retry_since=utcnow() - timedelta(hours=2)))
    offered = len(tracker.offered)
    stats = run_pipeline(ctx)
    assert stats.counts["effects_expired"] == 1 and len(tracker.offered) == offered  # not offered again
    with ctx.db.connect() as conn:
        assert conn.execute(select(outbox.c.state)).scalar_one() == "expired"
        (letter,) = conn.execute(select(dead_letters.c.error, dead_letters.c.state)).all()
    assert letter.state == "expired" and "expired: still held after the retry period of 1h" in letter.error
    assert "last reason: " in letter.error and letter.error.endswith("held: outside the 24-hour messaging window")
    tracker.closed = None
    run_pipeline(ctx)
    assert tracker.created == 0  # expired is final: only a replay sends it


def test_status_and_history_show_a_held_effect_and_its_reason(world: World, tmp_path: object,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import airflow.sdk.log  # noqa: F401  Airflow sets up logging on import: before CliRunner swaps the streams
    from typer.testing import CliRunner

    from continuum.cli import app

    ctx, forum, tracker = world
    forum.post("ann", 1, "Please add dark mode")
    tracker.closed = "outside the 24-hour messaging window"
    run_pipeline(ctx)
    monkeypatch.setenv("CONTINUUM_DB_URL", str(ctx.db.url))
    runner = CliRunner()

    status = runner.invoke(app, ["status", "--json"])
    table = runner.invoke(app, ["status"])
    story = runner.invoke(app, ["history", "post:1"])

    assert status.exit_code == table.exit_code == story.exit_code == 0, status.output + story.output
    counted = json.loads(status.stdout)
    assert counted["outbox_held"] == 1
    assert counted["outbox_held_reasons"] == {"outside the 24-hour messaging window": 1}
    assert "outside the 24-hour messaging window" in " ".join(table.output.split())
    flat = " ".join(story.output.split())
    assert "create tracker issue: held" in flat and "outside the 24-hour messaging window" in flat
