"""Issue #10, item 11: an override on an interaction that has a ticket changes that ticket on the next sync."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from continuum.store.tables import interactions
from tests.newcomer.conftest import Loop, cli


def test_override_priority_updates_the_existing_jira_issue(loop: Loop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("ann", "Ann", None)
    loop.discourse.create_topic("ann", "bugs", "Export broken", "The export button does nothing")
    assert cli("sync").exit_code == 0
    (issue,) = loop.jira.issues()
    assert issue["fields"]["priority"]["name"] != "Highest"
    with loop.db.connect() as conn:
        interaction = conn.execute(select(interactions.c.id)).scalar_one()
    result = cli("override", str(interaction), "--priority", "urgent")
    assert result.exit_code == 0 and "updated on the next sync" in result.output, result.output
    assert cli("sync").exit_code == 0
    assert loop.jira.get_issue(issue["key"])["fields"]["priority"]["name"] == "Highest"
    assert loop.jira.effect_counts()["updated"] == 1
    assert cli("sync").exit_code == 0
    assert loop.jira.effect_counts()["updated"] == 1  # once
    assert cli("override", str(interaction), "--priority", "urgent").exit_code == 0  # the same again: no-op
    assert cli("sync").exit_code == 0
    assert loop.jira.effect_counts()["updated"] == 1
