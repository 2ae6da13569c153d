"""A run builds only the connectors it uses, while a missing connection is still named before any work.

Why it matters: a webhook's run is a fresh Airflow task process, and building all of a pipeline's connectors
imported a dozen vendor SDKs there (seconds of the webhook-to-ticket latency, docs/guides/webhooks.md)."""

from __future__ import annotations

import pytest

from continuum.connections import ConnectionProblem
from continuum.engine.context import SyncContext, build_connectors
from continuum.engine.inbox import pipeline_systems
from continuum.engine.run import run_pipeline
from continuum.kit.registry import UnknownConnector
from tests.e2e.conftest import Loop
from tests.e2e.conftest import loop as loop  # the fixture: simulators on loopback, the shipped config


def test_a_run_woken_by_one_forum_post_builds_only_what_it_touches(loop: Loop) -> None:
    systems = sorted(pipeline_systems(loop.hub, "community"))
    assert len(systems) > 6, systems  # the shipped pipeline spans many systems: the point of the test
    connectors = build_connectors(loop.hub, systems, loop.db)
    assert connectors.built() == [] and all(name in connectors for name in systems)
    assert "no-such-system" not in connectors and len(connectors) == len(systems)

    loop.discourse.add_user("mara", "Mara Lindqvist", "mara@example.com")
    loop.discourse.create_topic("mara", "bugs", "Export crashes", "The export page crashes every time")
    ctx = SyncContext(db=loop.db, hub=loop.hub, pipeline_name="community", connectors=connectors)
    stats = run_pipeline(ctx, woken=frozenset({"discourse"}))
    assert stats.counts.get("create_applied") == 1, stats.counts
    assert len(loop.jira.issues()) == 1
    built = set(connectors.built())
    assert {"discourse", "jira"} <= built, built  # read the post, made the ticket
    untouched = set(systems) - built
    assert {"x", "mastodon", "reddit", "box"} <= untouched, built  # nothing to read or write there


def test_a_missing_connection_is_named_when_the_connectors_are_made(loop: Loop,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_CONTINUUM_BOX")
    with pytest.raises(ConnectionProblem) as caught:
        build_connectors(loop.hub, sorted(pipeline_systems(loop.hub, "community")), loop.db)
    assert caught.value.system == "box" and "continuum_box" in str(caught.value)


def test_an_unknown_connector_is_named_when_the_connectors_are_made(loop: Loop) -> None:
    box = loop.hub.systems["box"].model_copy(update={"connector": "boxx"})
    hub = loop.hub.model_copy(update={"systems": {**loop.hub.systems, "box": box}})
    with pytest.raises(UnknownConnector, match="no connector named 'boxx'"):
        build_connectors(hub, sorted(pipeline_systems(hub, "community")), loop.db)
