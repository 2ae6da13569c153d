"""Deletions by the author: marked, purged from every table, tombstoned, and the hub's ticket cleaned."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, inspect, select, text, update

from continuum.connector import JSON, Capabilities, Effect, EffectResult, Page, SourceRecord
from continuum.engine.context import SyncContext
from continuum.engine.run import DEAD_LETTERED, run_pipeline
from continuum.store.deletions import PLACEHOLDER
from continuum.store.interactions import due_before
from continuum.store.tables import audit_events, interactions, outbox, tombstones
from tests.engine.fakes import FakeForum, FakeTracker
from tests.engine.test_engine import hub

WORD = "zebrafish7731"  # unique: found anywhere in the store, it is a copy that was not purged
MEDIA = "uploads/ann-photo-4410.png"


@dataclass
class DeletingForum(FakeForum):
    """A feed that re-serves changed posts (edits, deletions) after the cursor, as Discourse's does."""

    changed: list[int] = field(default_factory=list)

    def edit(self, post_id: int, **values: object) -> None:
        self.posts[post_id - 1].update(values)
        self.changed.append(post_id)

    def delete(self, post_id: int) -> None:
        # What a platform says of a deleted post: its id, and that it is gone (no text).
        self.posts[post_id - 1] = {"id": post_id, "topic": self.posts[post_id - 1]["topic"], "deleted": True}
        self.changed.append(post_id)

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        last = (cursor or {}).get("last", 0)
        ids = sorted(set(self.changed) | {p["id"] for p in self.posts if p["id"] > last})
        self.changed = []
        if ids:
            records = [SourceRecord("posts", "post", str(i), dict(self.posts[i - 1]),
                                    parent_id=str(self.posts[i - 1]["topic"]),
                                    deleted=bool(self.posts[i - 1].get("deleted"))) for i in ids]
            yield Page(records, {"last": max(last, *ids)})


@dataclass
class UpdatingTracker(FakeTracker):
    capabilities: Capabilities = field(
        default_factory=lambda: Capabilities(("issues",), ("create", "comment", "update"), {"create": 2}))
    updates: list[Effect] = field(default_factory=list)

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        results = []
        for effect in effects:
            if effect.action == "update":
                issue = self.issues[str(effect.target_id)]
                issue.update(effect.fields)
                issue["updated"] = self._tick()
                self.updates.append(effect)
                results.append(EffectResult(effect.key, True, issue["id"], "issue"))
            else:
                results += super().write([effect])
        return results


World = tuple[SyncContext, "DeletingForum", "UpdatingTracker"]


@pytest.fixture
def world(sqlite_db: Engine) -> tuple[SyncContext, DeletingForum, UpdatingTracker]:
    forum, tracker = DeletingForum(), UpdatingTracker()
    ctx = SyncContext(db=sqlite_db, hub=hub(), pipeline_name="p", connectors={"forum": forum, "tracker": tracker})
    return ctx, forum, tracker


def count(db: Engine, table: object, *where: object) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())  # type: ignore


def tables_holding(db: Engine, word: str) -> list[str]:
    """Every table with a row whose text (any column, JSON included) holds ``word``."""
    found = []
    with db.connect() as conn:
        for name in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{name}"')):
                if any(word in str(value) for value in row):
                    found.append(name)
                    break
    return found


