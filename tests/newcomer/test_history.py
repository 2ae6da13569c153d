"""Issue #10, item 12: `continuum history` tells one interaction's whole story, however it is named."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from continuum.store.tables import interactions
from tests.newcomer.conftest import Loop, cli


def test_history_by_id_url_and_ticket_key(loop: Loop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("ann", "Ann", None)
    topic, _ = loop.discourse.create_topic("ann", "bugs", "Export crashes", "The CSV export crashes every time")
    assert cli("sync").exit_code == 0
    (issue,) = loop.jira.issues()
    loop.jira.add_staff_comment(issue["key"], "Fixed in 2.4, please update.")
    assert cli("sync").exit_code == 0
    with loop.db.connect() as conn:
        row = conn.execute(select(interactions).where(interactions.c.source_system == "discourse")).one()
    by_id = cli("history", str(row.id))
    assert by_id.exit_code == 0, by_id.output
    text = by_id.output
    assert "read: inbound bug on discourse/bugs: Export crashes" in text
    assert "triaged by" in text and "crashes and data loss are" in text  # the decision and its rule
    assert f"create jira issue: done {loop.jira.base_url}/browse/{issue['key']}" in text
    assert "answer from jira comment:" in text and "Fixed in 2.4" in text
    assert "reply discourse post: done" in text  # the answer went back, with the post's id or URL
    for reference in (row.url, issue["key"], f"{loop.jira.base_url}/browse/{issue['key']}", row.source_id):
        story = json.loads(cli("history", reference, "--json").stdout)
        assert [s["interaction"]["id"] for s in story["stories"]] == [row.id], reference
    missing = cli("history", "PROD-999")
    assert missing.exit_code == 2 and "nothing in the store is 'PROD-999'" in missing.output
    assert topic


def test_history_shows_dead_letters(loop: Loop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("ann", "Ann", None)
    _, post = loop.discourse.create_topic("ann", "bugs", "Huge", "y" * 70_000)
    cli("sync")
    # The post never became an interaction: its story is its dead letter, found by its source id.
    result = cli("history", f"post:{post}")
    assert result.exit_code == 0, result.output
    assert "dead letter (open, map)" in result.output and "65536 allowed" in result.output
