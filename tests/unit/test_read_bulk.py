"""A page is read in bulk: the authors it names who are known already cost one query together, not one each,
and the company's own posts stay nobody's customer.  The in-memory forum of the engine tests, a SQLite store,
and SQLAlchemy's own statement events to count what reading a page costs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from continuum.engine.context import SyncContext
from continuum.engine.read import read_source
from continuum.engine.run import run_pipeline
from continuum.store.db import make_engine, migrate
from continuum.store.tables import interactions
from tests.engine.fakes import FakeForum, FakeTracker
from tests.engine.test_engine import hub


def _world(folder: Path) -> tuple[SyncContext, FakeForum]:
    folder.mkdir()
    db = make_engine(f"sqlite:///{folder}/store.db")
    migrate(db)
    forum = FakeForum(page_size=50)
    return SyncContext(db=db, hub=hub(), pipeline_name="p", connectors={"forum": forum, "tracker": FakeTracker()}), \
        forum


def _identity_queries_for_a_page_by_known_authors(folder: Path, authors: int) -> int:
    ctx, forum = _world(folder)
    for n in range(authors):
        forum.post(f"user{n}", n, f"first question number {n}", category="chat")
    run_pipeline(ctx)  # every author is known from here on
    for n in range(authors):
        forum.post(f"user{n}", n, f"a follow-up number {n}", category="chat")
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "identities" in statement:
            seen.append(statement)

    event.listen(ctx.db, "before_cursor_execute", count)
    stats = read_source(ctx, ctx.pipeline.sources[0])
    event.remove(ctx.db, "before_cursor_execute", count)
    assert stats.counts["interactions_created"] == authors
    ctx.db.dispose()
    return len(seen)


def test_known_authors_of_a_page_are_found_in_one_query_whatever_their_number(tmp_path: Path) -> None:
    few = _identity_queries_for_a_page_by_known_authors(tmp_path / "few", 2)
    many = _identity_queries_for_a_page_by_known_authors(tmp_path / "many", 6)
    assert few == many >= 1


def test_the_companys_own_post_in_a_page_is_nobodys_customer(tmp_path: Path) -> None:
    ctx, forum = _world(tmp_path / "store")
    forum.post("ann", 1, "Where is the export button?", category="chat")
    forum.post("company", 1, "Under Settings, Ann.", category="chat")
    read_source(ctx, ctx.pipeline.sources[0])
    with ctx.db.connect() as conn:
        rows = {r.text: (r.customer_id, r.direction) for r in conn.execute(select(interactions))}
    assert rows["Under Settings, Ann."] == (None, "outbound")
    assert rows["Where is the export button?"][0] is not None
