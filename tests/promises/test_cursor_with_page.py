"""Nothing lost, deterministically: a failure inside a page's transaction leaves the cursor of the page before.

The random kill test finds a cursor saved before its page only by luck; here the store fails while it
writes page 2 (as a full disk or a dropped connection would), every time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event

from continuum.engine.context import SyncContext
from continuum.engine.run import run_pipeline
from tests.e2e.conftest import Loop
from tests.engine.fakes import FakeForum, FakeTracker
from tests.engine.test_engine import hub
from tests.promises.helpers import source_ids, stored_cursor


class StoreFailed(Exception):
    pass


@contextmanager
def store_fails_inserting(db: Engine, source_id: str) -> Iterator[None]:
    """The store fails on the statement that inserts the interaction ``source_id`` (inside its page's transaction)."""

    def fail(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO INTERACTIONS") and f"'{source_id}'" in repr(parameters):
            raise StoreFailed(f"disk full while writing {source_id}")

    event.listen(db, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(db, "before_cursor_execute", fail)


def test_a_failure_inside_page_two_keeps_page_ones_cursor_and_a_re_run_stores_each_record_once(
        sqlite_db: Engine) -> None:
    forum = FakeForum(page_size=3)
    ctx = SyncContext(db=sqlite_db, hub=hub(), pipeline_name="p", connectors={"forum": forum, "tracker": FakeTracker()})
    for n in range(8):
        forum.post(f"user{n}", n, f"idea number {n}")
    with store_fails_inserting(sqlite_db, "post:5"), pytest.raises(StoreFailed):
        run_pipeline(ctx)
    assert stored_cursor(sqlite_db, "forum", "posts") == {"last": 3}  # page 1's, not page 2's
    assert source_ids(sqlite_db, "forum") == ["post:1", "post:2", "post:3"]
    run_pipeline(ctx)
    assert source_ids(sqlite_db, "forum") == [f"post:{n}" for n in range(1, 9)]  # each once, in order
    assert stored_cursor(sqlite_db, "forum", "posts") == {"last": 8}


def test_the_same_through_discourse_pages(loop: Loop) -> None:
    loop.hub.systems["discourse"].options["page_size"] = 2
    loop.discourse.add_user("ann", "Ann", None)
    posts = [loop.discourse.create_topic("ann", "lounge", f"Hello {n}", f"Hello number {n}")[1] for n in range(5)]
    with store_fails_inserting(loop.db, f"post:{posts[2]}"), pytest.raises(StoreFailed):
        loop.sync()
    cursor = stored_cursor(loop.db, "discourse", "posts")
    assert cursor is not None and cursor["last_post_id"] == posts[1]
    loop.sync()
    assert source_ids(loop.db, "discourse") == [f"post:{p}" for p in posts]
    assert stored_cursor(loop.db, "discourse", "posts")["last_post_id"] == posts[-1]  # type: ignore[index]
