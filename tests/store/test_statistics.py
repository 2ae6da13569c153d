"""A read that grows the PostgreSQL store keeps its planner statistics current (doubling), and SQLite is left
alone."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from continuum.engine.context import SyncContext
from continuum.engine.read import read_source
from continuum.store.statistics import FIRST_AT, StatisticsKeeper
from tests.engine.fakes import FakeForum, FakeTracker
from tests.engine.test_engine import hub

pytestmark = pytest.mark.postgres


def _reltuples(db: Engine, table: str) -> float:
    with db.connect() as conn:
        return float(conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table}).scalar_one())


def test_a_backfill_analyses_the_tables_it_grows_so_plans_know_their_size(pg_db: Engine) -> None:
    assert _reltuples(pg_db, "interactions") < 0  # never analysed: the planner guesses
    forum = FakeForum(page_size=100)
    for n in range(1_200):
        forum.post(f"author-{n % 60}", n // 4, f"post number {n}")
    ctx = SyncContext(db=pg_db, hub=hub(), pipeline_name="p", connectors={"forum": forum, "tracker": FakeTracker()})
    stats = read_source(ctx, ctx.pipeline.sources[0])
    assert stats.counts["interactions_created"] == 1_200
    # Refreshed at 500 and at 1,000 added rows: the statistics say 1,000, not "never analysed".
    assert _reltuples(pg_db, "interactions") == 1_000
    assert _reltuples(pg_db, "identities") > 0 and _reltuples(pg_db, "links") >= 0


def test_the_keeper_refreshes_on_doubling_only(pg_db: Engine) -> None:
    keeper = StatisticsKeeper(pg_db)
    for _ in range(40):
        keeper.grew(100)  # 4,000 rows in steps of 100
    assert keeper.refreshed == 4  # at 500, 1,000, 2,000 and 4,000
    keeper.grew(0)
    assert keeper.refreshed == 4 and keeper.next_at == 8_000 and FIRST_AT == 500


def test_sqlite_is_left_alone(sqlite_db: Engine) -> None:
    keeper = StatisticsKeeper(sqlite_db)
    keeper.grew(10_000)
    assert keeper.refreshed == 0
