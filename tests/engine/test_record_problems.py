"""A record the connector read but could not make sense of (``SourceRecord.problem``) is a dead letter naming
it and the field, the rest of its page is ingested, and the stream's cursor moves past it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, select

from continuum.connector import JSON, Page, SourceRecord
from continuum.engine.context import SyncContext
from continuum.engine.run import run_pipeline
from continuum.store.tables import cursors, dead_letters, interactions
from tests.engine.fakes import FakeForum, FakeTracker
from tests.engine.test_engine import hub


@dataclass
class GarbledForum(FakeForum):
    """Post 2's text arrives in a charset the connector cannot decode."""

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        for page in super().read_changes(stream, cursor):
            yield Page([SourceRecord(r.stream, r.object_type, r.external_id, r.payload, parent_id=r.parent_id,
                                     problem=("text", "bytes not valid koi8-r at offset 3"))
                        if r.external_id == "2" else r for r in page.records], page.cursor)


def test_a_record_with_a_problem_is_a_dead_letter_and_the_page_goes_on(sqlite_db: Engine) -> None:
    forum = GarbledForum()
    for n in range(3):
        forum.post(f"user{n}", n, f"idea number {n}")
    ctx = SyncContext(db=sqlite_db, hub=hub(), pipeline_name="p", connectors={"forum": forum, "tracker": FakeTracker()})
    stats = run_pipeline(ctx)
    assert stats.counts["dead_letters"] == 1
    with sqlite_db.connect() as conn:
        (letter,) = conn.execute(select(dead_letters)).mappings().all()
        stored = sorted(conn.execute(select(interactions.c.source_id)).scalars())
        (cursor,) = conn.execute(select(cursors.c.value).where(cursors.c.system == "forum")).scalars()
    assert (letter["stage"], letter["record_key"], letter["field"]) == ("map", "posts/post:2", "text")
    assert letter["error"] == "forum post 2: field text: bytes not valid koi8-r at offset 3"
    assert letter["payload"]["text"] == "idea number 1"  # kept for a look and a replay
    assert stored == ["post:1", "post:3"] and cursor == {"last": 3}
