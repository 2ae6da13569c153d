"""Issue #10, item 8: a lost store never duplicates tickets or replies; `continuum reconcile` links them again."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from sqlalchemy import Engine, func, select

from continuum.cli.errors import EXIT_RECONCILE
from continuum.store.db import open_store
from continuum.store.tables import interactions, links
from tests.newcomer.conftest import Loop, cli


def label_searches(loop: Loop) -> int:
    return sum(1 for x in loop.jira.calls("GET", "/search/jql")
               if "labels in" in parse_qs(x.query_string).get("jql", [""])[0])


def answered_times(db: Engine) -> list[str]:
    with db.connect() as conn:
        return [str(t) for t in conn.execute(select(interactions.c.answered_at).where(
            interactions.c.answered_at.is_not(None)).order_by(interactions.c.source_id)).scalars()]


def test_a_fresh_store_refuses_to_duplicate_and_reconcile_links_everything(loop: Loop, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("ann", "Ann", None)
    for n in range(3):
        loop.discourse.create_topic("ann", "bugs", f"Crash {n}", f"The export crashes with error {n}")
    assert cli("sync").exit_code == 0
    first = loop.jira.issues()[0]["key"]
    loop.jira.add_staff_comment(first, "Fixed in 2.4, thanks!")
    assert cli("sync").exit_code == 0
    replies = loop.discourse.effect_counts()["replies"]
    assert len(loop.jira.issues()) == 3 and replies == 1

    original = open_store(loop.db_url)
    lost = f"sqlite:///{tmp_path / 'lost-and-rebuilt.db'}"  # the store is gone: a fresh one
    monkeypatch.setenv("CONTINUUM_DB_URL", lost)
    refused = cli("sync")
    assert refused.exit_code == EXIT_RECONCILE, refused.output
    assert "continuum reconcile" in refused.output and "Traceback" not in refused.output
    assert len(loop.jira.issues()) == 3

    searches = label_searches(loop)
    result = cli("reconcile", "--json")
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    # The wiki's pages (Ann's history, the feature requests' index, the FAQ page of the answer) are found by
    # their titles, not made again; so are the CRM contact the hub made for her and her three timeline notes
    # (by the key each carries), and no second customer is made of her contact.
    assert report["found"] == {"create": 3, "reply": 1, "publish": 3, "create_contact": 1, "log": 3}, report
    assert not report["made"], report
    assert label_searches(loop) - searches == 1  # one search for the page of keys, not one per ticket
    assert len(loop.jira.issues()) == 3 and loop.discourse.effect_counts()["replies"] == replies
    db = open_store(lost)
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(links).where(
            links.c.system == "jira", links.c.object_type == "issue")).scalar_one() == 3
    # The answer's time is the reply's, as the forum recorded it, in both stores: the rebuilt customer page says
    # what the original said (it would not if the rebuilt store took the time of the reconcile run).
    assert answered_times(db) == answered_times(original) and answered_times(db), answered_times(db)
    db.dispose()

    loop.discourse.create_topic("ann", "bugs", "Another crash", "Crashes on login too")
    assert cli("sync").exit_code == 0  # reconciled: syncs go on, and make only what is new
    assert len(loop.jira.issues()) == 4 and loop.discourse.effect_counts()["replies"] == replies


def test_force_writes_anyway(loop: Loop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("ann", "Ann", None)
    loop.discourse.create_topic("ann", "bugs", "Crash", "The export crashes")
    assert cli("sync").exit_code == 0
    monkeypatch.setenv("CONTINUUM_DB_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    refused = cli("sync")  # no reply on the forum yet: the creates themselves are checked, in bulk
    assert refused.exit_code == EXIT_RECONCILE and "jira holds 1 object(s)" in refused.output, refused.output
    assert cli("sync", "--force").exit_code == 0
    assert len(loop.jira.issues()) == 2  # what --force means: the operator chose to write again