def test_a_deleted_post_leaves_no_text_anywhere_and_its_ticket_is_cleaned(world: World) -> None:
    ctx, forum, tracker = world
    forum.post("ann", 1, f"Please add dark mode {WORD} for the night shift", created="not a date",
               image=f"https://cdn.example/{MEDIA}")  # a media reference, no text in it
    run_pipeline(ctx)  # a dead letter that keeps the raw record
    forum.edit(1, created="2026-11-20T10:00:00Z")
    run_pipeline(ctx)  # now stored, ticketed
    forum.edit(1, text=f"Please add dark mode {WORD} for night shifts, and soon")
    run_pipeline(ctx)  # an edit: its audit event holds the new text
    assert tracker.created == 1
    assert {"interactions", "audit_events", "dead_letters", "outbox"} <= set(tables_holding(ctx.db, WORD))
    assert tables_holding(ctx.db, MEDIA) == ["dead_letters"]
    with ctx.db.begin() as conn:  # an SLA clock that runs
        conn.execute(update(interactions).values(sla_due=datetime(2026, 11, 21, tzinfo=UTC)))

    forum.delete(1)
    stats = run_pipeline(ctx)

    assert stats.counts["interactions_deleted"] == 1
    assert DEAD_LETTERED not in stats.counts
    assert tables_holding(ctx.db, WORD) == []
    assert tables_holding(ctx.db, MEDIA) == []
    with ctx.db.connect() as conn:
        row = conn.execute(select(interactions)).mappings().one()
        (deleted_event,) = conn.execute(select(audit_events.c.changes).where(
            audit_events.c.action == "deleted")).scalars()
        assert due_before(conn, datetime(2030, 1, 1, tzinfo=UTC)) == []  # its SLA item closed
    assert (row["status"], row["text"], row["title"]) == ("deleted", "", "")
    assert "dark mode" not in str(deleted_event)
    assert deleted_event["by"] == "author" and deleted_event["ticket_update"]
    (issue,) = tracker.issues.values()
    (sent,) = tracker.updates
    assert sent.fields == {"summary": PLACEHOLDER}  # only what the text reached, re-rendered
    assert issue["summary"] == PLACEHOLDER
    assert count(ctx.db, tombstones) == 1


def test_a_deleted_post_served_again_is_not_created_again(world: World) -> None:
    ctx, forum, _ = world
    forum.post("ann", 1, f"Export {WORD} to CSV")
    run_pipeline(ctx)
    kept = dict(forum.posts[0])
    forum.delete(1)
    run_pipeline(ctx)

    forum.posts[0] = kept  # a feed (or a backfill from scratch) serves the old copy again
    forum.changed.append(1)
    stats = run_pipeline(ctx)

    assert stats.counts["deleted_skipped"] == 1
    assert count(ctx.db, interactions) == 1
    assert tables_holding(ctx.db, WORD) == []
    assert count(ctx.db, audit_events, audit_events.c.action == "deleted") == 1


def test_a_deletion_of_an_id_never_seen_is_only_a_tombstone(world: World) -> None:
    ctx, forum, tracker = world
    forum.post("ann", 1, f"first {WORD}")
    forum.delete(1)  # deleted before the hub ever read it

    stats = run_pipeline(ctx)
    forum.posts[0] = {"id": 1, "topic": 1, "author": "ann", "text": "first", "category": "ideas", "first": True,
                      "created": "2026-11-20T10:00:00Z"}
    forum.changed.append(1)
    run_pipeline(ctx)

    assert stats.counts["deleted_unseen"] == 1
    assert count(ctx.db, interactions) == 0 and count(ctx.db, audit_events) == 0
    assert count(ctx.db, tombstones, tombstones.c.interaction_id.is_(None)) == 1
    assert tracker.created == 0


def test_an_effect_not_sent_yet_is_cancelled(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, forum, tracker = world
    forum.post("ann", 1, f"Please {WORD}")
    monkeypatch.setattr(tracker, "write", lambda effects: [EffectResult(e.key, False, error="down")
                                                           for e in effects])
    run_pipeline(ctx)  # the create failed: it would go out again next run
    monkeypatch.undo()
    forum.delete(1)

    run_pipeline(ctx)

    assert tracker.created == 0
    with ctx.db.connect() as conn:
        assert conn.execute(select(outbox.c.state)).scalar_one() == "cancelled"
    assert tables_holding(ctx.db, WORD) == []


def test_an_edit_updates_the_text_with_one_updated_event(world: World) -> None:
    ctx, forum, _ = world
    forum.post("ann", 1, "Please add dark mode")
    run_pipeline(ctx)
    forum.edit(1, text="Please add dark mode and a high-contrast theme")

    stats = run_pipeline(ctx)
    run_pipeline(ctx)

    assert stats.counts["interactions_updated"] == 1
    with ctx.db.connect() as conn:
        assert conn.execute(select(interactions.c.text)).scalar_one().endswith("high-contrast theme")
        (changes,) = conn.execute(select(audit_events.c.changes).where(audit_events.c.action == "updated")).scalars()
    assert changes == {"text": "Please add dark mode and a high-contrast theme"}
