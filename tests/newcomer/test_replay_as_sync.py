"""Issue #10, item 2: a replay maps a dead letter exactly as a sync would, with the source's connector."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.discourse.plugin import SIM_API_USERNAME
from continuum.mapping import mappings_dir
from continuum.store.tables import customers, interactions
from tests.newcomer.conftest import Loop, cli, edit


def test_the_companys_own_post_replayed_is_the_company_speaking(loop: Loop, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "hub"
    shutil.copytree(mappings_dir(), folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    edit(folder / "discourse.post.yaml", "max_length: 65536", "max_length: 60")  # too strict for the answer
    monkeypatch.setenv("CONTINUUM_CONFIG", str(folder / "continuum.yaml"))
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("ann", "Ann", None)
    topic, _ = loop.discourse.create_topic("ann", "support", "Invoices", "Where are my invoices?")
    loop.discourse.reply(SIM_API_USERNAME, topic, "Hi Ann, invoices are under Settings > Billing > History, "
                                                  "one PDF per month.")
    assert cli("sync").exit_code == 6  # the company's answer is too long for the strict mapping
    edit(folder / "discourse.post.yaml", "max_length: 60", "max_length: 65536")
    result = cli("replay")
    assert "replayed=1" in result.output, result.output
    with loop.db.connect() as conn:
        rows = {r.text[:5]: r for r in conn.execute(select(interactions))}
        people = conn.execute(select(customers.c.display_name)).scalars().all()
    answer = rows["Hi An"]
    assert answer.direction == "outbound" and answer.customer_id is None  # the company, nobody's customer
    assert people == ["Ann"]
    assert cli("sync").exit_code == 0
    with loop.db.connect() as conn:
        question = conn.execute(select(interactions).where(interactions.c.id == rows["Where"].id)).one()
    assert question.answered_at is not None  # the company's answer on the channel stopped the clock
    assert loop.jira.issues() == []  # and nothing of it went to Jira as a customer's follow-up
