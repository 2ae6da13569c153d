"""A Discourse author deletes a post: the connector says so, the hub forgets the text and cleans its ticket.

Discourse keeps a post its author deleted for a while, revised to "(post deleted by author)" and flagged
``user_deleted``; the revision moves ``updated_at``, so the feed's edit check re-reads it like an edit.
Both simulators on loopback, the shipped config, a fresh store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect, select, text

from connectors.discourse.connector import DiscourseConnector
from connectors.discourse.plugin import PLUGIN, SIM_API_KEY, SIM_API_USERNAME
from connectors.discourse.seed import seed
from connectors.discourse.simulator import DELETED_POST_NOTICE, DiscourseSimulator
from connectors.jira.simulator import JiraSimulator
from continuum.connector import ConnectionInfo
from continuum.store.deletions import PLACEHOLDER
from continuum.store.tables import audit_events, interactions, outbox, tombstones
from tests.e2e.conftest import Loop, loop  # noqa: F401  (the simulators-plus-store fixture)
from tests.promises.helpers import audits, forget_cursors, row_of

WORD = "quokka5521"  # unique: anywhere in the store, it is a copy the purge missed


def tables_holding(db: Engine, word: str) -> list[str]:
    found = []
    with db.connect() as conn:
        for name in inspect(conn).get_table_names():
            if any(word in str(value) for row in conn.execute(text(f'SELECT * FROM "{name}"')) for value in row):
                found.append(name)
    return found


@pytest.fixture
def sim() -> Iterator[DiscourseSimulator]:
    simulator = DiscourseSimulator()
    seed(simulator)
    simulator.start()
    yield simulator
    simulator.stop()


def test_the_connector_marks_a_post_its_author_deleted(sim: DiscourseSimulator) -> None:
    connector = PLUGIN.create(ConnectionInfo("t", sim.base_url, SIM_API_USERNAME, SIM_API_KEY), {})
    assert isinstance(connector, DiscourseConnector)
    sim.add_user("zoe", "Zoe", None)
    topic, _ = sim.create_topic("zoe", "support", "Cannot log in", "Since the update I cannot log in")
    reply = sim.reply("zoe", topic, f"Also my {WORD} token")
    pages = list(connector.read_changes("posts", None))
    assert not any(r.deleted for p in pages for r in p.records)

    sim.delete_post_by_author(reply)
    again = [r for p in connector.read_changes("posts", pages[-1].cursor) for r in p.records]

    assert [(r.external_id, r.deleted) for r in again] == [(str(reply), True)]
    assert again[0].payload["raw"] == DELETED_POST_NOTICE and again[0].payload["user_deleted"] is True


def test_a_deleted_post_is_purged_its_ticket_cleaned_and_it_never_comes_back(loop: Loop) -> None:  # noqa: F811
    forum, jira = loop.discourse, loop.jira
    assert isinstance(forum, DiscourseSimulator) and isinstance(jira, JiraSimulator)
    forum.add_user("ann", "Ann", None)
    _, post = forum.create_topic("ann", "feature-requests", f"Dark mode {WORD}",
                                          f"Please add a dark mode, {WORD} style, for night shifts")
    loop.sync()
    (issue,) = jira.issues()
    assert WORD in json.dumps(issue["fields"])
    forum.edit_post(post, f"Please add a dark mode ({WORD}) for the night shift")
    stats = loop.sync()
    assert stats.counts.get("interactions_updated") == 1 and len(audits(loop.db, "updated")) == 1
    assert row_of(loop.db, "discourse", f"post:{post}")["text"].endswith("for the night shift")

    forum.delete_post_by_author(post)
    stats = loop.sync()

    assert stats.counts.get("interactions_deleted") == 1
    assert tables_holding(loop.db, WORD) == []
    (deleted,) = audits(loop.db, "deleted")
    assert WORD not in json.dumps(deleted["changes"], default=str)
    assert "dark mode" not in json.dumps(deleted["changes"], default=str).lower()
    with loop.db.connect() as conn:
        update_state = conn.execute(select(outbox.c.state).where(outbox.c.action == "update")).scalar_one()
        status = conn.execute(select(interactions.c.status)).scalar_one()
    assert (update_state, status) == ("done", "deleted")
    (issue,) = jira.issues()
    shown = json.dumps(issue["fields"])
    assert WORD not in shown and PLACEHOLDER in shown  # the hub's own copy on Jira is cleaned

    forget_cursors(loop.db)  # read everything again from scratch: the deleted post is served again
    stats = loop.sync()

    assert stats.counts.get("deleted_skipped") == 1 and not stats.counts.get("interactions_created")
    with loop.db.connect() as conn:
        assert len(conn.execute(select(interactions.c.id)).all()) == 1
        assert len(conn.execute(select(tombstones.c.id)).all()) == 1
        assert len(conn.execute(select(audit_events.c.id).where(audit_events.c.action == "deleted")).all()) == 1
    assert len(jira.issues()) == 1


def test_a_deleted_post_takes_its_crm_timeline_note_with_it(loop: Loop) -> None:  # noqa: F811
    """The shipped pipeline logs every kept post on the customer's HubSpot contact: a post its author deleted
    leaves no note quoting it there (the hub's copy must not outlive the post)."""
    crm = loop.sims["hubspot"]

    def bodies() -> list[str]:
        return [crm.raw_property(n["id"], "hs_note_body") or "" for n in crm.objects("notes")]

    loop.discourse.add_user("zoe", "Zoe", "zoe@example.com")
    topic, _ = loop.discourse.create_topic("zoe", "support", "Cannot log in", "Since the update I cannot log in")
    reply = loop.discourse.reply("zoe", topic, f"Also my {WORD} token")
    loop.sync()
    assert len([b for b in bodies() if WORD in b]) == 1, bodies()  # logged: else the test would prove nothing

    loop.discourse.delete_post_by_author(reply)
    stats = loop.sync()
    assert stats.counts.get("deleted_timeline_entries") == 1, stats.counts
    assert not [b for b in bodies() if WORD in b], bodies()
    assert any("cannot log in" in b for b in bodies()), bodies()  # the topic's own note stays
    assert loop.sync().counts.get("deleted_timeline_entries") is None  # once
