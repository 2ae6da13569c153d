"""An account is known by its stable id: a new handle renames the identity, it never makes a new customer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from continuum.config import HubConfig
from continuum.engine.context import SyncContext
from continuum.engine.run import run_pipeline
from continuum.store.tables import audit_events, customers, identities, interactions
from tests.engine.fakes import FakeForum, FakeTracker

MAPPINGS = Path(__file__).parent / "mappings"


def hub(tmp_path: Path) -> HubConfig:
    # The forum's mapping, with the author's stable id apart from the handle people can change.
    mapping = (MAPPINGS / "forum.post.yaml").read_text().replace(
        "author_account_id: {path: author, type: str, required: true}",
        "author_account_id: {path: author_id, type: str, required: true}")
    assert "path: author_id" in mapping
    (tmp_path / "forum.post.yaml").write_text(mapping)
    return HubConfig.model_validate({
        "systems": {"forum": {"connector": "fake", "connection": "none"},
                    "tracker": {"connector": "fake", "connection": "none"}},
        "pipelines": {"p": {
            "sources": [{"system": "forum", "stream": "posts", "mapping": str(tmp_path / "forum.post.yaml")}],
            "targets": [{"system": "tracker", "mapping": str(MAPPINGS / "tracker.issue.yaml")}],
            "routing": [{"name": "ideas", "when": {"kind": ["feature_request"]}, "then": {"route": "tracker"}}],
        }},
    })


@pytest.fixture
def world(sqlite_db: Engine, tmp_path: Path) -> tuple[SyncContext, FakeForum]:
    forum = FakeForum()
    ctx = SyncContext(db=sqlite_db, hub=hub(tmp_path), pipeline_name="p",
                      connectors={"forum": forum, "tracker": FakeTracker()})
    return ctx, forum


def test_a_new_handle_for_the_same_account_renames_the_customer(world: tuple[SyncContext, FakeForum]) -> None:
    ctx, forum = world
    forum.post("ann_old", 1, "Please add dark mode", author_id="u-17")
    run_pipeline(ctx)
    forum.post("ann_new", 2, "And export to CSV", author_id="u-17")

    stats = run_pipeline(ctx)
    run_pipeline(ctx)  # seen again: no second change

    assert stats.counts["handles_changed"] == 1
    with ctx.db.connect() as conn:
        (customer,) = conn.execute(select(customers)).mappings()
        (identity,) = conn.execute(select(identities)).mappings()
        owners = set(conn.execute(select(interactions.c.customer_id)).scalars())
        (event,) = conn.execute(select(audit_events.c.changes).where(
            audit_events.c.action == "handle_changed")).scalars()
    assert owners == {customer["id"]}
    assert (identity["account_id"], identity["handle"]) == ("u-17", "ann_new")
    assert customer["display_name"] == "ann_new"
    assert event == {"system": "forum", "account_id": "u-17", "from": "ann_old", "to": "ann_new",
                     "display_name_followed": True}


def test_a_display_name_a_person_chose_is_kept(world: tuple[SyncContext, FakeForum]) -> None:
    ctx, forum = world
    forum.post("bob_1", 1, "Please add dark mode", author_id="u-9")
    run_pipeline(ctx)
    with ctx.db.begin() as conn:
        conn.execute(customers.update().values(display_name="Bob Martin"))
    forum.post("bob_2", 2, "And export to CSV", author_id="u-9")

    run_pipeline(ctx)

    with ctx.db.connect() as conn:
        assert conn.execute(select(customers.c.display_name)).scalar_one() == "Bob Martin"
        assert conn.execute(select(identities.c.handle)).scalar_one() == "bob_2"


def test_another_account_with_a_used_handle_is_another_customer(world: tuple[SyncContext, FakeForum]) -> None:
    ctx, forum = world
    forum.post("sam", 1, "Please add dark mode", author_id="u-1")
    forum.post("sam", 2, "And export to CSV", author_id="u-2")  # u-1 renamed away; u-2 took the name

    run_pipeline(ctx)

    with ctx.db.connect() as conn:
        assert len(conn.execute(select(customers.c.id)).all()) == 2
