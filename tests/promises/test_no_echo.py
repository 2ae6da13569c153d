"""No echo: what the hub wrote, or already saw, is not news when it is read back.

Outbox keys would hide a broken check (the same effect is never sent twice), so these tests count what
the store records: ticket changes, audit events, links, every row.
"""

from __future__ import annotations

from tests.brain.helpers import company_posts, interaction
from tests.e2e.conftest import Loop
from tests.promises.helpers import audits, store_counts


def test_a_quiet_re_sync_reads_every_ticket_back_and_records_nothing(loop: Loop) -> None:
    loop.discourse.add_user("ann", "Ann", None)
    topic, post = loop.discourse.create_topic("ann", "bugs", "Totals off", "The PDF total is off by a cent")
    loop.sync()
    (issue,) = loop.jira.issues()
    # A person works the ticket: an answer, a label that overrides the priority, and the fix ships.
    loop.jira.add_staff_comment(issue["key"], "Found it: a rounding bug.", public=True)
    loop.jira.add_label(issue["key"], "continuum-priority-urgent")
    loop.jira.resolve(issue["key"], "Fixed")
    stats = loop.sync()
    assert stats.counts.get("tickets_changed") == 1
    assert interaction(loop, post)["priority"] == "urgent"
    assert len(audits(loop.db, "override")) == 1 and len(audits(loop.db, "shipped")) == 1
    replies = company_posts(loop, topic)
    before = store_counts(loop.db)
    for _ in range(3):
        stats = loop.sync()
        assert stats.counts.get("tickets_read", 0) >= 1  # the ticket was read back: the check had work to do
        assert not stats.counts.get("tickets_changed")
    assert store_counts(loop.db) == before  # audit events included
    assert company_posts(loop, topic) == replies and len(audits(loop.db, "ticket_changed")) == 1


def test_each_change_a_person_makes_on_the_ticket_is_one_change(loop: Loop) -> None:
    loop.discourse.add_user("ann", "Ann", None)
    loop.discourse.create_topic("ann", "bugs", "Totals off", "The PDF total is off by a cent")
    loop.sync()
    (issue,) = loop.jira.issues()
    assert audits(loop.db, "ticket_changed") == []  # the first read-back only learns what the hub made
    loop.jira.set_status(issue["key"], "In Progress")
    assert loop.sync().counts.get("tickets_changed") == 1
    loop.sync()
    loop.jira.set_status(issue["key"], "Done")
    assert loop.sync().counts.get("tickets_changed") == 1
    loop.sync()
    assert [event["changes"]["now"]["status"] for event in audits(loop.db, "ticket_changed")] == ["In Progress",
                                                                                               "Done"]
