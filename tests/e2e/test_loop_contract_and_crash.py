"""The whole loop's traffic against the official descriptions, and a real crash mid-sync."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from connectors.jira.simcontract import SPEC as JIRA_SPEC
from connectors.jira.simcontract import rfc3339_offsets
from continuum.simkit.contract import contract_errors, specs_dir
from continuum.store.tables import links, outbox
from tests.e2e.conftest import Loop


def _seed_a_little(loop: Loop) -> int:
    loop.discourse.add_user("mara", "Mara", None)
    loop.discourse.add_user("tom", "Tom", None)
    topic, _ = loop.discourse.create_topic("mara", "feature-requests", "Dark mode", "Dark mode please")
    loop.discourse.create_topic("tom", "bugs", "Export crashes", "CSV export crashes")
    loop.discourse.create_topic("tom", "lounge", "Hi", "Hello all")
    return topic


@pytest.mark.contract
def test_every_exchange_of_the_loop_matches_the_vendor_descriptions(loop: Loop) -> None:
    if not (specs_dir() / JIRA_SPEC).is_file():
        pytest.skip(f"vendor API descriptions not found at {specs_dir()}; contract tests skipped")
    topic = _seed_a_little(loop)
    loop.sync()
    loop.discourse.reply("mara", topic, "And for mobile too")
    loop.sync()
    (issue, *_) = loop.jira.issues()
    loop.jira.add_staff_comment(issue["key"], "Done, see Settings", public=True)
    loop.sync()
    loop.sync()
    assert loop.discourse.effect_counts()["replies"] == 1
    assert contract_errors("discourse.openapi.json", loop.discourse.exchanges) == []
    assert contract_errors(JIRA_SPEC, rfc3339_offsets(loop.jira.exchanges)) == []


def test_a_crash_between_bulk_create_and_commit_is_recovered_by_the_key(loop: Loop) -> None:
    """The sync process dies (os._exit, no cleanup) right after Jira made the issues."""
    _seed_a_little(loop)
    env = {**os.environ, **loop.env, "CONTINUUM_DB_URL": loop.db_url, "CONTINUUM_FAILPOINTS": "after_write:jira"}
    crashed = subprocess.run([sys.executable, "-m", "continuum.cli", "sync", "community"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 99, crashed.stderr[-2000:]
    assert len(loop.jira.issues()) == 2  # Jira has them ...
    with loop.db.connect() as conn:
        assert conn.execute(select(links).where(links.c.system == "jira")).all() == []  # ... the store does not
        assert {r.state for r in conn.execute(select(outbox.c.state))} == {"sending"}
    env.pop("CONTINUUM_FAILPOINTS")
    rerun = subprocess.run([sys.executable, "-m", "continuum.cli", "sync", "community", "--json"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert '"create_found": 2' in rerun.stdout
    assert len(loop.jira.issues()) == 2
    assert loop.jira.effect_counts()["created"] == 2
    with loop.db.connect() as conn:
        assert len(conn.execute(select(links).where(links.c.system == "jira")).all()) == 2
        assert {r.state for r in conn.execute(select(outbox.c.state))} == {"done"}
    for issue in loop.jira.issues():
        assert len(loop.jira.remote_links(issue["key"])) == 1
